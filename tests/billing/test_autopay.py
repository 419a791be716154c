"""Card autopay: a payment request when an invoice is issued for an account with a card; retries
on a schedule after a decline (1, 3 and 5 days by default), then the advisor and operations are
told. A card number never enters billing: a message carrying one is dead-lettered unstored."""

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.billing.conftest import (
    card_subscribed,
    card_unsubscribed,
    payloads,
    payment,
    payment_failed,
    uf_published,
)
from tests.samples import CAMILA, as_dict
from tienda.billing.domain.autopay import AutopayState, Step, next_step
from tienda.billing.service_layer.handlers import subscribe_card
from tienda.billing.service_layer.scheduler import SchedulerPolicy
from tienda.contracts.cards import contains_card_number
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages.billing import CardSubscribed
from tienda.messaging.errors import PermanentFailure
from tienda.messaging.processor import Outcome

RENEWAL = date(2027, 2, 28)
TOTAL = 116_620  # the Pyme plan, 2.5 UF at 39,200 + IVA
FIRST_FAILURE = datetime(2027, 2, 28, 9, 0, tzinfo=UTC)
VISA_TEST_PAN = "4111111111111111"


async def invoiced_with_card(billing):
    await billing.deliver(uf_published(RENEWAL, "39200.00"))
    account_id = await billing.customer()
    await billing.deliver(card_subscribed(account_id))
    [renewed] = await billing.renew(RENEWAL)
    return account_id, renewed.invoice_id


async def fail(billing, account_id, invoice_id, at):
    await billing.deliver(payment_failed(account_id, invoice_id, TOTAL, at))


async def requests(billing):
    return payloads(await billing.fresh(), "PaymentRequested")


async def test_an_invoice_issued_for_an_account_with_a_card_asks_the_gateway_to_charge_it(billing):
    _, invoice_id = await invoiced_with_card(billing)
    [request] = await requests(billing)
    assert (request["invoice_id"], request["payment_reference"], request["amount_clp"], request["attempt"]) == (
        invoice_id,
        invoice_id,
        TOTAL,
        1,
    )
    assert (request["token_reference"], request["brand"], request["last_four"]) == ("tok_visa_9f8e7d", "visa", "4242")


async def test_an_account_without_a_card_gets_no_payment_request(billing):
    await billing.deliver(uf_published(RENEWAL, "39200.00"))
    await billing.customer()
    await billing.renew(RENEWAL)
    assert await requests(billing) == []


async def test_a_declined_card_is_retried_after_1_3_and_5_days_then_autopay_gives_up(billing):
    account_id, invoice_id = await invoiced_with_card(billing)
    await billing.fresh()
    await fail(billing, account_id, invoice_id, FIRST_FAILURE)
    attempts = []
    for day in (1, 3, 5):
        await billing.tick(FIRST_FAILURE + timedelta(days=day) - timedelta(minutes=1))
        assert await requests(billing) == [], f"retry before day {day}"
        await billing.tick(FIRST_FAILURE + timedelta(days=day))
        [retry] = await requests(billing)
        attempts.append(retry["attempt"])
        await fail(billing, account_id, invoice_id, FIRST_FAILURE + timedelta(days=day, minutes=5))
    assert attempts == [2, 3, 4]

    await billing.tick(FIRST_FAILURE + timedelta(days=5, hours=1))
    messages = await billing.fresh()
    [gave_up] = payloads(messages, "AutopayFailed")
    [alert] = payloads(messages, "OperationsAlert")
    assert (gave_up["invoice_id"], gave_up["amount_clp"], gave_up["attempts"]) == (invoice_id, TOTAL, 4)
    assert gave_up["last_reason"] == "tarjeta rechazada por el emisor"
    assert (alert["kind"], alert["details"]["invoice_id"]) == ("autopay_exhausted", invoice_id)
    [invoice] = await billing.rows("invoices", invoice_id=invoice_id)
    assert (invoice["status"], invoice["autopay_status"]) == ("pending", "exhausted")
    await billing.tick(FIRST_FAILURE + timedelta(days=30))
    assert payloads(await billing.fresh(), "AutopayFailed") == []


async def test_the_retry_schedule_is_configurable(billing):
    billing.policy = SchedulerPolicy(retry_days=(2,))
    account_id, invoice_id = await invoiced_with_card(billing)
    await billing.fresh()
    await fail(billing, account_id, invoice_id, FIRST_FAILURE)
    await billing.tick(FIRST_FAILURE + timedelta(days=1))
    assert await requests(billing) == []
    await billing.tick(FIRST_FAILURE + timedelta(days=2))
    assert [r["attempt"] for r in await requests(billing)] == [2]
    await fail(billing, account_id, invoice_id, FIRST_FAILURE + timedelta(days=2))
    await billing.tick(FIRST_FAILURE + timedelta(days=2, hours=1))
    assert [p["attempts"] for p in payloads(await billing.fresh(), "AutopayFailed")] == [2]


