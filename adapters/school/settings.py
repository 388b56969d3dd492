"""Settings of a school's adapter (environment variables with the `CME_SCHOOL_` prefix).

Mirrors `broker.settings`: reading them does no I/O beyond the environment; development runs
on placeholder keys that production refuses; secrets are `SecretStr` and a rejected value is
never echoed. Which school the adapter speaks for is not a setting: every command names it
(`--as school:LAESTAB`), because one installation may serve several schools of a trust.

Keys (`adapters.school.protect`): `CME_SCHOOL_FIELD_KEY` seals the leaver returns the adapter
holds; `CME_SCHOOL_INDEX_KEY` keys the digests that recognise pupils and events. 32 random
bytes each, base64url: `python -c "from adapters.school.protect import new_key; print(new_key())"`.

The school year (`CME_SCHOOL_YEARS`, JSON): `{"2026": ["2026-09-03", "2027-07-21"]}` gives
the first and last day of the school year starting in 2026 (see `adapters.school.calendar`
for the defaults without it).
"""

from datetime import date
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.school.calendar import SchoolCalendar, SchoolYearDates
from adapters.school.protect import Protector, decode_key
from adapters.school.rules import SchoolPolicy
from broker.settings import Environment
from schemas.agency import check_agency_id, kind_of

DEV_FIELD_KEY = "ZGV2LW9ubHktY21lLXNjaG9vbC1maWVsZC1rZXktMzI"  # placeholders, refused in
DEV_INDEX_KEY = "ZGV2LW9ubHktY21lLXNjaG9vbC1pbmRleC1rZXktMzI"  # production
YEAR_GROUP = r"^(N1|N2|R|[1-9]|1[0-3])$"


class SchoolSettings(BaseSettings):
    """Configuration of a school's adapter. Its tables live in its endpoint's database (the
    one `CME_DATABASE_URL` names, with the agency client's outbox and inbox)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_SCHOOL_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    field_key: SecretStr = SecretStr(DEV_FIELD_KEY)
    index_key: SecretStr = SecretStr(DEV_INDEX_KEY)
    junior_year: str | None = Field(
        default=None, pattern=YEAR_GROUP, description="most junior class (R, 7, N1...)"
    )
    top_year: str | None = Field(default=None, pattern=YEAR_GROUP, description="top year")
    independent: bool = Field(
        default=False, description="an independent school (cites Art 6(1)(ea) where it may)"
    )
    la_wants_junior_returns: bool = Field(
        default=False, description="the LA asked for junior-class new pupil returns too"
    )
    years: dict[int, tuple[date, date]] = Field(
        default_factory=dict, description="school year -> (first day, last day)"
    )
    closures: tuple[date, ...] = Field(default=(), description="days the school is shut")
    destination_wait_days: int = Field(default=3, ge=0, le=30)
    destination_max_wait_days: int = Field(default=10, ge=0, le=60)
    check_grace_days: int = Field(default=2, ge=0, le=30)
    poll_seconds: float = Field(default=10.0, ge=1.0, le=3600.0, description="watch interval")
    sweep_seconds: float = Field(default=3600.0, ge=1.0, le=86400.0)
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)

    @field_validator("field_key", "index_key")
    @classmethod
    def _is_a_key(cls, value: SecretStr) -> SecretStr:
        decode_key(value.get_secret_value(), what="the key")
        return value

    @field_validator("years")
    @classmethod
    def _ordered(cls, value: dict[int, tuple[date, date]]) -> dict[int, tuple[date, date]]:
        for year, (first, last) in value.items():
            if first.year != year or last <= first:
                raise ValueError("a school year starts in its own year and ends after it starts")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.destination_max_wait_days < self.destination_wait_days:
            raise ValueError("CME_SCHOOL_DESTINATION_MAX_WAIT_DAYS is below the wait")
        if self.environment is Environment.PRODUCTION:
            field = self.field_key.get_secret_value()
            index = self.index_key.get_secret_value()
            if DEV_FIELD_KEY in (field, index) or DEV_INDEX_KEY in (field, index):
                raise ValueError("CME_SCHOOL_FIELD_KEY and _INDEX_KEY must be secret random keys")
            if decode_key(field) == decode_key(index):
                raise ValueError("CME_SCHOOL_FIELD_KEY and CME_SCHOOL_INDEX_KEY must differ")
        return self

    def policy(self, school_id: str) -> SchoolPolicy:
        """The rules' view of school `school_id` (`school:LAESTAB`)."""
        check_agency_id(school_id)
        if kind_of(school_id) != "school":
            raise ValueError("the adapter speaks for a school:LAESTAB")
        calendar = SchoolCalendar(
            years={y: SchoolYearDates(first, last) for y, (first, last) in self.years.items()},
            closures=frozenset(self.closures),
        )
        return SchoolPolicy(
            school_id=school_id,
            junior_year=self.junior_year,
            top_year=self.top_year,
            la_wants_junior_returns=self.la_wants_junior_returns,
            independent=self.independent,
            destination_wait_days=self.destination_wait_days,
            destination_max_wait_days=self.destination_max_wait_days,
            check_grace_days=self.check_grace_days,
            calendar=calendar,
        )

    def protector(self) -> Protector:
        """The field cipher and digests from the configured keys (no I/O)."""
        return Protector(
            decode_key(self.field_key.get_secret_value()),
            decode_key(self.index_key.get_secret_value()),
        )
