"""Alembic migrations of the school adapter's tables (version table `school_alembic_version`)."""
