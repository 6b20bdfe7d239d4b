"""`openbureau demo`: an embedded bureau built from the real Taiwan credit-card data.

Three furnishers send six monthly files each (April-September 2005): the platform in Metro 2,
its consumers' resident IDs in the openbureau OB segment; the banks in CSV and Parquet. A
state-owned bank that furnishes nothing then asks for reports, and one is printed.
Re-running the demo replays the same files: nothing changes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openbureau.context import Bureau
from openbureau.demo.metro2_files import write_metro2_submission
from openbureau.demo.taiwan import DemoData, build_demo_submissions, write_submission
from openbureau.furnishing.submit import submit_file
from openbureau.governance.audit import append_event, verify_chain
from openbureau.governance.members import MemberError, Role, add_member, get_member, issue_key
from openbureau.reports.inquiry import InquiryIdentity, make_inquiry
from openbureau.schema_migrations import upgrade

ACTOR = "operator:demo"
FORMAT_BY_MEMBER = {"zhifu": "metro2", "hzbank": "csv", "zjrcb": "parquet"}
SUFFIXES = {"metro2": "m2"}
OTHER_MEMBERS = (
    ("zjstatebank", "Zhejiang State-Owned Bank", (Role.SUBSCRIBER,)),
    ("pboc-hz", "PBOC Hangzhou Central Sub-branch", (Role.REGULATOR,)),
)
LENDER = "zjstatebank"


@dataclass
class DemoOutcome:
    submissions: list[dict]
    model: dict
    inquiries: list[dict]
    audit: dict
    keys_file: Path
    identity_model: dict


def run_demo(bureau: Bureau, console: Console, limit: int | None = None) -> DemoOutcome:
    upgrade(bureau.engine)
    with console.status("building the furnishers' files from the Taiwan dataset"):
        data = build_demo_submissions(limit=limit)
    keys_file = _ensure_members(bureau, data)
    files_dir = bureau.settings.data_dir / "demo-files"
    files_dir.mkdir(parents=True, exist_ok=True)
    reports = _furnish(bureau, data, files_dir, console)
    with console.status("fitting the identity model with Splink on the bureau's identities"):
        identity_model = _fit_identity_model(bureau)
    with console.status("training the bureau score (attributes as of Sep 2005)"):
        model = _train_and_promote(bureau, data)
    inquiries = _sample_inquiries(bureau, data)
    with bureau.sessions() as session:
        audit = verify_chain(session).as_dict()
    return DemoOutcome(reports, model, inquiries, audit, keys_file, identity_model)


def _fit_identity_model(bureau: Bureau) -> dict:
    """The bureau's own identity model (m/u by Splink EM), once; a replay keeps it."""
    from openbureau.identity.matching import phone_region
    from openbureau.identity.model_store import default_model, list_models, register_model
    from openbureau.identity.training import TrainingError, train_from_bureau

    with bureau.sessions() as session, session.begin():
        own = [m for m in list_models(session) if m["active"] and not m.get("shipped")]
        if own:
            return {"version": own[0]["version"], "trained_now": False}
        try:
            model, used = train_from_bureau(
                session, bureau.keys, phone_region(bureau.settings), sample=100_000
            )
        except TrainingError as exc:
            # A small slice of the dataset may hold too few people reported twice for EM;
            # matching then runs on the shipped model, as in any new bureau.
            return {"version": default_model().version, "trained_now": False, "kept": str(exc)}
        register_model(session, model, used, activate=True)
        append_event(
            session,
            "operator:demo",
            "identity.model.train",
            {"version": model.version, "identities": used, "activated": True},
        )
    return {"version": model.version, "identities": used, "trained_now": True}


def _subject_labels(session, data: DemoData) -> pl.DataFrame:
    """The dataset's default flag per subject: bad if any of the person's cards defaulted."""
    from sqlalchemy import select

    from openbureau.files.tables import tradelines
    from openbureau.governance.tables import members

    rows = session.execute(
        select(members.c.code, tradelines.c.account_ref, tradelines.c.subject_id)
        .distinct()
        .join(members, members.c.id == tradelines.c.member_id)
        .where(tradelines.c.subject_id.is_not(None))
    ).all()
    linked = pl.DataFrame(
        rows,
        schema={"member_code": pl.Utf8, "account_ref": pl.Utf8, "subject_id": pl.Int64},
        orient="row",
    )
    return (
        linked.join(data.accounts, on=["member_code", "account_ref"])
        .group_by("subject_id")
        .agg(pl.col("default_next_month").max().cast(pl.Int64).alias("label"))
    )


