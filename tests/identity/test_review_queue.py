"""The identity review queue: held records are listed, linked or kept apart, and audited."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from factories import record, write_jsonl
from openbureau.cli import app
from openbureau.files.tables import tradelines
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import verify_chain
from openbureau.governance.members import Role

runner = CliRunner()
SSN = "536-90-4399"


def _hold_two(bureau, members, tmp_path):
    furnisher, _ = members.add("bank", Role.FURNISHER)
    base = record(
        national_id_type="us_ssn",
        national_id=SSN,
        account_ref="U1",
        full_name="John Smith",
        date_of_birth="1970-01-01",
    )
    clash_a = dict(base, account_ref="U2", full_name="Mary Jones", date_of_birth="1971-02-02")
    clash_b = dict(base, account_ref="U3", full_name="Peter Brown", date_of_birth="1972-03-03")
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "f.jsonl", [base, clash_a, clash_b]), actor="test"
    )
    assert report["held_for_identity_review"] == 2
    return furnisher


def _subject_of(bureau, account_ref):
    with bureau.sessions() as session:
        return session.execute(
            select(tradelines.c.subject_id).where(tradelines.c.account_ref == account_ref)
        ).scalar_one()


def test_review_list_link_and_keep_apart(bureau, members, tmp_path, env_settings):
    furnisher = _hold_two(bureau, members, tmp_path)
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    items = {i["account_ref"]: i for i in json.loads(listed.output)}
    assert set(items) == {"U2", "U3"}
    assert items["U2"]["reported_identity"]["full_name"] == "Mary Jones"
    assert "differ" in items["U2"]["reason"]
    original = _subject_of(bureau, "U1")

    linked = runner.invoke(
        app, ["review", "link", str(items["U2"]["review_id"]), "--subject", str(original)]
    )
    assert linked.exit_code == 0, linked.output
    assert _subject_of(bureau, "U2") == original
    apart = runner.invoke(app, ["review", "keep-apart", str(items["U3"]["review_id"])])
    assert apart.exit_code == 0, apart.output
    separate = _subject_of(bureau, "U3")
    assert separate not in (None, original)

    again = runner.invoke(
        app, ["review", "link", str(items["U2"]["review_id"]), "--subject", str(original)]
    )
    assert again.exit_code == 3 and "already" in again.output
    assert runner.invoke(app, ["review", "link", "999", "--subject", "1"]).exit_code == 3
    assert json.loads(runner.invoke(app, ["review", "list", "--json"]).output) == []

    # Next month the same records arrive again: each keeps the subject the operator chose.
    next_month = [
        record(
            national_id_type="us_ssn",
            national_id=SSN,
            account_ref=ref,
            full_name=name,
            date_of_birth=dob,
            reporting_date="2005-10-31",
        )
        for ref, name, dob in (
            ("U1", "John Smith", "1970-01-01"),
            ("U2", "Mary Jones", "1971-02-02"),
            ("U3", "Peter Brown", "1972-03-03"),
        )
    ]
    report, _ = submit_file(
        bureau, furnisher, write_jsonl(tmp_path / "g.jsonl", next_month), actor="test"
    )
    assert report["held_for_identity_review"] == 0
    with bureau.sessions() as session:
        rows = dict(
            session.execute(
                select(tradelines.c.account_ref, tradelines.c.subject_id).where(
                    tradelines.c.period == "2005-10"
                )
            ).all()
        )
        assert verify_chain(session).ok
    assert rows == {"U1": original, "U2": original, "U3": separate}


def test_review_over_http_needs_the_operator_role(bureau, members, tmp_path, client):
    _hold_two(bureau, members, tmp_path)
    _, staff = members.add("ops", Role.OPERATOR)
    _, lender = members.add("lender", Role.SUBSCRIBER)
    assert (
        client.get("/v1/reviews", headers={"Authorization": f"Bearer {lender}"}).status_code == 403
    )
    auth = {"Authorization": f"Bearer {staff}"}
    items = client.get("/v1/reviews", headers=auth).json()
    assert {i["account_ref"] for i in items} == {"U2", "U3"}
    original = _subject_of(bureau, "U1")
    by_ref = {i["account_ref"]: i["review_id"] for i in items}
    done = client.post(
        f"/v1/reviews/{by_ref['U2']}/link", json={"subject_id": original}, headers=auth
    )
    assert done.status_code == 200 and _subject_of(bureau, "U2") == original
    again = client.post(
        f"/v1/reviews/{by_ref['U2']}/link", json={"subject_id": original}, headers=auth
    )
    assert again.status_code == 409
    apart = client.post(f"/v1/reviews/{by_ref['U3']}/keep-apart", headers=auth)
    assert apart.status_code == 200 and apart.json()["subject_id"] != original
    assert client.post("/v1/reviews/999/keep-apart", headers=auth).status_code == 404
    with bureau.sessions() as session:
        from openbureau.governance.tables import audit_events

        actions = session.execute(select(audit_events.c.action)).scalars().all()
    assert {"review.list", "review.linked", "review.kept_apart"} <= set(actions)
