"""structlog configuration, done once by the composition root.

A redaction processor runs last before rendering: it replaces any value under a sensitive key
(payloads, keys, child identity fields) and masks anything shaped like a UPN or NHS number in
any string, so a careless log call cannot leak a child's identity.
"""

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "payload", "plaintext", "body", "envelope", "jwe", "jws", "token", "assertion",
        "private_key", "key", "jwk", "d", "secret", "password", "pseudonym_key",
        "child", "forenames", "surname", "former_surnames", "name", "date_of_birth", "dob",
        "upn", "nhs_number", "consistent_identifier", "address", "addresses", "lines",
        "postcode", "phone", "emergency_phone", "parents", "evidence", "details", "note",
    }
)  # fmt: skip
_IDENTIFIER_SHAPES = re.compile(
    r"\b[A-Z][0-9]{11}[0-9A-Z]\b"  # UPN
    r"|\b[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}\b"  # NHS number
)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _IDENTIFIER_SHAPES.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {k: REDACTED if k in SENSITIVE_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop sensitive keys, mask identifier-shaped strings."""
    for key in list(event_dict):
        event_dict[key] = REDACTED if key in SENSITIVE_KEYS else _scrub(event_dict[key])
    return event_dict


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(*, json_output: bool | None = None, level: int = logging.INFO) -> None:
    """Configure structlog: JSON when not a TTY (or when asked), redaction always on."""
    if json_output is None:
        json_output = not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Looked up per logger, not bound once: stderr may be replaced (tests, daemons).
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
