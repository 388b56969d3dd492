"""The `schemas` package's exception root."""


class SchemaError(Exception):
    """Root of every error raised by `schemas`. `reason` is a stable machine-readable code."""

    reason = "schema_invalid"


class UnknownMessageTypeError(SchemaError):
    """No model is registered for this message type."""

    reason = "unknown_message_type"


class UnknownSchemaVersionError(SchemaError):
    """The message type exists but not at this schema version."""

    reason = "unknown_schema_version"


class LossyDowngradeError(SchemaError):
    """A downgrade would drop information the older version cannot carry."""

    reason = "lossy_downgrade"


class NoMigrationPathError(SchemaError):
    """No chain of upgrade or downgrade functions joins the two versions."""

    reason = "no_migration_path"
