"""The one settings class (environment variables with the `CME_` prefix).

Reading settings does no I/O beyond the environment: directories are created by the
composition root when something needs them.
"""

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PSEUDONYM_KEY = "development-only-pseudonym-key-change-me"  # placeholder, refused in production


class Environment(StrEnum):
    """Where the broker runs; placeholder secrets are refused outside development."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration for every process of the broker."""

    # hide_input_in_errors: a bad setting must not print the secret it was given.
    model_config = SettingsConfigDict(env_prefix="CME_", extra="ignore", hide_input_in_errors=True)

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data directory"
    )
    rabbitmq_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    keystore_dir: Path | None = Field(
        default=None, description="private keys; default: <data dir>/keystore"
    )
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    hub_id: str = "hub:330"
    topology_prefix: str = Field(default="cme", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    agreements_dir: Path | None = Field(
        default=None, description="data sharing agreements; default: deploy/agreements"
    )
    amqp_trusted_publishers: tuple[str, ...] | None = Field(
        default=None,
        description="AMQP users that may publish for any agency (the HTTPS gateway); "
        "default: guest in development, none in production",
    )
    max_envelope_bytes: int = Field(default=256 * 1024, ge=4096, le=8 * 1024 * 1024)
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    max_message_lifetime_seconds: int = Field(default=30 * 24 * 3600, ge=3600, le=30 * 24 * 3600)
    gateway_audience: str | None = Field(
        default=None,
        description="the `aud` agencies put in their client assertions; default: the hub id",
    )
    gateway_rate_limit: str = Field(
        default="120/minute", description="requests per agency, e.g. 120/minute or 10/second"
    )
    gateway_trust_proxy_cert: bool = Field(
        default=False,
        description="accept a client certificate forwarded by the TLS-terminating proxy in "
        "X-Client-Cert (only behind a proxy that strips the header from clients)",
    )
    gateway_client_ca: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) that issue agencies' client certificates; required "
        "with gateway_trust_proxy_cert",
    )
    gateway_mailbox_agencies: tuple[str, ...] | None = Field(
        default=None,
        description="agencies that poll their messages over HTTPS (JSON list); default: any "
        "agency in development, none in production. Never list one that reads over AMQP",
    )
    gateway_hub_timeout_s: float = Field(
        default=3.0, gt=0, le=30, description="longest the gateway waits for RabbitMQ"
    )

    @model_validator(mode="after")
    def _proxy_certificates_need_their_ca(self) -> Self:
        if self.gateway_trust_proxy_cert and self.gateway_client_ca is None:
            raise ValueError("CME_GATEWAY_TRUST_PROXY_CERT needs CME_GATEWAY_CLIENT_CA")
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            key = self.pseudonym_key.get_secret_value()
            if key == DEV_PSEUDONYM_KEY or len(key) < 32:
                raise ValueError("CME_PSEUDONYM_KEY must be set to a secret of 32+ characters")
            if "guest:guest@" in self.rabbitmq_url.get_secret_value():
                raise ValueError("CME_RABBITMQ_URL must not use the guest account in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cme.db').resolve()}"

    @property
    def resolved_agreements_dir(self) -> Path:
        """The agreements shipped in the source tree unless configured."""
        return self.agreements_dir or Path(__file__).resolve().parents[1] / "deploy" / "agreements"

    @property
    def trusted_publishers(self) -> frozenset[str]:
        """AMQP users trusted to publish on behalf of any agency."""
        if self.amqp_trusted_publishers is not None:
            return frozenset(self.amqp_trusted_publishers)
        return frozenset({"guest"}) if self.environment is Environment.DEVELOPMENT else frozenset()

    @property
    def gateway_mailboxes(self) -> frozenset[str] | None:
        """Agencies the gateway keeps mailboxes for; None: every agency (development)."""
        if self.gateway_mailbox_agencies is not None:
            return frozenset(self.gateway_mailbox_agencies)
        return None if self.environment is Environment.DEVELOPMENT else frozenset()

    @property
    def resolved_gateway_audience(self) -> str:
        """What client assertions must be addressed to."""
        return self.gateway_audience or self.hub_id

    @property
    def resolved_keystore_dir(self) -> Path:
        """Where private keys live (never in the database)."""
        return self.keystore_dir or self.data_dir / "keystore"
