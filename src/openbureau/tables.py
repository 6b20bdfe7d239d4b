"""Imports every domain's tables so the shared metadata is complete (for Alembic)."""

from openbureau.db import metadata
from openbureau.files import tables as files_tables
from openbureau.furnishing import tables as furnishing_tables
from openbureau.governance import tables as governance_tables
from openbureau.identity import tables as identity_tables
from openbureau.reports import tables as reports_tables
from openbureau.scoring import tables as scoring_tables

__all__ = [
    "metadata",
    "files_tables",
    "furnishing_tables",
    "governance_tables",
    "identity_tables",
    "reports_tables",
    "scoring_tables",
]
