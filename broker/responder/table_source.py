"""Where a responder's records come from: a CSV export, or an SQL table with the same
columns (settings shared by the table-backed responders)."""

from collections.abc import Callable
from pathlib import Path
from typing import Self, TypeVar

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings

T = TypeVar("T")


class TableSourceSettings(BaseSettings):
    """`records_csv`, or `records_database_url` with `records_table`; with neither, every
    enquiry waits on the work list for a person. Subclasses set their own env prefix."""

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

    def read_records(
        self, from_csv: Callable[[Path], T], from_sql: Callable[[str, str], T]
    ) -> T | None:
        """The configured records, read now with the responder's readers; None for none."""
        if self.records_csv:
            return from_csv(self.records_csv)
        if self.records_database_url and self.records_table:
            return from_sql(self.records_database_url.get_secret_value(), self.records_table)
        return None
