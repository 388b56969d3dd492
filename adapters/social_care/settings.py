"""Settings of the children's social care adapter (environment variables, prefix
`CME_SOCIAL_CARE_`).

Choose the source with `CME_SOCIAL_CARE_RECORDS_CSV` (an export of the case management
system), or `CME_SOCIAL_CARE_RECORDS_DATABASE_URL` with `CME_SOCIAL_CARE_RECORDS_TABLE`; with
neither, every enquiry waits on the work list for a person.
"""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from adapters.social_care.ports import SocialCareRecords
from adapters.social_care.table import TableSocialCareRecords
from broker.responder.table_source import TableSourceSettings


class SocialCareSettings(TableSourceSettings):
    """Configuration of one LA's children's social care (its front door)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_SOCIAL_CARE_", extra="ignore", hide_input_in_errors=True
    )

    agency_id: str = Field(
        default="social_care:330", pattern=r"^social_care:[0-9]{3}$", description="this agency"
    )
    escalation_days: int = Field(
        default=1, ge=0, le=5, description="days to take on an escalation not needing same day"
    )

    def records(self) -> SocialCareRecords | None:
        """The configured records (read now), or None for none."""
        return self.read_records(TableSocialCareRecords.from_csv, TableSocialCareRecords.from_sql)
