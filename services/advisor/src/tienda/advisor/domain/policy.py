"""What the advisor is configured with: who rotates, and how long first responses may take."""

from dataclasses import dataclass, field

from tienda.advisor.domain.assignment import Executive
from tienda.advisor.domain.calendar import BusinessCalendar


@dataclass(frozen=True)
class AdvisorPolicy:
    rotation: tuple[Executive, ...] = ()
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    first_response_business_hours: float = 8.0
    follow_up_business_hours: float = 16.0
