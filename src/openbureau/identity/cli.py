"""CLI: the operator's identity work: the review queue, models, merges and splits."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table
from sqlalchemy import select

from openbureau.cli_support import bureau_from_env, console, fail, operator_actor, print_json
from openbureau.governance.audit import append_event
from openbureau.governance.members import MemberError, get_member
from openbureau.identity.changes import (
    SubjectChangeError,
    merge_subjects,
    rebuild_blocking_keys,
    split_subject,
)
from openbureau.identity.matching import phone_region
from openbureau.identity.model_store import (
    ModelStoreError,
    activate_model,
    list_models,
    register_model,
)
from openbureau.identity.review import ReviewError, keep_apart, link
from openbureau.identity.store import open_reviews
from openbureau.identity.tables import identity_decisions
from openbureau.identity.training import TrainingError, train_from_bureau

review_app = typer.Typer(
    help="Records held for identity review: list, link, keep apart.", no_args_is_help=True
)


@review_app.command("list")
def list_cmd(
    limit: Annotated[int, typer.Option(help="Most items to show")] = 100,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Open review items with the identity as reported and why it was held."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        items = open_reviews(session, bureau.keys, limit)
    if json_out:
        print_json(items)
        return
    table = Table("id", "account", "period", "candidate", "reported identity", "reason")
    for i in items:
        who = i["reported_identity"]
        table.add_row(
            str(i["review_id"]),
            i["account_ref"],
            i["period"],
            str(i["candidate_subject_id"]),
            f"{who['full_name']} {who['date_of_birth']}",
            i["reason"],
        )
    console.print(table)


@review_app.command("link")
def link_cmd(
    review_id: Annotated[int, typer.Argument(help="Review item id")],
    subject: Annotated[int, typer.Option(help="Subject the record belongs to")],
) -> None:
    """Attach the held record to a subject."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            region = phone_region(bureau.settings)
            link(session, bureau.keys, review_id, subject, operator_actor(), region)
    except ReviewError as exc:
        fail(str(exc))
    console.print(f"review {review_id}: linked to subject {subject}")


@review_app.command("keep-apart")
def keep_apart_cmd(review_id: Annotated[int, typer.Argument(help="Review item id")]) -> None:
    """Give the held record a subject of its own."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            subject_id = keep_apart(
                session, bureau.keys, review_id, operator_actor(), phone_region(bureau.settings)
            )
    except ReviewError as exc:
        fail(str(exc))
    console.print(f"review {review_id}: kept apart as subject {subject_id}")


identity_app = typer.Typer(
    help="Identity matching: models, blocking keys, merging and splitting subjects.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ReasonOption = Annotated[str, typer.Option(help="Why, for the audit trail")]


@identity_app.command("train")
def train_cmd(
    sample: Annotated[int, typer.Option(help="Most stored identities to fit on")] = 100_000,
    activate: Annotated[bool, typer.Option(help="Make the new model the active one")] = True,
    json_out: JsonOption = False,
) -> None:
    """Estimate m/u from the bureau's own identities with Splink and store a new version."""
    bureau = bureau_from_env()
    region = phone_region(bureau.settings)
    try:
        with bureau.sessions() as session, session.begin():
            with console.status("fitting the identity model with Splink"):
                model, used = train_from_bureau(session, bureau.keys, region, sample)
            register_model(session, model, used, activate)
            append_event(
                session,
                operator_actor(),
                "identity.model.train",
                {"version": model.version, "identities": used, "activated": activate},
            )
    except (TrainingError, ModelStoreError) as exc:
        fail(str(exc))
    result = {"version": model.version, "identities": used, "active": activate}
    if json_out:
        print_json(result)
        return
    console.print(f"identity model {model.version}: fitted on {used} identities")


@identity_app.command("models")
def models_cmd(json_out: JsonOption = False) -> None:
    """The shipped default and every stored model version; which one is active."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        models = list_models(session)
    if json_out:
        print_json(models)
        return
    table = Table("version", "created", "identities", "active")
    for m in models:
        table.add_row(
            m["version"] + (" (shipped)" if m.get("shipped") else ""),
            m["created_at"] or "",
            str(m["trained_on_identities"] or ""),
            "yes" if m["active"] else "",
        )
    console.print(table)


@identity_app.command("activate")
def activate_cmd(version: Annotated[str, typer.Argument(help="Stored model version")]) -> None:
    """Make a stored model version the one matching uses."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            activate_model(session, version)
            append_event(session, operator_actor(), "identity.model.activate", {"version": version})
    except ModelStoreError as exc:
        fail(str(exc))
    console.print(f"identity model {version} is active")


