"""The calendar day of the business: the day in Chile. Activations take effect on it, documents
are dated on it, renewals fall on it. One rule for every service."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHILE = ZoneInfo("America/Santiago")


def business_date(moment: datetime) -> date:
    """The calendar day in Chile of an aware moment."""
    return moment.astimezone(CHILE).date()
