"""Inquiry benchmark: report requests/s and latency under wrk against `openbureau serve`.

Starts `openbureau serve --workers 2` on PostgreSQL with a bureau built from the demo data,
then loads it with wrk: first the trivial endpoint `/v1/health` (baseline), then
`POST /v1/inquiries` over many consumers. Prints throughput, p50/p99 and the ratio; then
measures p99 at half the maximum inquiry rate twice: with wrk pacing its connections (random
pauses, so that requests arrive spread out) over the same 500 consumers, and as before with
hey's rate limit, if hey is installed. hey sends one body only, so that run asks about one
consumer about a thousand times in ten seconds, whose report then lists every one of those
inquiries (500 or more, 40 KB); and hey's workers fire on the same tick, eight at once.

Throughput on a shared machine moves with everything else running on it, so it also prints
CPU time per request, which moves much less: the server's worker processes and the database
backends during each wrk run (from /proc), and `make_inquiry` and the batch path's
`answer_many` (batches of 1, 4 and 16) called in this process.

    python bench/inquiry.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import create_engine, text

from openbureau.context import Bureau
from openbureau.demo.run import run_demo
from openbureau.governance.crypto import generate_key_pair_b64

sys.path.insert(0, str(Path(__file__).parent))
from ingest import _fresh_pg, keyed_settings  # noqa: E402

LUA = """
local bodies = {}
local n = 0
for line in io.lines("%s") do n = n + 1; bodies[n] = line end
local i = 0
request = function()
  i = i %% n + 1
  return wrk.format("POST", "/v1/inquiries", {["Content-Type"]="application/json",
    ["Authorization"]="Bearer %s"}, bodies[i])
end
"""
# Each connection pauses a random time (exponential, mean PACE_MS) before each request, so
# that requests arrive spread out at about the aimed rate instead of in bursts.
PACED = """
function delay()
  return -tonumber(os.getenv("PACE_MS")) * math.log(1 - math.random())
