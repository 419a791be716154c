"""The advisor's settings: environment variables prefixed TIENDA_ADVISOR_."""

from datetime import date, time

from pydantic import BaseModel, EmailStr, Field, field_validator
from pydantic_settings import SettingsConfigDict

from tienda.messaging.settings import WorkerSettings


class RosterEntry(BaseModel):
    """One post-sales executive of the rotation."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class AdvisorSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="TIENDA_ADVISOR_", extra="ignore")

    http_port: int = 8083
    executives: list[RosterEntry] = Field(
        default_factory=list,
        description='The rotation of post-sales executives, JSON: [{"id": "ej-paula", "name": "Paula Fuentes", '
        '"email": "paula.fuentes@example.cl"}]; an account without an executive gets the least loaded.',
    )
    first_response_business_hours: float = Field(
        default=8.0, gt=0, le=400, description="Business hours for the executive's first response to a request."
    )
    follow_up_business_hours: float = Field(
        default=16.0, gt=0, le=400, description="Business hours a follow-up is due in."
    )
    business_day_opens: time = Field(default=time(9), description="Local time (America/Santiago) business opens.")
    business_day_closes: time = Field(default=time(18), description="Local time business closes.")
    extra_holidays: list[date] = Field(
        default_factory=list,
        description="Days off beyond weekends and Chile's public holidays (holidays package), e.g. an election day.",
    )
    overdue_check_seconds: float = Field(default=60.0, gt=0, description="How often overdue requests are looked for.")

    @field_validator("executives")
    @classmethod
    def _unique_ids(cls, roster: list[RosterEntry]) -> list[RosterEntry]:
        ids = [entry.id for entry in roster]
        repeated = sorted({executive_id for executive_id in ids if ids.count(executive_id) > 1})
        if repeated:
            raise ValueError(f"executive ids must be unique: {', '.join(repeated)} repeated")
        return roster
