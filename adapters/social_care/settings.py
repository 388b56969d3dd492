"""Settings of the children's social care adapter (environment variables, prefix
`CME_SOCIAL_CARE_`).

Choose the source with `CME_SOCIAL_CARE_RECORDS_CSV` (an export of the case management
system), or `CME_SOCIAL_CARE_RECORDS_DATABASE_URL` with `CME_SOCIAL_CARE_RECORDS_TABLE`; with
neither, every enquiry waits on the work list for a person.
"""

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.social_care.ports import SocialCareRecords
from adapters.social_care.table import TableSocialCareRecords


class SocialCareSettings(BaseSettings):
    """Configuration of one LA's children's social care (its front door)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_SOCIAL_CARE_", extra="ignore", hide_input_in_errors=True
    )

    agency_id: str = Field(
        default="social_care:330", pattern=r"^social_care:[0-9]{3}$", description="this agency"
    )
    records_csv: Path | None = None
    records_database_url: SecretStr | None = None
    records_table: str | None = None
    escalation_days: int = Field(
        default=1, ge=0, le=5, description="days to take on an escalation not needing same day"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.records_database_url is None) != (self.records_table is None):
            raise ValueError("the records database URL and table are set together")
        if self.records_csv and self.records_table:
            raise ValueError("set a records CSV or a records table, not both")
        return self

    def records(self) -> SocialCareRecords | None:
        """The configured records (read now), or None for none."""
        if self.records_csv:
            return TableSocialCareRecords.from_csv(self.records_csv)
        if self.records_database_url and self.records_table:
            url = self.records_database_url.get_secret_value()
            return TableSocialCareRecords.from_sql(url, self.records_table)
        return None
