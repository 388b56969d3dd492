"""The message catalogue (DESIGN.md section 6): every type and version, and their migrations."""

from schemas.messages import cme, deletion_return, receipt, safeguarding, school

SPECS = (
    *school.SPECS,
    *deletion_return.SPECS,
    *cme.SPECS,
    *safeguarding.SPECS,
    *receipt.SPECS,
)
MIGRATIONS = (*deletion_return.MIGRATIONS, *receipt.MIGRATIONS)
