"""Mis datos de pago: the accepted versions of an account's billing data, and every submission's decision."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tienda.billing.adapters.rows import Person, first_row, person_columns
from tienda.billing.adapters.tables import billing_data, billing_data_submissions
from tienda.billing.domain.billing_data import BillingData, Problem


@dataclass(frozen=True)
class BillingDataVersion:
    version: int
    data: BillingData


def _version_of(row: RowMapping) -> BillingDataVersion:
    data = BillingData(
        legal_name=row["legal_name"],
        rut=row["rut"],
        business_activity=row["business_activity"],
        address=row["address"],
        comuna=row["comuna"],
        city=row["city"],
        billing_email=row["billing_email"],
    )
    return BillingDataVersion(row["version"], data)


async def current_billing_data(session: AsyncSession, account_id: str) -> BillingDataVersion | None:
    """The latest accepted version, or None if the account never gave valid billing data."""
    latest = (
        select(billing_data)
        .where(billing_data.c.account_id == account_id)
        .order_by(billing_data.c.version.desc())
        .limit(1)
    )
    row = await first_row(session, latest)
    return _version_of(row) if row else None


_LATEST_OF = (
    select(billing_data.c.account_id, func.max(billing_data.c.version).label("version"))
    .where(billing_data.c.account_id.in_(bindparam("account_ids", expanding=True)))
    .group_by(billing_data.c.account_id)
    .subquery()
)
_CURRENT_OF = select(billing_data).join(
    _LATEST_OF,
    (billing_data.c.account_id == _LATEST_OF.c.account_id) & (billing_data.c.version == _LATEST_OF.c.version),
)
"""Built once (SQLAlchemy reuses its compiled form), the accounts bound at each call."""


async def current_billing_data_of(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, BillingDataVersion]:
    """The latest accepted version of each of these accounts that has one, in one query."""
    if not account_ids:
        return {}
    rows = await session.execute(_CURRENT_OF, {"account_ids": list(account_ids)})
    return {row["account_id"]: _version_of(row) for row in rows.mappings()}


async def submission_decided(session: AsyncSession, account_id: str, submission_id: str) -> bool:
    found = await session.scalar(
        select(billing_data_submissions.c.submission_id).where(
            billing_data_submissions.c.account_id == account_id,
            billing_data_submissions.c.submission_id == submission_id,
        )
    )
    return found is not None


async def add_billing_data(
    session: AsyncSession, account_id: str, version: BillingDataVersion, submission_id: str, who: Person, now: datetime
) -> None:
    data = version.data
    await session.execute(
        insert(billing_data).values(
            account_id=account_id,
            version=version.version,
            legal_name=data.legal_name,
            rut=data.rut,
            business_activity=data.business_activity,
            address=data.address,
            comuna=data.comuna,
            city=data.city,
            billing_email=data.billing_email,
            submission_id=submission_id,
            **person_columns("submitted_by", who),
            accepted_at=now,
        )
    )


async def add_submission(
    session: AsyncSession,
    account_id: str,
    submission_id: str,
    version: int | None,
    problems: Sequence[Problem],
    now: datetime,
) -> None:
    """The decision on a submission: accepted as ``version``, or rejected for ``problems``."""
    listed = [{"field": problem.field, "message": problem.message} for problem in problems]
    await session.execute(
        insert(billing_data_submissions).values(
            account_id=account_id,
            submission_id=submission_id,
            accepted=version is not None,
            version=version,
            problems=json.dumps(listed, ensure_ascii=False) if listed else None,
            decided_at=now,
        )
    )
