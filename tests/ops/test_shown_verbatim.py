"""What operators read in `tail` and `dead-letters list` is what the messages carry: brackets in
a reason or a payload (`[A-Z0-9]`, `[bold]`, `[/x]`) are text, not Rich markup."""

from datetime import UTC, datetime, timedelta

from rich.console import Console

from tienda.messaging.dead_letter_cli import tables
from tienda.messaging.replay import HEADER_PREFIX, DeadLetter
from tienda.ops.cli import tail_line

PATTERN_REASON = (
    "ActivationRequested rejected: payload.lines.0.sku: string should match pattern '^[A-Z0-9][A-Z0-9_-]{1,39}$'"
)


def rendered(*renderables: object) -> str:
    console = Console(width=400, record=True, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return console.export_text()


def test_a_dead_letter_reason_quoting_a_pattern_is_shown_as_written():
    now = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    letter = DeadLetter(
        partition=0,
        offset=5,
        key="acc-[red]rojas",
        value=b"{}",
        headers={
            HEADER_PREFIX + "original-topic": "tienda.activations.requested",
            HEADER_PREFIX + "error-class": "PoisonMessage",
            HEADER_PREFIX + "error-message": PATTERN_REASON,
            HEADER_PREFIX + "attempts": "1",
            HEADER_PREFIX + "dead-lettered-at": (now - timedelta(minutes=20)).isoformat(),
        },
    )

    text = rendered(*tables([letter], "store", now))

    assert f"PoisonMessage: {PATTERN_REASON}" in text
    assert "acc-[red]rojas" in text


def test_a_tailed_payload_with_brackets_is_shown_as_sent():
    document = {
        "occurred_at": "2026-12-03T17:00:00Z",
        "type": "CommercialRequestSubmitted",
        "payload": {"text": "[bold]precio[/bold] [/x] [a-z]"},
    }

    text = rendered(tail_line("acc-rojas", document, b""))

    assert '"text": "[bold]precio[/bold] [/x] [a-z]"' in text


def test_a_tailed_message_that_is_not_json_shows_its_bytes():
    text = rendered(tail_line("acc-rojas", None, b"[/oops] not json"))

    assert "acc-rojas (not JSON) b'[/oops] not json'" in text
