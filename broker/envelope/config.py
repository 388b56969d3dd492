"""Limits and windows shared by sealing and opening."""

from dataclasses import dataclass
from datetime import timedelta

MAX_ENVELOPE_BYTES = 256 * 1024
"""Documented size limit of a whole envelope (JSON text), see docs/wire-format.md."""


@dataclass(frozen=True)
class EnvelopeConfig:
    """Size limit, clock skew tolerance and message lifetimes."""

    max_bytes: int = MAX_ENVELOPE_BYTES
    clock_skew: timedelta = timedelta(minutes=5)
    default_lifetime: timedelta = timedelta(days=14)
    max_lifetime: timedelta = timedelta(days=30)
