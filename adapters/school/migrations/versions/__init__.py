"""Revisions of the school adapter's schema."""
