"""CLI: submit a furnishing file on a member's behalf."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openbureau.cli_support import (
    EXIT_OK,
    EXIT_REJECTED_FILE,
    EXIT_REJECTED_RECORDS,
    bureau_from_env,
    console,
    err_console,
    fail,
    operator_actor,
    print_json,
)
from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.submit import NotAFurnisher, submit_file
from openbureau.governance.members import MemberError, get_member


def submit(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL, CSV or Parquet")
    ],
    member: Annotated[str, typer.Option(help="Code of the furnishing member")],
    format: Annotated[
        str | None, typer.Option(help="jsonl, csv or parquet (default: detect)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    batch_identity: Annotated[
        bool,
        typer.Option(
            "--batch-identity",
            help="Cluster new identities with Splink on DuckDB first (a furnisher's first load).",
        ),
    ] = False,
) -> None:
    """Load a furnishing file and print its submission report.

    Exit codes: 0 all records loaded, 1 some records rejected, 2 the file was rejected.
    """
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session:
            furnisher = get_member(session, member)
    except MemberError as exc:
        fail(str(exc))
    try:
        with Progress(
            TextColumn("loading {task.description}"),
            BarColumn(),
            TextColumn("{task.completed} records"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=json_out,
        ) as bar:
            task = bar.add_task(file.name, total=None)
            report, replay = submit_file(
                bureau,
                furnisher,
                file,
                actor=operator_actor(),
                declared_format=format,
                progress=lambda done: bar.update(task, completed=done),
                batch_identity=batch_identity,
            )
    except FileRejected as exc:
        if json_out:
            print_json({"file_rejected": True, "rule": exc.rule, "message": exc.message})
        else:
            err_console.print(f"[red]file rejected[/red] ({exc.rule}): {exc.message}")
        raise typer.Exit(EXIT_REJECTED_FILE) from None
    except NotAFurnisher as exc:
        fail(str(exc))
    if json_out:
        print_json(report | {"replay": replay})
    else:
        _print_report(report, replay)
    raise typer.Exit(EXIT_REJECTED_RECORDS if report["rejected"] else EXIT_OK)


def _print_report(report: dict, replay: bool) -> None:
    if replay:
        console.print("[yellow]this file was loaded before; nothing changed[/yellow]")
    console.print(
        f"submission {report['submission_id']}: {report['records']} records, "
        f"[green]{report['accepted']} accepted[/green], [red]{report['rejected']} rejected[/red], "
        f"{report['held_for_identity_review']} held for identity review"
    )
    if report.get("delete_requests"):
        console.print(
            f"{report['delete_requests']} delete requests: "
            f"{report['accounts_deleted']} accounts withdrawn"
        )
    if report["errors"]:
        table = Table("record", "field", "rule", "message")
        for e in report["errors"][:50]:
            table.add_row(str(e["record_no"]), e["field"], e["rule"], e["message"])
        console.print(table)
        if report["errors_total"] > 50:
            console.print(f"... {report['errors_total'] - 50} more; use --json for all")