def _train_and_promote(bureau: Bureau, data: DemoData) -> dict:
    """Trains on the furnished history with the dataset's label, once, and promotes it."""
    from openbureau.scoring.precompute import score_all
    from openbureau.scoring.registry import list_models, promote
    from openbureau.scoring.service import train_from_bureau

    with bureau.sessions() as session, session.begin():
        existing = [m for m in list_models(session) if m["active"]]
        if existing:
            model = existing[0]
            return {
                "version": model["version"],
                "report": model["report"],
                "subjects": model["training"].get("subjects", 0),
                "bad_rate": model["training"].get("bad_rate"),
                "trained_now": False,
            }
        trained = train_from_bureau(
            bureau,
            session,
            data.submissions[-1].period,
            ACTOR,
            labels=_subject_labels(session, data),
        )
        promote(session, trained.version, ACTOR)
    with bureau.sessions() as session, session.begin():
        scored = score_all(session)
    return {
        "scored_subjects": scored,
        "version": trained.version,
        "report": str(trained.report_path),
        "subjects": trained.subjects,
        "bad_rate": trained.bad_rate,
        "trained_now": True,
    }


def _ensure_members(bureau: Bureau, data: DemoData) -> Path:
    wanted = [(f.code, f.name, tuple(Role(r) for r in f.roles)) for f in data.furnishers]
    wanted += list(OTHER_MEMBERS)
    keys_file = bureau.settings.data_dir / "demo-keys.json"
    keys: dict[str, str] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    with bureau.sessions() as session, session.begin():
        for code, name, roles in wanted:
            try:
                get_member(session, code)
            except MemberError:
                add_member(session, code, name, list(roles), ACTOR)
            if code not in keys:
                keys[code] = issue_key(session, code, ACTOR, label="demo").secret_key
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh, indent=2)
    return keys_file


