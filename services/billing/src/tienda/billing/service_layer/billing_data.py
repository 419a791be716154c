"""Mis datos de pago: a submission is checked, then accepted as a new version or rejected naming each problem."""

from tienda.billing.adapters import repository
from tienda.billing.domain.billing_data import BillingData, normalise, validate
from tienda.billing.service_layer import autopay, documents, views
from tienda.contracts.envelope import Envelope
from tienda.contracts.messages import billing as wire
from tienda.messaging.unit_of_work import UnitOfWork


async def submit_billing_data(envelope: Envelope[wire.BillingDataSubmitted], uow: UnitOfWork) -> None:
    """The same submission id twice is decided once; a rejection leaves the current version in use."""
    submitted, account_id, now = envelope.payload, envelope.account_id, uow.now
    autopay.refuse_card_numbers(submitted)
    if await repository.submission_decided(uow.session, account_id, submitted.submission_id):
        return
    data = BillingData(
        legal_name=submitted.legal_name,
        rut=submitted.rut,
        business_activity=submitted.business_activity,
        address=submitted.address,
        comuna=submitted.comuna,
        city=submitted.city,
        billing_email=submitted.billing_email,
    )
    problems = validate(data)
    if problems:
        listed = [{"field": problem.field, "message": problem.message} for problem in problems]
        await repository.add_submission(uow.session, account_id, submitted.submission_id, None, listed, now)
        await uow.emit(
            wire.BillingDataRejected(
                submission_id=submitted.submission_id,
                submitted_by=submitted.submitted_by,
                problems=[wire.BillingDataProblem.model_validate(problem) for problem in listed],
            ),
            account_id=account_id,
            cause=envelope,
        )
        uow.mark_rejected()
        return
    current = await repository.current_billing_data(uow.session, account_id)
    version = repository.BillingDataVersion((current.version if current else 0) + 1, normalise(data))
    who = submitted.submitted_by.model_dump()
    await repository.add_billing_data(uow.session, account_id, version, submitted.submission_id, who, now)
    await repository.add_submission(uow.session, account_id, submitted.submission_id, version.version, [], now)
    view = documents.billing_data_view(version)
    assert view is not None
    await uow.emit(
        wire.BillingDataAccepted(
            submission_id=submitted.submission_id, submitted_by=submitted.submitted_by, billing_data=view
        ),
        account_id=account_id,
        cause=envelope,
    )
    await views.emit_snapshot(uow, account_id, envelope)
