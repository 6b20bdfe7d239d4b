"""CLI: members and keys, the audit log, schema upgrades, deployment keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openbureau.cli_support import (
    bureau_from_env,
    console,
    fail,
    operator_actor,
    print_json,
)
from openbureau.governance.audit import verify_chain
from openbureau.governance.crypto import generate_key_pair_b64
from openbureau.governance.members import (
    MemberError,
    Role,
    add_member,
    issue_key,
    list_keys,
    list_members,
    revoke_key,
)

members_app = typer.Typer(
    help="Manage member institutions and their API keys.", no_args_is_help=True
)
keys_app = typer.Typer(help="Issue, list and revoke members' API keys.", no_args_is_help=True)
members_app.add_typer(keys_app, name="keys")
audit_app = typer.Typer(help="Inspect the tamper-evident audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database schema (Alembic).", no_args_is_help=True)
deploy_keys_app = typer.Typer(help="Deployment encryption keys.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@members_app.command("add")
def members_add(
    code: Annotated[str, typer.Argument(help="Short lowercase member code, e.g. hzbank")],
    name: Annotated[str, typer.Option(help="Institution's name")],
    role: Annotated[list[Role], typer.Option(help="furnisher, subscriber or regulator (repeat)")],
    json_out: JsonOpt = False,
) -> None:
    """Register a member institution with one or more roles."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            member = add_member(session, code, name, role, operator_actor())
    except MemberError as exc:
        fail(str(exc))
    if json_out:
        print_json({"member": member.code, "name": member.name, "roles": sorted(member.roles)})
    else:
        console.print(
            f"added member [bold]{member.code}[/bold] ({', '.join(sorted(member.roles))})"
        )


@members_app.command("list")
def members_list(json_out: JsonOpt = False) -> None:
    """List member institutions and their roles."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        found = list_members(session)
    if json_out:
        print_json([{"member": m.code, "name": m.name, "roles": sorted(m.roles)} for m in found])
        return
    table = Table("code", "name", "roles")
    for m in found:
        table.add_row(m.code, m.name, ", ".join(sorted(m.roles)))
    console.print(table)


@keys_app.command("issue")
def keys_issue(
    member: Annotated[str, typer.Argument(help="Member code")],
    label: Annotated[str, typer.Option(help="What the key is for")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Issue an API key; it is shown once and stored only as a hash."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            issued = issue_key(session, member, operator_actor(), label)
    except MemberError as exc:
        fail(str(exc))
    if json_out:
        print_json(
            {"key_id": issued.key_id, "member": issued.member_code, "api_key": issued.secret_key}
        )
    else:
        console.print(f"key {issued.key_id} for {issued.member_code} (shown once, keep it safe):")
        console.print(issued.secret_key, highlight=False)


@keys_app.command("list")
def keys_list(
    member: Annotated[str | None, typer.Option(help="Only this member's keys")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List API keys (never the secrets)."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        found = list_keys(session, member)
    if json_out:
        print_json(found)
        return
    table = Table("key_id", "member", "prefix", "label", "created", "revoked")
    for k in found:
        table.add_row(
            str(k["key_id"]),
            k["member"],
            k["prefix"],
            k["label"],
            k["created_at"],
            "yes" if k["revoked"] else "no",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Key id from `keys list`")]) -> None:
    """Revoke an API key at once."""
    bureau = bureau_from_env()
    try:
        with bureau.sessions() as session, session.begin():
            revoke_key(session, key_id, operator_actor())
    except MemberError as exc:
        fail(str(exc))
    console.print(f"revoked key {key_id}")


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None, typer.Option(help="Head hash recorded earlier; also catches a cut-off tail")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the hash chain: exit 0 if intact, 1 if any event was changed, removed or reordered."""
    bureau = bureau_from_env()
    with bureau.sessions() as session:
        verdict = verify_chain(session)
    result = verdict.as_dict()
    if verdict.ok and expect_head and expect_head != verdict.head_hash:
        result |= {"ok": False, "problem": "the head differs from the expected one (tail removed?)"}
    if json_out:
        print_json(result)
    elif result["ok"]:
        console.print(f"audit log intact: {verdict.events} events, head {verdict.head_hash}")
    else:
        console.print(f"[red]audit log broken[/red]: {result['problem']}")
    raise typer.Exit(0 if result["ok"] else 1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the schema up to date with Alembic."""
    from openbureau.schema_migrations import current_revision, upgrade

    bureau = bureau_from_env()
    upgrade(bureau.engine, revision)
    console.print(f"schema at revision {current_revision(bureau.engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from openbureau.schema_migrations import current_revision, head_revision

    bureau = bureau_from_env()
    console.print(f"current {current_revision(bureau.engine)}, head {head_revision()}")


@deploy_keys_app.command("generate")
def keys_generate() -> None:
    """Print a fresh pair of deployment keys as environment assignments."""
    for name, value in generate_key_pair_b64().items():
        print(f"{name}={value}")