async def test_a_retry_that_is_paid_settles_the_invoice_and_autopay_stops(billing):
    account_id, invoice_id = await invoiced_with_card(billing)
    await fail(billing, account_id, invoice_id, FIRST_FAILURE)
    await billing.tick(FIRST_FAILURE + timedelta(days=1))
    await billing.deliver(payment(account_id, invoice_id, TOTAL))
    await billing.fresh()
    await billing.tick(FIRST_FAILURE + timedelta(days=10))
    messages = await billing.fresh()
    assert payloads(messages, "PaymentRequested") == payloads(messages, "AutopayFailed") == []
    [invoice] = await billing.rows("invoices", invoice_id=invoice_id)
    assert (invoice["status"], invoice["autopay_status"]) == ("paid", "settled")


async def test_a_card_unsubscribed_before_the_retry_stops_autopay(billing):
    account_id, invoice_id = await invoiced_with_card(billing)
    await fail(billing, account_id, invoice_id, FIRST_FAILURE)
    await billing.deliver(card_unsubscribed(account_id))
    await billing.fresh()
    await billing.tick(FIRST_FAILURE + timedelta(days=1))
    assert await requests(billing) == []
    assert await billing.rows("cards", account_id=account_id) == []


async def test_only_the_token_reference_brand_and_last_four_digits_are_kept(billing):
    account_id = await billing.customer()
    await billing.deliver(card_subscribed(account_id, last_four="1881", token="tok_mc_77aa"))
    [card] = await billing.rows("cards", account_id=account_id)
    assert {k: v for k, v in card.items() if k in ("token_reference", "brand", "last_four")} == {
        "token_reference": "tok_mc_77aa",
        "brand": "visa",
        "last_four": "1881",
    }
    [snapshot] = payloads(await billing.fresh(), "BillingSnapshot")
    assert (snapshot["card"]["brand"], snapshot["card"]["last_four"]) == ("visa", "1881")


def raw_with(envelope, **payload_changes) -> bytes:
    document = as_dict(envelope)
    document["payload"].update(payload_changes)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"token_reference": VISA_TEST_PAN},
        {"token_reference": "4111 1111 1111 1111"},
        {"token_reference": "tok-5555-5555-5555-4444"},
        {"card_number": "378282246310005"},  # a field billing does not even know
        {"notes": {"pan": 4012888888881881}},
    ],
)
async def test_a_card_subscription_carrying_a_card_number_is_dead_lettered_without_storing_it(billing, changes):
    account_id = await billing.customer()
    envelope = card_subscribed(account_id)
    outcome = await billing.h.deliver(raw_with(envelope, **changes), key=account_id.encode())
    assert outcome is Outcome.DEAD_LETTERED
    [dead_letter] = billing.h.dead_letters()
    reason = dead_letter["x-tienda-error-message"]
    assert "card number" in reason
    assert re.search(r"\d{4}", reason) is None  # not even the last four digits
    assert await billing.rows("cards") == []
    assert str(envelope.event_id) not in {row["event_id"] for row in await billing.rows("inbox")}


async def test_the_card_handler_itself_refuses_a_card_number_that_skipped_validation(billing):
    account_id = await billing.customer()
    payload = CardSubscribed.model_construct(
        token_reference=VISA_TEST_PAN, brand="visa", last_four="1111", subscribed_by=CAMILA
    )
    envelope = Envelope[CardSubscribed].model_construct(
        event_id=uuid.uuid4(),
        type="CardSubscribed",
        schema_version=1,
        occurred_at=datetime.now(UTC),
        correlation_id=uuid.uuid4(),
        causation_id=None,
        producer="erp-web",
        account_id=account_id,
        payload=payload,
    )
    async with billing.unit_of_work() as uow:
        with pytest.raises(PermanentFailure) as refused:
            await subscribe_card(envelope, uow)
    assert VISA_TEST_PAN not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("4111111111111111", True),
        ("4111-1111-1111-1111 12/29", True),
        ("pagado con 5555 5555 5555 4444", True),
        ("4111111111111112", False),  # fails the Luhn check
        ("76.086.428-5", False),  # a RUT
        ("+56 9 8765 4321", False),  # a phone number
        ("2027-02-28", False),
        ("12345678901234567890123", False),  # 23 digits: no card number is that long
    ],
)
def test_a_card_number_is_recognised_by_its_length_and_check_digit(text, found):
    assert contains_card_number({"anything": text}) is found


def test_autopay_waits_for_the_attempt_in_flight_and_for_the_retry_day():
    first = datetime(2027, 3, 1, tzinfo=UTC)
    in_flight = AutopayState(attempts=2, failures=1, first_failure_at=first)
    assert next_step(in_flight, (1, 3, 5), first + timedelta(days=30)) is Step.WAIT
    failed_twice = AutopayState(attempts=2, failures=2, first_failure_at=first)
    assert next_step(failed_twice, (1, 3, 5), first + timedelta(days=2)) is Step.WAIT
    assert next_step(failed_twice, (1, 3, 5), first + timedelta(days=3)) is Step.RETRY
    assert next_step(AutopayState(4, 4, first), (1, 3, 5), first) is Step.GIVE_UP
