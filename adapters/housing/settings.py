"""Settings of the housing adapter (environment variables, prefix `CME_HOUSING_`).

Choose the source with `CME_HOUSING_RECORDS_CSV` (an export of the housing system), or
`CME_HOUSING_RECORDS_DATABASE_URL` with `CME_HOUSING_RECORDS_TABLE` (a table with the same
columns); with neither, every enquiry waits on the work list for a person.
"""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from adapters.housing.ports import HousingRecords
from adapters.housing.table import TableHousingRecords
from broker.responder.table_source import TableSourceSettings


class HousingSettings(TableSourceSettings):
    """Configuration of one housing responder (an LA housing team or a registered provider)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_HOUSING_", extra="ignore", hide_input_in_errors=True
    )

    agency_id: str = Field(
        default="housing:330-ta", pattern=r"^housing:[A-Za-z0-9-]{1,40}$", description="this agency"
    )

    def records(self) -> HousingRecords | None:
        """The configured records (read now), or None for none."""
        return self.read_records(TableHousingRecords.from_csv, TableHousingRecords.from_sql)
