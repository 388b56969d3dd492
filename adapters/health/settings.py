"""Settings of the health adapter (environment variables, prefix `CME_HEALTH_`).

Choose the source with one of `CME_HEALTH_FHIR_BASE_URL` (a FHIR R4 Patient search endpoint,
https in production) or `CME_HEALTH_PATIENTS_CSV` (a local table); with neither, every enquiry
waits on the work list for a person. The work list's key is `CME_RESPONDER_WORK_KEY`
(`broker.responder.ResponderSettings`).

The lookup runs inside the inbox handler, so its time is bounded: each FHIR request by
`CME_HEALTH_FHIR_TIMEOUT_S`, one enquiry's searches in all by `CME_HEALTH_LOOKUP_BUDGET_S`, and
after a failure the endpoint is left alone for `CME_HEALTH_FHIR_COOLDOWN_S` (enquiries go to the
work list as `source_unavailable` meanwhile).
"""

from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.health.csv_index import CsvPatientIndex
from adapters.health.fhir import FhirConfig, FhirPatientIndex
from adapters.health.ports import PatientIndex
from adapters.health.source import DEFAULT_BUDGET_S
from broker.settings import Environment


class HealthSettings(BaseSettings):
    """Configuration of one health responder (a GP practice, trust or ICB's CME contact)."""

    model_config = SettingsConfigDict(
        env_prefix="CME_HEALTH_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    agency_id: str = Field(
        default="health:M85001", pattern=r"^health:[A-Z0-9]{3,10}$", description="this agency"
    )
    fhir_base_url: str | None = Field(default=None, description="FHIR R4 base URL")
    fhir_timeout_s: float = Field(default=10.0, gt=0, le=60)
    fhir_cooldown_s: float = Field(
        default=60.0, ge=0, le=3600, description="after a failure, no search for this long"
    )
    lookup_budget_s: float = Field(
        default=DEFAULT_BUDGET_S, gt=0, le=120, description="one enquiry's searches in all"
    )
    fhir_bearer_token: SecretStr | None = None
    patients_csv: Path | None = Field(default=None, description="a local patients table")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.fhir_base_url and self.patients_csv:
            raise ValueError("set CME_HEALTH_FHIR_BASE_URL or CME_HEALTH_PATIENTS_CSV, not both")
        if self.fhir_base_url:
            scheme = urlsplit(self.fhir_base_url).scheme
            if self.environment is Environment.PRODUCTION and scheme != "https":
                raise ValueError("CME_HEALTH_FHIR_BASE_URL must be https in production")
            self.fhir_config()  # refuses a URL that is not http(s), early
        return self

    def fhir_config(self) -> FhirConfig:
        """The FHIR client's configuration (only when a base URL is set)."""
        assert self.fhir_base_url is not None
        token = self.fhir_bearer_token.get_secret_value() if self.fhir_bearer_token else None
        return FhirConfig(self.fhir_base_url, self.fhir_timeout_s, token)

    def index(self) -> PatientIndex | None:
        """The configured patient index (reads the CSV now), or None for none."""
        if self.fhir_base_url:
            return FhirPatientIndex(self.fhir_config())
        if self.patients_csv:
            return CsvPatientIndex.from_csv(self.patients_csv)
        return None
