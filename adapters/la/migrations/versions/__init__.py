"""Revisions of the CME desk's schema."""
