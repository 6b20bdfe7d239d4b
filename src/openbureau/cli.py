"""The `openbureau` command line."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from openbureau.furnishing.cli import submit
from openbureau.furnishing.metro2.cli import app as metro2_app
from openbureau.governance.cli import audit_app, db_app, deploy_keys_app, members_app
from openbureau.identity.cli import identity_app, review_app
from openbureau.scoring.cli import model_app

app = typer.Typer(
    help="openbureau: a neutral credit bureau. Every command has --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(members_app, name="members")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(model_app, name="model")
app.add_typer(review_app, name="review")
app.add_typer(identity_app, name="identity")
app.add_typer(metro2_app, name="metro2", help="Validate, convert and print Metro 2 files.")
app.add_typer(deploy_keys_app, name="keys")
app.command("submit")(submit)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) with uvicorn."""
    import uvicorn

    from openbureau.cli_support import bureau_from_env
    from openbureau.schema_migrations import current_revision, head_revision

    bureau = bureau_from_env()  # fail fast on bad settings or keys, before forking workers
    if current_revision(bureau.engine) != head_revision():
        typer.echo("the database schema is not current: run `openbureau db upgrade`", err=True)
        raise typer.Exit(3)
    bureau.dispose()
    os.environ.setdefault("OPENBUREAU_JURISDICTION", bureau.settings.jurisdiction)
    uvicorn.run(
        "openbureau.api.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        # A worker imports the whole stack before it answers the supervisor's health check;
        # on a busy host that takes longer than uvicorn's default 5 s, and the supervisor
        # then kills and restarts workers in a loop that never serves.
        timeout_worker_healthcheck=60,
    )


@app.command()
def demo(
    limit: Annotated[int | None, typer.Option(help="Use only the first N dataset rows")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON summary")] = False,
) -> None:
    """Build an embedded bureau from the Taiwan credit-card data and serve sample reports."""
    from openbureau.cli_support import bureau_from_env, console, print_json
    from openbureau.demo.run import print_outcome, run_demo

    bureau = bureau_from_env()
    outcome = run_demo(bureau, console if not json_out else console.__class__(quiet=True), limit)
    if json_out:
        print_json(
            {
                "submissions": outcome.submissions
                and [{k: v for k, v in r.items() if k != "errors"} for r in outcome.submissions],
                "model": outcome.model,
                "inquiries": outcome.inquiries,
                "audit": outcome.audit,
                "keys_file": str(outcome.keys_file),
            }
        )
    else:
        print_outcome(outcome, console)
    raise typer.Exit(0 if outcome.audit["ok"] else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
