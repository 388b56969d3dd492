"""The message catalogue (DESIGN.md section 6): every type and version, and their migrations."""

from schemas.messages import deletion_return, receipt

SPECS = (*deletion_return.SPECS, *receipt.SPECS)
MIGRATIONS = (*deletion_return.MIGRATIONS,)
