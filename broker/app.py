"""The composition root: builds the broker's parts from `Settings`. Nothing else wires."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from joserfc.jwk import OKPKey
from sqlalchemy import Engine

from broker.clock import Clock, utc_now
from broker.db import make_engine, migrate
from broker.directory.keystore import FileKeystore
from broker.directory.model import DirectorySnapshot, KeyDirectory, KeyUse
from broker.directory.store import KeyPolicy, SqlDirectoryStore
from broker.envelope import (
    EnvelopeConfig,
    HeaderVerifier,
    Opener,
    Pseudonymiser,
    RecipientIdentity,
    Sealer,
    SenderIdentity,
    SqlReplayCache,
)
from broker.settings import Settings


@dataclass
class Container:
    """Everything a command needs, built lazily from settings."""

    settings: Settings
    clock: Clock = utc_now

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the newest schema."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.settings.resolved_database_url)
        migrate(engine)
        return engine

    @cached_property
    def keystore(self) -> FileKeystore:
        """This machine's private keys."""
        return FileKeystore(self.settings.resolved_keystore_dir)

    @cached_property
    def directory_store(self) -> SqlDirectoryStore:
        """The directory's system of record."""
        config = self.envelope_config
        policy = KeyPolicy(rotation_overlap=config.max_lifetime + config.clock_skew)
        return SqlDirectoryStore(self.engine, self.keystore, policy, clock=self.clock)

    @cached_property
    def envelope_config(self) -> EnvelopeConfig:
        """Limits from settings."""
        return EnvelopeConfig(
            max_bytes=self.settings.max_envelope_bytes,
            clock_skew=timedelta(seconds=self.settings.clock_skew_seconds),
            max_lifetime=timedelta(seconds=self.settings.max_message_lifetime_seconds),
        )

    @cached_property
    def pseudonymiser(self) -> Pseudonymiser:
        """Subject references under the LA's pseudonym key."""
        return Pseudonymiser(self.settings.pseudonym_key.get_secret_value().encode())

    def snapshot(self) -> DirectorySnapshot:
        """A fresh view of the directory (revocations take effect at once)."""
        return self.directory_store.snapshot()

    def hub_signing_key(self) -> OKPKey:
        """The hub's own signing key (the hub is registered as an agency on first use)."""
        hub_id = self.settings.hub_id
        snapshot = self.snapshot()
        if hub_id not in {a.id for a in snapshot.agencies()}:
            self.directory_store.add_agency(hub_id, "LA hub")
            snapshot = self.snapshot()
        kid = snapshot.current_key(hub_id, KeyUse.SIG, self.clock()).kid
        return self.keystore.load(hub_id, kid)

    def sealer(self, agency_id: str, directory: KeyDirectory | None = None) -> Sealer:
        """A sealer for an agency whose private keys are in this keystore."""
        directory = directory or self.snapshot()
        kid = directory.current_key(agency_id, KeyUse.SIG, self.clock()).kid
        identity = SenderIdentity(agency_id, self.keystore.load(agency_id, kid))
        return Sealer(
            identity, directory, self.pseudonymiser, config=self.envelope_config, clock=self.clock
        )

    def opener(self, agency_id: str, directory: KeyDirectory | None = None) -> Opener:
        """An opener for an agency, with the database replay cache."""
        verifier = HeaderVerifier(
            directory or self.snapshot(), config=self.envelope_config, clock=self.clock
        )
        identity = RecipientIdentity(agency_id, self.keystore.load_all(agency_id))
        return Opener(identity, verifier, SqlReplayCache(self.engine, self.clock))
