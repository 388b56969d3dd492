"""Alembic migrations of the CME desk's tables (version table `desk_alembic_version`)."""
