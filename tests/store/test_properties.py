"""Properties of the decisions, over many carts: a bad line always refuses the whole cart and is
always named; an accepted cart adds exactly its units; a scheduled reduction never goes below the plan."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.store.catalogs import SEED, account_on
from tienda.store.domain.activation import CartItem, decide, granted
from tienda.store.domain.plan import Reduction
from tienda.store.domain.reduction import decide_reduction

COUNTABLE = ["USR-EXTRA", "DTE-100", "DTE-500", "TRB-EXTRA", "RSO-EXTRA"]


@st.composite
def carts(draw):
    """A cart of distinct SKUs, each line good or bad on purpose; the positions of the bad ones."""
    skus = draw(st.lists(st.sampled_from([*COUNTABLE, "MOD-REMU"]), min_size=1, max_size=6, unique=True))
    lines, bad = [], set()
    for position, sku in enumerate(skus, start=1):
        product = SEED[sku]
        kind = draw(st.sampled_from(["good", "good", "unknown", "too_many"]))
        if kind == "unknown":
            lines.append(CartItem(f"{sku}-X", 1))
            bad.add(position)
        elif kind == "too_many":
            lines.append(CartItem(sku, product.max_quantity + draw(st.integers(1, 50))))
            bad.add(position)
        else:
            lines.append(CartItem(sku, draw(st.integers(product.min_quantity, product.max_quantity))))
    return lines, bad


@settings(max_examples=300, deadline=None)
@given(carts())
def test_a_cart_is_activated_whole_or_refused_naming_exactly_its_bad_lines(cart_and_bad):
    cart, bad = cart_and_bad
    decision = decide(cart, SEED, account_on())
    assert {refusal.line for refusal in decision.refusals} == bad
    assert decision.accepted is (not bad)
    assert len(decision.activated) == (0 if bad else len(cart))


@settings(max_examples=300, deadline=None)
@given(carts())
def test_an_accepted_cart_grants_exactly_its_units_and_a_refused_one_nothing(cart_and_bad):
    cart, bad = cart_and_bad
    account = account_on(included={"users": 5})
    before = account.quantities()
    account.grant(granted(decide(cart, SEED, account).activated))
    added: dict[str, int] = {}
    for item in [] if bad else cart:
        product = SEED[item.sku]
        added[product.resource] = added.get(product.resource, 0) + item.quantity * product.units_per_quantity
    assert account.quantities() == {
        resource: before.get(resource, 0) + added.get(resource, 0) for resource in before | added
    }


@settings(max_examples=300, deadline=None)
@given(
    included=st.integers(0, 10),
    purchased=st.integers(0, 10),
    removals=st.lists(st.integers(1, 6), min_size=1, max_size=5),
)
def test_scheduled_reductions_never_take_an_account_below_its_plan(included, purchased, removals):
    account = account_on(included={"users": included}, users=purchased)
    bought = {"USR-EXTRA": purchased}
    for quantity in removals:
        decision = decide_reduction([CartItem("USR-EXTRA", quantity)], SEED, SEED, account, bought)
        if decision.accepted:
            account.schedule(Reduction(f"r{quantity}", f"req{quantity}", {}, datetime.now(UTC), decision.items))
            bought["USR-EXTRA"] -= quantity
    assert included <= account.at_next_renewal("users") <= included + purchased
    assert account.quantity("users") == included + purchased
