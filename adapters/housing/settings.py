"""Settings of the housing adapter (environment variables, prefix `CME_HOUSING_`).

Choose the source with `CME_HOUSING_RECORDS_CSV` (an export of the housing system), or
`CME_HOUSING_RECORDS_DATABASE_URL` with `CME_HOUSING_RECORDS_TABLE` (a table with the same
columns); with neither, every enquiry waits on the work list for a person.
"""

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.housing.ports import HousingRecords
from adapters.housing.table import TableHousingRecords


class HousingSettings(BaseSettings):
    """Configuration of one housing responder (an LA housing team or a registered provider)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_HOUSING_", extra="ignore", hide_input_in_errors=True
    )

    agency_id: str = Field(
        default="housing:330-ta", pattern=r"^housing:[A-Za-z0-9-]{1,40}$", description="this agency"
    )
    records_csv: Path | None = None
    records_database_url: SecretStr | None = None
    records_table: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.records_database_url is None) != (self.records_table is None):
            raise ValueError("the records database URL and table are set together")
        if self.records_csv and self.records_table:
            raise ValueError("set a records CSV or a records table, not both")
        return self

    def records(self) -> HousingRecords | None:
        """The configured records (read now), or None for none."""
        if self.records_csv:
            return TableHousingRecords.from_csv(self.records_csv)
        if self.records_database_url and self.records_table:
            url = self.records_database_url.get_secret_value()
            return TableHousingRecords.from_sql(url, self.records_table)
        return None
