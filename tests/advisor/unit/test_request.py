"""A commercial request as the domain keeps it: its status moves by the lifecycle, the first change is
the first response, the CRM moves it while it is in the queue, and the executive may correct the triage."""

from datetime import UTC, datetime, timedelta

from tienda.advisor.domain.lifecycle import Status
from tienda.advisor.domain.request import CommercialRequest, Contact, Judgement, Redirect, Requester
from tienda.advisor.domain.support_model import Decision

SUBMITTED = datetime(2026, 3, 16, 13, 0, tzinfo=UTC)
DUE = SUBMITTED + timedelta(hours=8)
LATER = SUBMITTED + timedelta(hours=2)
TO_SUPPORT = Redirect("executive_correction", "no me deja emitir", "Escríbenos en el Chat de Soporte…")


def demo(status: Status = Status.OPEN, **changes: object) -> CommercialRequest:
    request = CommercialRequest(
        account_id="acc-ferreteria-rojas",
        request_id="sol-1",
        kind="demo",
        text="¿Nos muestran el módulo de Inventario?",
        requested_by=Requester("u-camila", "Camila Rojas", "camila.rojas@ferreteria-rojas.cl"),
        contact=Contact("phone", "+56 9 8765 4321", "mañanas"),
        submitted_at=SUBMITTED,
        status=status,
        updated_at=SUBMITTED,
        executive_id="ej-paula",
        first_response_due_at=DUE,
    )
    for name, value in changes.items():
        setattr(request, name, value)
    return request


def test_the_first_status_change_is_the_first_response_and_later_ones_keep_it():
    request = demo()
    assert request.change_status(Status.IN_PROGRESS, "ej-paula", LATER)
    assert request.change_status(Status.RESOLVED, "ej-paula", LATER + timedelta(days=1))
    assert (request.status, request.first_response_at, request.updated_at) == (
        Status.RESOLVED,
        LATER,
        LATER + timedelta(days=1),
    )


def test_a_change_the_lifecycle_forbids_changes_nothing():
    request = demo(Status.CLOSED)
    assert not request.change_status(Status.IN_PROGRESS, "ej-paula", LATER)
    assert (request.status, request.first_response_at, request.updated_at) == (Status.CLOSED, None, SUBMITTED)


def test_a_request_waiting_for_an_executive_gets_the_one_who_answers():
    request = demo(executive_id=None)
    request.change_status(Status.IN_PROGRESS, "ej-matias", LATER)
    assert request.executive_id == "ej-matias"


def test_only_a_request_in_the_queue_moves_to_another_executive():
    assert demo().assign_to("ej-ignacio", LATER)
    assert not demo(executive_id="ej-ignacio").assign_to("ej-ignacio", LATER)
    resolved = demo(Status.RESOLVED)
    assert not resolved.assign_to("ej-ignacio", LATER)
    assert resolved.executive_id == "ej-paula"


def test_overdue_only_in_the_queue_without_a_response_past_its_due_time():
    after = DUE + timedelta(minutes=1)
    assert demo().is_overdue(after)
    assert not demo().is_overdue(DUE - timedelta(minutes=1))
    assert not demo(first_response_at=LATER).is_overdue(after)
    assert not demo(Status.REDIRECTED).is_overdue(after)


def test_the_executive_sends_an_open_request_to_support():
    request = demo()
    assert request.redirect_to_support(TO_SUPPORT, LATER)
    assert (request.status, request.redirect, request.first_response_at) == (Status.REDIRECTED, TO_SUPPORT, LATER)
    assert not request.is_overdue(DUE + timedelta(days=1))


def test_a_resolved_or_redirected_request_is_not_sent_to_support_again():
    for status in (Status.RESOLVED, Status.CLOSED, Status.REDIRECTED):
        request = demo(status)
        assert not request.redirect_to_support(TO_SUPPORT, LATER)
        assert request.status is status


def test_a_redirected_request_reclassified_commercial_is_open_again_with_a_new_due_time():
    request = demo(Status.REDIRECTED, executive_id=None, first_response_due_at=None, redirect=TO_SUPPORT)
    request.first_response_at = SUBMITTED
    new_due = LATER + timedelta(hours=8)
    assert request.reclassify_commercial("ej-paula", new_due, LATER)
    assert (request.status, request.executive_id, request.first_response_due_at, request.first_response_at) == (
        Status.OPEN,
        "ej-paula",
        new_due,
        None,
    )
    assert request.redirect == TO_SUPPORT  # what the customer was told once stays on record


def test_only_a_redirected_request_can_be_reclassified_commercial():
    request = demo(Status.IN_PROGRESS)
    assert not request.reclassify_commercial("ej-ignacio", DUE, LATER)
    assert (request.status, request.executive_id) == (Status.IN_PROGRESS, "ej-paula")


def test_the_automatic_decision_is_the_judgement_kept_else_what_the_first_status_says():
    assert demo(judgement=Judgement(Decision.SUPPORT, 0.71)).automatic_decision is Decision.SUPPORT
    assert demo(Status.REDIRECTED, redirect=TO_SUPPORT).automatic_decision is Decision.SUPPORT
    assert demo().automatic_decision is Decision.COMMERCIAL


def test_a_request_judged_before_judgements_were_kept_keeps_its_automatic_decision_through_corrections():
    request = demo()
    request.redirect_to_support(TO_SUPPORT, LATER)
    assert request.judgement == Judgement(Decision.COMMERCIAL, None)
    request.reclassify_commercial("ej-paula", DUE, LATER)
    assert request.automatic_decision is Decision.COMMERCIAL