def _furnish(bureau: Bureau, data: DemoData, folder: Path, console: Console) -> list[dict]:
    ordered = sorted(data.submissions, key=lambda s: (s.period, s.member_code))
    total = sum(s.records.height for s in ordered)
    reports = []
    with Progress(
        TextColumn("[bold]furnishing[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("", total=total)
        for sub in ordered:
            fmt = FORMAT_BY_MEMBER.get(sub.member_code, "jsonl")
            path = folder / f"{sub.member_code}-{sub.period}.{SUFFIXES.get(fmt, fmt)}"
            if fmt == "metro2":
                furnisher = next(f for f in data.furnishers if f.code == sub.member_code)
                write_metro2_submission(
                    sub.records,
                    data.persons,
                    path,
                    reporter_name=furnisher.name,
                    identification_number=f"{furnisher.code.upper()}0001",
                )
            else:
                write_submission(sub.records, path, fmt)
            bar.update(task, description=f"{sub.member_code} {sub.period} ({fmt})")
            with bureau.sessions() as session:
                member = get_member(session, sub.member_code)
            report, replay = submit_file(bureau, member, path, actor=ACTOR)
            reports.append(report | {"replay": replay, "period": sub.period})
            bar.advance(task, sub.records.height)
    return reports


def _sample_people(data: DemoData) -> pl.DataFrame:
    """A person with accounts at two furnishers, the most delinquent one, and one more."""
    counts = data.accounts.group_by("person_id").agg(pl.len().alias("accounts"))
    shared = counts.filter(pl.col("accounts") > 1)["person_id"].sort().head(1)
    sept = data.all_records().filter(pl.col("period") == data.submissions[-1].period)
    worst = (
        sept.sort(["amount_past_due", "account_ref"], descending=[True, False])
        .join(data.accounts.select("account_ref", "person_id"), on="account_ref")["person_id"]
        .head(1)
    )
    first = data.persons["person_id"].sort().head(1)
    ids = pl.concat([shared, worst, first]).unique(maintain_order=True)
    return data.persons.filter(pl.col("person_id").is_in(ids.implode()))


def _sample_inquiries(bureau: Bureau, data: DemoData) -> list[dict]:
    people = _sample_people(data)
    identities = [
        InquiryIdentity(p["name_zh"], "cn_ric", p["national_id"], p["date_of_birth"])
        for p in people.iter_rows(named=True)
    ]
    # Somebody the bureau has never heard of: the answer must be "no hit".
    identities.append(InquiryIdentity("王小明", "cn_ric", "11010519491231002X", None))
    results = []
    for identity in identities:
        with bureau.sessions() as session:
            lender = get_member(session, LENDER)
            report = make_inquiry(
                bureau, session, lender, identity, "loan_approval", "DEMO-CONSENT-2005-10"
            )
            session.commit()
        results.append(report)
    return results


def print_report(report: dict, console: Console) -> None:
    if report["result"] != "hit":
        console.print(Panel(report["message"], title="no hit", border_style="yellow"))
        return
    subject = report["subject"]
    inquiry = report["inquiry"]
    console.print(
        Panel(
            f"[bold]{' / '.join(subject['names'])}[/bold]   "
            f"born {', '.join(subject['dates_of_birth'])}\n"
            f"ID {', '.join(i['masked'] for i in subject['national_ids'])}   "
            f"{'; '.join(subject['addresses'][:2])}\n"
            f"report {report['report_id']} for [bold]{inquiry['member']}[/bold], purpose "
            f"{inquiry['purpose']} ({'hard' if inquiry['hard'] else 'soft'}), consent "
            f"{inquiry['consent_reference']}",
            title=f"credit report · subject {subject['subject_id']}",
        )
    )
    table = Table("#", "from", "type", "opened", "limit", "balance", "past due", "status")
    for n, account in enumerate(report["accounts"], 1):
        table.add_row(
            str(n),
            "you" if account["furnisher"] == "you" else "other",
            account["account_type"],
            account["date_opened"],
            f"{account['credit_limit'] or account['original_amount'] or 0:,}",
            f"{account['current_balance']:,}",
            f"{account['amount_past_due']:,}",
            account["account_status"],
        )
    console.print(table)
    for n, account in enumerate(report["accounts"], 1):
        months = account["history"]
        codes = "".join(m["code"] for m in months)
        console.print(
            f"  #{n} history {months[0]['period']} back to {months[-1]['period']}: {codes}"
        )
    score = report.get("score") or {}
    if score.get("available"):
        reasons = "; ".join(f"{r['code']} {r['text']}" for r in score["reasons"])
        console.print(
            f"[bold]score {score['score']}[/bold] ({score['band']}, model {score['model_version']})"
            f"  key factors: {reasons}"
        )
    else:
        console.print(f"no score: {score.get('reason', 'no scoring model')}")
    summary = report["summary"]
    console.print(
        f"summary: {summary['accounts_total']} accounts, {summary['delinquent_accounts']} "
        f"delinquent, balance {summary['total_balance']:,}, past due "
        f"{summary['total_past_due']:,}, worst in 24 months "
        f"{summary['worst_delinquency_24m_days']} days, hard inquiries (24 months) "
        f"{summary['hard_inquiries_24m']}"
    )


def print_outcome(outcome: DemoOutcome, console: Console) -> None:
    table = Table(
        "period",
        "member",
        "fmt",
        "records",
        "rejected",
        "new",
        "matched",
        "review",
        title="submissions (new/matched subjects, held for identity review)",
    )
    for r in outcome.submissions:
        table.add_row(
            r["period"],
            r["member"],
            r["format"],
            f"{r['records']:,}",
            f"{r['rejected']:,}",
            f"{r['new_subjects']:,}",
            f"{r['matched_existing_subjects']:,}",
            f"{r['held_for_identity_review']:,}",
        )
    console.print(table)
    if all(r["replay"] for r in outcome.submissions):
        console.print("[yellow]every file was loaded before: nothing changed[/yellow]")
    identity = outcome.identity_model
    console.print(
        f"identity model: {identity['version']}"
        + (
            f", fitted with Splink on {identity['identities']:,} of the bureau's identities"
            if identity["trained_now"]
            else f" (shipped model kept: {identity['kept']})"
            if "kept" in identity
            else " (fitted on an earlier run)"
        )
    )
    model = outcome.model
    console.print(
        f"bureau score: model {model['version']} trained on {model.get('subjects', 0):,} "
        f"subjects, validation report {model.get('report')}"
    )
    hits = [r for r in outcome.inquiries if r["result"] == "hit"]
    shared = max(hits, key=lambda r: len(r["accounts"]), default=None)
    if shared:
        print_report(shared, console)
    worst = max(hits, key=lambda r: r["summary"]["total_past_due"], default=None)
    if worst and worst is not shared:
        print_report(worst, console)
    misses = [r for r in outcome.inquiries if r["result"] != "hit"]
    if misses:
        print_report(misses[0], console)
    audit = outcome.audit
    console.print(
        f"audit log: {'intact' if audit['ok'] else 'BROKEN'}, {audit['events']} events, "
        f"head {audit['head_hash'][:16]}…"
    )
    console.print(
        f"API keys for the demo members: {outcome.keys_file}\n"
        "serve this bureau with: [bold]openbureau serve[/bold]  (OpenAPI at /openapi.json)"
    )
