"""Settings of the responders' work list (environment variables, prefix `CME_RESPONDER_`).

Mirrors `broker.settings`: reading settings does no I/O beyond the environment; development
runs on a placeholder key that production refuses; keys are `SecretStr` and a rejected value is
never echoed.

* `CME_RESPONDER_WORK_KEY`: 32 random bytes, base64url: AES-256-GCM for the enquiries waiting
  on a work list. `CME_RESPONDER_WORK_KEY_ID` names it inside every token; after a rotation,
  move the old key to `CME_RESPONDER_RETIRED_WORK_KEYS` (JSON: `{"k1": "<base64url>"}`) until
  the items sealed under it are answered.

Generate a key with `python -c "from broker.responder import new_key; print(new_key())"`.
"""

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.responder.cipher import KEY_ID_PATTERN, WorkCipher, decode_key
from broker.settings import Environment

# The base64url of a readable 32-byte string: refused in production.
DEV_WORK_KEY = "ZGV2ZWxvcG1lbnQtb25seS13b3JrLWxpc3Qta2V5ISE"


class ResponderSettings(BaseSettings):
    """Configuration shared by the health, housing and social care responders."""

    # hide_input_in_errors: a bad key must not be printed in the error that rejects it.
    model_config = SettingsConfigDict(
        env_prefix="CME_RESPONDER_", extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Environment.DEVELOPMENT
    work_key: SecretStr = SecretStr(DEV_WORK_KEY)
    work_key_id: str = Field(default="k1", pattern=KEY_ID_PATTERN)
    retired_work_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="older work keys by id, for decryption only"
    )

    @field_validator("work_key")
    @classmethod
    def _is_a_key(cls, value: SecretStr) -> SecretStr:
        decode_key(value.get_secret_value(), what="CME_RESPONDER_WORK_KEY")
        return value

    @field_validator("retired_work_keys")
    @classmethod
    def _retired_are_keys(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for secret in value.values():
            decode_key(secret.get_secret_value(), what="a retired work key")
        return value

    @model_validator(mode="after")
    def _no_placeholder_in_production(self) -> Self:
        placeholder = self.work_key.get_secret_value() == DEV_WORK_KEY
        if self.environment is Environment.PRODUCTION and placeholder:
            raise ValueError("CME_RESPONDER_WORK_KEY must be set to a random key")
        if self.work_key_id in self.retired_work_keys:
            raise ValueError("the current work key id is also listed as retired")
        return self

    def cipher(self) -> WorkCipher:
        """The cipher for work-list payloads: the current key and every retired one."""
        keys = {
            key_id: decode_key(secret.get_secret_value())
            for key_id, secret in self.retired_work_keys.items()
        }
        keys[self.work_key_id] = decode_key(self.work_key.get_secret_value())
        return WorkCipher(self.work_key_id, keys)
