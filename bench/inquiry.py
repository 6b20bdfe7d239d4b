"""Inquiry benchmark: report requests/s and latency under wrk against `openbureau serve`.

Starts `openbureau serve --workers 2` on PostgreSQL with a bureau built from the demo data,
then loads it with wrk: first the trivial endpoint `/v1/health` (baseline), then
`POST /v1/inquiries` over many consumers. Prints throughput, p50/p99 and the ratio; then
measures p99 at half the maximum inquiry rate with hey's rate limit, if hey is installed.

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
from pathlib import Path

import httpx
from rich.console import Console

from openbureau.context import Bureau
from openbureau.demo.run import run_demo
from openbureau.governance.crypto import generate_key_pair_b64
from openbureau.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))
from ingest import _fresh_pg  # noqa: E402

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


def _wrk(url: str, seconds: int, script: Path | None = None) -> dict:
    cmd = ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s(50|99)%\s+([\d.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


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
    settings = Settings(
        data_dir=work,
        database_url=env["OPENBUREAU_DATABASE_URL"],
        encryption_key=keys["OPENBUREAU_ENCRYPTION_KEY"],
        blind_index_key=keys["OPENBUREAU_BLIND_INDEX_KEY"],
    )
    bureau = Bureau.from_settings(settings)
    outcome = run_demo(bureau, Console(quiet=True), limit=args.limit)
    from openbureau.demo.taiwan import build_demo_submissions

    persons = build_demo_submissions(limit=args.limit).persons.head(500)
    bodies = work / "bodies.jsonl"
    bodies.write_text(
        "\n".join(
            json.dumps(
                {
                    "identity": {
                        "full_name": p["name_zh"],
                        "national_id_type": "cn_ric",
                        "national_id": p["national_id"],
                        "date_of_birth": p["date_of_birth"].isoformat(),
                    },
                    "purpose": "loan_approval",
                    "consent_reference": "BENCH",
                },
                ensure_ascii=False,
            )
            for p in persons.iter_rows(named=True)
        )
        + "\n"
    )
    bureau.dispose()
    key = json.loads(outcome.keys_file.read_text())["zjstatebank"]
    script = work / "inquiry.lua"
    script.write_text(LUA % (bodies, key))
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
        _wrk(f"{base}/v1/health", 2)  # warm-up
        trivial = _wrk(f"{base}/v1/health", args.seconds)
        inquiry = _wrk(f"{base}/v1/inquiries", args.seconds, script)
        one_body = work / "one.json"
        one_body.write_text(bodies.read_text().splitlines()[0])
        p99_half = _hey_p99(f"{base}/v1/inquiries", key, one_body, inquiry["rps"] / 2, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
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
        f"p99 at half the maximum inquiry rate ({inquiry['rps'] / 2:.0f} req/s): {p99_half}"
        " (target < 50 ms)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
