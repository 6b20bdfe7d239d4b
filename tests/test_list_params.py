"""A list bound as one parameter (`db.list_param`) reaches the database intact, whatever the
text holds: quotes, backslashes, commas, braces, spaces, the word NULL, real nulls, Han."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from openbureau.db import in_values, list_param

# PostgreSQL text cannot hold NUL; surrogates are not valid UTF-8.
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
AWKWARD = ['a', 'b,c', 'q"uote', "back\\slash", "{brace}", " sp ", "NULL", "", "中文", '\\"']


def _roundtrip(session, values: list[str]) -> list[str]:
    session.execute(text("DELETE FROM list_param_probe"))
    if values:
        session.execute(
            text("INSERT INTO list_param_probe (n, v) VALUES (:n, :v)"),
            [{"n": n, "v": v} for n, v in enumerate(values)],
        )
    wanted = in_values(session, "v", "wanted")
    rows = session.execute(
        text(f"SELECT v FROM list_param_probe WHERE {wanted} ORDER BY n"),
        {"wanted": list_param(session, values)},
    ).scalars()
    return list(rows)


def test_awkward_text_and_numbers_survive(bureau):
    with bureau.sessions() as session, session.begin():
        session.execute(text("CREATE TEMP TABLE list_param_probe (n integer, v varchar(64))"))
        assert _roundtrip(session, AWKWARD) == AWKWARD
        assert _roundtrip(session, []) == []
        # Only the values asked for come back.
        session.execute(text("INSERT INTO list_param_probe (n, v) VALUES (99, 'other')"))
        numbers = in_values(session, "n", "ns", "integer")
        wanted = session.execute(
            text(f"SELECT n FROM list_param_probe WHERE {numbers}"),
            {"ns": list_param(session, [99, 7])},
        ).scalars()
        assert list(wanted) == [99]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(TEXT, max_size=20, unique=True))
def test_any_text_list_survives(bureau, values):
    with bureau.sessions() as session, session.begin():
        session.execute(
            text("CREATE TEMP TABLE IF NOT EXISTS list_param_probe (n integer, v varchar(64))")
        )
        assert _roundtrip(session, values) == values