end
"""


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc; 0 for a gone process)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return out


class CpuMeter:
    """CPU time spent by the server's workers and by the bench database's backends."""

    def __init__(self, server_pid: int, db_url: str) -> None:
        self.server_pid = server_pid
        self.admin = create_engine(db_url, isolation_level="AUTOCOMMIT")

    def _pids(self) -> tuple[list[int], list[int]]:
        with self.admin.connect() as conn:
            backends = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
            return _children(self.server_pid), list(backends)

    def read(self) -> tuple[float, float]:
        workers, backends = self._pids()
        return _cpu_seconds(workers), _cpu_seconds(backends)

    def sessions(self) -> int:
        """Backends started on the bench database so far."""
        with self.admin.connect() as conn:
            return conn.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()


def _wrk(
    url: str,
    seconds: int,
    script: Path | None = None,
    meter: CpuMeter | None = None,
    connections: int = 32,
    env: dict | None = None,
) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    before = meter.read() if meter else (0.0, 0.0)
    sessions = meter.sessions() if meter else 0
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    after = meter.read() if meter else (0.0, 0.0)
    opened = meter.sessions() - sessions if meter else 0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
        "server_ms": (after[0] - before[0]) / requests * 1000,
        "db_ms": (after[1] - before[1]) / requests * 1000,
        # Backends started during the run: their CPU is missing from db_ms when they ended
        # before it did.
        "connections_opened": opened,
    }


def _paced_p99(url: str, script: Path, rate: float, seconds: int) -> dict:
    """p99 over all consumers with requests spread out at about `rate` (wrk, 8 connections).

    A connection's rate is 1 / (pause + latency): two short runs measure the latency, each
    pausing that much less than 8 / rate, and the measured run pauses as the last one did."""
    connections = 8
    cycle_ms = connections / rate * 1000
    pause_ms = cycle_ms

    def run(pause: float, length: int) -> dict:
        env = dict(os.environ) | {"PACE_MS": f"{pause:.3f}"}
        return _wrk(url, length, script, connections=connections, env=env)

    for _ in range(2):
        trial = run(pause_ms, 3)
        latency_ms = connections / trial["rps"] * 1000 - pause_ms
        pause_ms = max(cycle_ms - latency_ms, 0.0)
    return run(pause_ms, seconds)


def _in_process_ms(bureau: Bureau, member_code: str, bodies: list[dict]) -> float:
    """CPU milliseconds per `make_inquiry` + commit in this process (after a warm-up pass)."""
    from openbureau.governance.members import get_member
    from openbureau.reports.inquiry import InquiryIdentity, make_inquiry

    with bureau.sessions() as session:
        member = get_member(session, member_code)
    identities = [
        InquiryIdentity(
            b["identity"]["full_name"],
            b["identity"]["national_id_type"],
            b["identity"]["national_id"],
            date.fromisoformat(b["identity"]["date_of_birth"]),
        )
        for b in bodies
    ]

    def run() -> float:
        start = time.process_time()
        for identity in identities:
            with bureau.sessions() as session:
                make_inquiry(bureau, session, member, identity, "loan_approval", "BENCH")
                session.commit()
        return (time.process_time() - start) / len(identities) * 1000

    run()
    return min(run() for _ in range(3))


def _batched_in_process_ms(bureau: Bureau, key: str, bodies: list[dict], size: int) -> float:
    """CPU milliseconds per inquiry of `answer_many` (PostgreSQL's batch path) in this
    process, in batches of `size` (after a warm-up pass)."""
    from openbureau.reports.inquiry import InquiryIdentity
    from openbureau.reports.pg_batch import InquiryRequest, answer_many

    requests = [
        InquiryRequest(
            key,
            InquiryIdentity(
                b["identity"]["full_name"],
                b["identity"]["national_id_type"],
                b["identity"]["national_id"],
                date.fromisoformat(b["identity"]["date_of_birth"]),
            ),
            b["purpose"],
            b["consent_reference"],
        )
        for b in bodies
    ]

    def run() -> float:
        start = time.process_time()
        for first in range(0, len(requests), size):
            answer_many(bureau, requests[first : first + size])
        return (time.process_time() - start) / len(requests) * 1000

    run()
    return min(run() for _ in range(3))


def _hey_p99(url: str, key: str, body_file: Path, rate: float, seconds: int) -> str | None:
    if not shutil.which("hey"):
        return None
    workers = 8
    out = subprocess.run(
        [
            "hey",
            "-z",
            f"{seconds}s",
            "-c",
            str(workers),
            "-q",
            str(max(rate / workers, 1)),
            "-m",
            "POST",
            "-T",
            "application/json",
            "-H",
            f"Authorization: Bearer {key}",
            "-D",
            str(body_file),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"99%% in ([\d.]+) secs".replace("%%", "%"), out)
    return f"{float(found.group(1)) * 1000:.1f}ms" if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ob-bench-inq-"))
    keys = generate_key_pair_b64()
    env = (
        dict(os.environ)
        | keys
        | {
            "OPENBUREAU_DATABASE_URL": _fresh_pg(args.pg_url, "bench_inquiry"),
            "OPENBUREAU_DATA_DIR": str(work),
        }
    )
    bureau = Bureau.from_settings(keyed_settings(work, env["OPENBUREAU_DATABASE_URL"], keys))
    outcome = run_demo(bureau, Console(quiet=True), limit=args.limit)
    from openbureau.demo.taiwan import build_demo_submissions

    persons = build_demo_submissions(limit=args.limit).persons.head(500)
    requests = [
        {
            "identity": {
                "full_name": p["name_zh"],
                "national_id_type": "cn_ric",
                "national_id": p["national_id"],
                "date_of_birth": p["date_of_birth"].isoformat(),
            },
            "purpose": "loan_approval",
            "consent_reference": "BENCH",
        }
        for p in persons.iter_rows(named=True)
    ]
    bodies = work / "bodies.jsonl"
    bodies.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in requests) + "\n")
    # Before the server starts, so that the measurement has the machine to itself.
    in_process_ms = _in_process_ms(bureau, "zjstatebank", requests)
    key = json.loads(outcome.keys_file.read_text())["zjstatebank"]
    bureau.dispose()
    script = work / "inquiry.lua"
    script.write_text(LUA % (bodies, key))
    paced_script = work / "paced.lua"
    paced_script.write_text(LUA % (bodies, key) + PACED)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openbureau.cli",
            "serve",
            "--workers",
            "2",
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 120  # two workers import the stack; slow on a busy host
        while True:
            try:
                if httpx.get(f"{base}/v1/health").status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not come up; see its output above") from None
                time.sleep(0.2)
        meter = CpuMeter(server.pid, env["OPENBUREAU_DATABASE_URL"])
        _wrk(f"{base}/v1/health", 2)  # warm-up
        trivial = _wrk(f"{base}/v1/health", args.seconds, meter=meter)
        _wrk(f"{base}/v1/inquiries", 2, script)  # warm-up: connections, prepared statements
        inquiry = _wrk(f"{base}/v1/inquiries", args.seconds, script, meter)
        one_body = work / "one.json"
        one_body.write_text(bodies.read_text().splitlines()[0])
        half = inquiry["rps"] / 2
        paced = _paced_p99(f"{base}/v1/inquiries", paced_script, half, args.seconds)
        p99_half = _hey_p99(f"{base}/v1/inquiries", key, one_body, half, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # After the server's runs: these inquiries, hard ones, would make its reports longer.
    bureau = Bureau.from_settings(keyed_settings(work, env["OPENBUREAU_DATABASE_URL"], keys))
    batched_ms = {size: _batched_in_process_ms(bureau, key, requests, size) for size in (1, 4, 16)}
    bureau.dispose()
    print(
        f"trivial /v1/health : {trivial['rps']:8.0f} req/s  "
        f"p50 {trivial['p50']}  p99 {trivial['p99']}"
    )
    print(
        f"POST /v1/inquiries : {inquiry['rps']:8.0f} req/s  "
        f"p50 {inquiry['p50']}  p99 {inquiry['p99']}"
        f"  non-2xx {inquiry['non2xx']}"
    )
    print(f"ratio inquiries/trivial: {inquiry['rps'] / trivial['rps']:.2f} (target >= 0.40)")
    print(
        f"p99 at half the maximum inquiry rate ({inquiry['rps'] / 2:.0f} req/s), 500 consumers, "
        f"paced wrk: {paced['p99']} at {paced['rps']:.0f} req/s, p50 {paced['p50']}, "
        f"non-2xx {paced['non2xx']} (target < 50 ms)"
    )
    print(f"p99 at half the maximum inquiry rate, one consumer, hey: {p99_half}")
    for name, run in (("/v1/health", trivial), ("/v1/inquiries", inquiry)):
        print(
            f"CPU per request {name}: server workers {run['server_ms']:.2f} ms, "
            f"database {run['db_ms']:.2f} ms ({run['connections_opened']} connections opened)"
        )
    print(f"make_inquiry in process: {in_process_ms:.2f} ms CPU per report")
    print(
        "answer_many (batches) in process: "
        + ", ".join(f"{ms:.2f} ms CPU per report in batches of {n}" for n, ms in batched_ms.items())
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
