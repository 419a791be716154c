"""The rotation is fair: each account without an executive goes to the least loaded one."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from tienda.advisor.domain.assignment import Executive, next_in_rotation

PAULA = Executive("ej-paula", "Paula Fuentes", "paula.fuentes@tienda.cl")
MATIAS = Executive("ej-matias", "Matías Soto", "matias.soto@tienda.cl")
VALENTINA = Executive("ej-valentina", "Valentina Muñoz", "valentina.munoz@tienda.cl")
ROSTER = (PAULA, MATIAS, VALENTINA)


def rotate(rotation, accounts, load=None):
    load = Counter(load or {})
    for _ in range(accounts):
        chosen = next_in_rotation(rotation, load)
        load[chosen.executive_id] += 1
    return load


def test_the_first_accounts_go_round_the_roster_in_order():
    load = Counter()
    chosen = []
    for _ in range(4):
        executive = next_in_rotation(ROSTER, load)
        chosen.append(executive.executive_id)
        load[executive.executive_id] += 1
    assert chosen == ["ej-paula", "ej-matias", "ej-valentina", "ej-paula"]


def test_the_least_loaded_executive_gets_the_next_account():
    assert next_in_rotation(ROSTER, {"ej-paula": 40, "ej-matias": 38, "ej-valentina": 39}) == MATIAS


def test_accounts_the_crm_gave_count_towards_the_load():
    assert rotate(ROSTER, 3, {"ej-paula": 3}) == Counter({"ej-paula": 3, "ej-matias": 2, "ej-valentina": 1})


def test_an_executive_who_joins_the_rotation_receives_accounts_until_level():
    load = rotate((PAULA, MATIAS), 10)
    assert rotate(ROSTER, 5, load) == Counter({"ej-paula": 5, "ej-matias": 5, "ej-valentina": 5})


def test_nobody_in_the_rotation_means_no_executive():
    assert next_in_rotation((), {}) is None


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=300))
def test_the_rotation_never_lets_two_executives_differ_by_more_than_one_account(size, accounts):
    roster = tuple(Executive(f"ej-{n}", f"Ejecutivo {n}", f"ej{n}@tienda.cl") for n in range(size))
    load = rotate(roster, accounts)
    counts = [load[executive.executive_id] for executive in roster]
    assert sum(counts) == accounts
    assert max(counts) - min(counts) <= 1


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=8),
    st.integers(min_value=0, max_value=400),
)
def test_whatever_the_crm_did_the_rotation_only_narrows_the_gap(initial, accounts):
    roster = tuple(Executive(f"ej-{n}", f"Ejecutivo {n}", f"ej{n}@tienda.cl") for n in range(len(initial)))
    before = {executive.executive_id: count for executive, count in zip(roster, initial, strict=True)}
    load = rotate(roster, accounts, before)
    counts = [load[executive.executive_id] for executive in roster]
    assert max(counts) - min(counts) <= max(1, max(initial) - min(initial))
    assert max(counts) == max(initial) or max(counts) - min(counts) <= 1
