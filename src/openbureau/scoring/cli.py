"""CLI: train, list, promote and monitor scoring models."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli_support import bureau_from_env, console, fail, operator_actor, print_json
from openbureau.scoring.errors import ScoringError
from openbureau.scoring.registry import list_models, promote

model_app = typer.Typer(
    help="Train, validate, promote and monitor scoring models.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@model_app.command("train")
def train(
    observation: Annotated[str, typer.Option(help="Observation month, YYYY-MM")],
    performance_months: Annotated[int, typer.Option(help="Outcome window after it, months")],
    bad: Annotated[str, typer.Option(help='Bad definition, e.g. "worst_status>=past_due_90"')],
    json_out: JsonOpt = False,
) -> None:
    """Train a scorecard from the bureau's own history; writes its JSON and HTML report.

    The new model is registered but not active: promote it with `openbureau model promote`.
    """
    from openbureau.scoring.service import train_from_bureau

    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin(), console.status("training"):
            trained = train_from_bureau(
                bureau,
                session,
                observation,
                operator_actor(),
                performance_months=performance_months,
                bad_definition=bad,
            )
    except ScoringError as exc:
        fail(str(exc))
    result = {
        "version": trained.version,
        "model": str(trained.model_path),
        "report": str(trained.report_path),
        "subjects": trained.subjects,
        "bad_rate": trained.bad_rate,
    }
    if json_out:
        print_json(result)
    else:
        console.print(
            f"trained [bold]{trained.version}[/bold] on {trained.subjects:,} subjects "
            f"(bad rate {trained.bad_rate:.1%})"
        )
        console.print(f"model {trained.model_path}\nvalidation report {trained.report_path}")


@model_app.command("promote")
def promote_cmd(
    version: Annotated[str, typer.Argument(help="Model version to make active")],
) -> None:
    """Make a model active; the previous one stays registered for rollback."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            previous = promote(session, version, operator_actor())
    except ScoringError as exc:
        fail(str(exc))
    console.print(f"active model: {version}" + (f" (was {previous})" if previous else ""))


@model_app.command("list")
def list_cmd(json_out: JsonOpt = False) -> None:
    """List registered models, the active one marked."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        models = list_models(session)
    if json_out:
        print_json(models)
        return
    table = Table("version", "created", "active", "subjects", "bad rate", "report")
    for m in models:
        t = m["training"]
        table.add_row(
            m["version"],
            m["created_at"][:19],
            "yes" if m["active"] else "",
            f"{t.get('subjects', 0):,}",
            f"{t.get('bad_rate', 0):.1%}",
            m["report"] or "",
        )
    console.print(table)


@model_app.command("monitor")
def monitor_cmd(json_out: JsonOpt = False) -> None:
    """PSI by month for the active model's score and each of its attributes."""
    from openbureau.scoring.service import monitor_active

    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session:
            frame = monitor_active(session)
    except ScoringError as exc:
        fail(str(exc))
    if json_out:
        print_json(frame.to_dicts())
        return
    wide = frame.pivot(on="month", index="variable", values="psi").sort("variable")
    table = Table("variable", *wide.columns[1:], title="PSI by month (>0.25 = shift)")
    for row in wide.iter_rows():
        table.add_row(row[0], *[f"{v:.3f}" if v is not None else "" for v in row[1:]])
    console.print(table)


@model_app.command("score-all")
def score_all_cmd(json_out: JsonOpt = False) -> None:
    """Score every subject with the active model in batch and store the scores for reports.

    Run it after promoting a model and after loads; a report whose file changed since is
    scored online instead, so a stored score is never served stale.
    """
    from openbureau.scoring.precompute import score_all

    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin(), console.status("scoring"):
            count = score_all(session)
    except ScoringError as exc:
        fail(str(exc))
    if json_out:
        print_json({"scored_subjects": count})
    else:
        console.print(f"scored {count:,} subjects")
