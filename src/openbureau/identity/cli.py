"""CLI: the operator's identity review queue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli_support import bureau_from_env, console, fail, operator_actor, print_json
from openbureau.identity.review import ReviewError, keep_apart, link
from openbureau.identity.store import open_reviews

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
            link(session, bureau.keys, review_id, subject, operator_actor())
    except ReviewError as exc:
        fail(str(exc))
    console.print(f"review {review_id}: linked to subject {subject}")


@review_app.command("keep-apart")
def keep_apart_cmd(review_id: Annotated[int, typer.Argument(help="Review item id")]) -> None:
    """Give the held record a subject of its own."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            subject_id = keep_apart(session, bureau.keys, review_id, operator_actor())
    except ReviewError as exc:
        fail(str(exc))
    console.print(f"review {review_id}: kept apart as subject {subject_id}")