@identity_app.command("reindex")
def reindex_cmd() -> None:
    """Rebuild every subject's blocking keys from the stored identities."""
    bureau = bureau_from_env()
    region = phone_region(bureau.settings)
    with bureau.sessions() as session, session.begin():
        with console.status("rebuilding blocking keys"):
            count = rebuild_blocking_keys(session, bureau.keys, region)
        append_event(session, operator_actor(), "identity.reindex", {"keys": count})
    console.print(f"{count} blocking keys stored")


@identity_app.command("merge")
def merge_cmd(
    keep: Annotated[int, typer.Argument(help="Subject that stays")],
    absorb: Annotated[int, typer.Argument(help="Subject folded into it; its id redirects")],
    reason: ReasonOption,
    json_out: JsonOption = False,
) -> None:
    """Fold one subject into another (one person found split in two files)."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            result = merge_subjects(session, keep, absorb, operator_actor(), reason)
    except SubjectChangeError as exc:
        fail(str(exc))
    if json_out:
        print_json(result)
        return
    console.print(f"subject {absorb} merged into {result['subject_id']}")


@identity_app.command("split")
def split_cmd(
    subject: Annotated[int, typer.Argument(help="Subject whose file mixes two people")],
    account: Annotated[
        list[str], typer.Option(help="MEMBER:ACCOUNT_REF of an account to move; repeatable")
    ],
    reason: ReasonOption,
    json_out: JsonOption = False,
) -> None:
    """Move accounts that belong to somebody else to a new subject (a mixed file)."""
    bureau = bureau_from_env()
    region = phone_region(bureau.settings)
    try:
        with bureau.sessions() as session, session.begin():
            accounts = [_member_account(session, text) for text in account]
            result = split_subject(
                session, bureau.keys, region, subject, accounts, operator_actor(), reason
            )
    except (SubjectChangeError, MemberError) as exc:
        fail(str(exc))
    if json_out:
        print_json(result)
        return
    console.print(
        f"{len(result['accounts'])} account(s) moved from subject {result['subject_id']} "
        f"to new subject {result['new_subject_id']}"
    )


def _member_account(session, text: str) -> tuple[int, str]:
    code, sep, account_ref = text.partition(":")
    if not sep or not code or not account_ref:
        raise SubjectChangeError(f"account {text!r} must look like MEMBER:ACCOUNT_REF")
    return get_member(session, code).id, account_ref


@identity_app.command("decisions")
def decisions_cmd(
    submission: Annotated[int, typer.Option(help="Submission id")],
    json_out: JsonOption = False,
) -> None:
    """The probabilistic decisions of one submission, each with the fields that agreed and
    their weights (records settled by their national ID are not listed)."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        rows = session.execute(
            select(identity_decisions)
            .where(identity_decisions.c.submission_id == submission)
            .order_by(identity_decisions.c.id)
        ).all()
    decisions = [
        {
            "account_ref": r.account_ref,
            "period": r.period,
            "decision": r.decision,
            "subject_id": r.subject_id,
            "candidate_subject_id": r.candidate_subject_id,
            "match_probability": r.match_probability,
            "model_version": r.model_version,
            "explanation": orjson.loads(r.explanation),
        }
        for r in rows
    ]
    if json_out:
        print_json(decisions)
        return
    table = Table("account", "period", "decision", "candidate", "p", "fields (level, weight)")
    for d in decisions:
        fields = ", ".join(
            f"{f['comparison']} {f['level']} {f['weight']:+.1f}"
            for f in d["explanation"].get("fields", [])
            if f["level"] != "null"
        )
        table.add_row(
            d["account_ref"], d["period"], d["decision"], str(d["candidate_subject_id"]),
            f"{d['match_probability']:.4f}", fields,
        )
    console.print(table)
