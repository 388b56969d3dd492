"""Settings of the LA's CME desk (environment variables with the `CME_DESK_` prefix).

Mirrors `broker.settings`: reading settings does no I/O beyond the environment; development
runs on placeholder keys that production refuses; secrets are `SecretStr` and a rejected value
is never echoed.

Keys (see `adapters.la.protect` for why there are two, not one master key):

* `CME_DESK_FIELD_KEY`: 32 random bytes, base64url: AES-256-GCM for identities and free text.
  `CME_DESK_FIELD_KEY_ID` names it inside every token; after a rotation, move the old key to
  `CME_DESK_RETIRED_FIELD_KEYS` (JSON: `{"k1": "<base64url>"}`) until its values are
  re-encrypted.
* `CME_DESK_INDEX_KEY`: 32 random bytes, base64url: HMAC-SHA256 blind indexes. Changing it
  means recomputing every index, so it does not rotate with the field key.

Generate one with `python -c "from adapters.la.protect import new_key; print(new_key())"`.
"""

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.la.protect import (
    KEY_ID_PATTERN,
    BlindIndex,
    FieldCipher,
    Protector,
    decode_key,
)
from adapters.la.rules.policy import DeskPolicy, EnquiryAgencies, SlaDays
from broker.settings import Environment

# Placeholders (the base64url of readable 32-byte strings): refused in production.
DEV_FIELD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1kZXNrLWZpZWxkLWtleSE"
DEV_INDEX_KEY = "ZGV2ZWxvcG1lbnQtb25seS1kZXNrLWluZGV4LWtleSE"


class DeskSettings(BaseSettings):
    """Configuration of the CME desk. Its tables live in its endpoint's database (the one
    `CME_DATABASE_URL` names, with the agency client's outbox and inbox), so that a message
    and the case change it causes commit in one transaction."""

    # hide_input_in_errors: a bad key must not be printed in the error that rejects it.
    model_config = SettingsConfigDict(
        env_prefix="CME_DESK_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    la_code: str = Field(default="330", pattern=r"^[0-9]{3}$", description="this LA's DfE code")
    health_agency: str = Field(default="health:M85001", description="answers locate enquiries")
    housing_agency: str = Field(default="housing:330-ta", description="answers locate enquiries")
    social_care_agency: str = Field(
        default="social_care:330", description="locate enquiries and safeguarding escalations"
    )
    police_agency: str | None = Field(default=None, description="asked when a risk flag is set")
    areas_file: Path | None = Field(
        default=None, description="CSV prefix,la_code: which LA's area a postcode is in"
    )
    sla_days: int = Field(default=5, ge=1, le=60, description="locate enquiry SLA")
    sla_days_at_risk: int = Field(default=2, ge=1, le=60, description="the SLA with a risk flag")
    sla_days_cross_border: int = Field(default=10, ge=1, le=60)
    field_key: SecretStr = SecretStr(DEV_FIELD_KEY)
    field_key_id: str = Field(default="k1", pattern=KEY_ID_PATTERN)
    retired_field_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="older field keys by id, for decryption only"
    )
    index_key: SecretStr = SecretStr(DEV_INDEX_KEY)
    match_certain: float = Field(
        default=0.90, gt=0, le=1, description="demographic score at or above: same child"
    )
    match_possible: float = Field(
        default=0.60, gt=0, le=1, description="score at or above (below certain): ask a person"
    )

    @field_validator("field_key", "index_key")
    @classmethod
    def _is_a_key(cls, value: SecretStr) -> SecretStr:
        decode_key(value.get_secret_value(), what="the key")
        return value

    @field_validator("retired_field_keys")
    @classmethod
    def _retired_are_keys(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for key in value.values():
            decode_key(key.get_secret_value(), what="a retired field key")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.match_possible >= self.match_certain:
            raise ValueError("CME_DESK_MATCH_POSSIBLE must be below CME_DESK_MATCH_CERTAIN")
        if self.field_key_id in self.retired_field_keys:
            raise ValueError("CME_DESK_FIELD_KEY_ID is also among the retired field keys")
        if self.environment is Environment.PRODUCTION:
            field = self.field_key.get_secret_value()
            index = self.index_key.get_secret_value()
            if field == DEV_FIELD_KEY:
                raise ValueError("CME_DESK_FIELD_KEY must be set to a secret random key")
            if index == DEV_INDEX_KEY:
                raise ValueError("CME_DESK_INDEX_KEY must be set to a secret random key")
            if decode_key(field) == decode_key(index):
                raise ValueError("CME_DESK_FIELD_KEY and CME_DESK_INDEX_KEY must differ")
        return self

    def policy(self) -> DeskPolicy:
        """The rules' view of this LA: who answers its enquiries, and its SLAs."""
        return DeskPolicy(
            la_id=f"la:{self.la_code}",
            agencies=EnquiryAgencies(
                health=self.health_agency,
                housing=self.housing_agency,
                social_care=self.social_care_agency,
                police=self.police_agency,
            ),
            sla=SlaDays(
                standard=self.sla_days,
                at_risk=self.sla_days_at_risk,
                cross_border=self.sla_days_cross_border,
            ),
        )

    def protector(self) -> Protector:
        """The field cipher and blind index built from the configured keys (no I/O)."""
        keys = {
            key_id: decode_key(secret.get_secret_value())
            for key_id, secret in self.retired_field_keys.items()
        }
        keys[self.field_key_id] = decode_key(self.field_key.get_secret_value())
        cipher = FieldCipher(self.field_key_id, keys)
        return Protector(cipher, BlindIndex(decode_key(self.index_key.get_secret_value())))
