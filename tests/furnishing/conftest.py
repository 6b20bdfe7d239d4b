"""Fixtures of the furnishing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openbureau.context import Bureau
from openbureau.governance.members import Member, Role, add_member, get_member


@pytest.fixture
def spilling(settings) -> Iterator[tuple[Bureau, Member]]:
    """A bureau that keeps one key of a file in memory and moves the rest to temporary
    tables (file_keys_in_memory=1), and a furnisher of it."""
    bureau = Bureau.from_settings(settings.model_copy(update={"file_keys_in_memory": 1}))
    with bureau.sessions() as session, session.begin():
        add_member(session, "bank", "Bank", [Role.FURNISHER], "operator:test")
    with bureau.sessions() as session:
        furnisher = get_member(session, "bank")
    yield bureau, furnisher
    bureau.dispose()
