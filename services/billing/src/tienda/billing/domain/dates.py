"""Billing's calendar day: the day in Chile, where documents are dated and renewals fall."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHILE = ZoneInfo("America/Santiago")


def business_date(moment: datetime) -> date:
    """The calendar day in Chile of an aware moment."""
    return moment.astimezone(CHILE).date()
