"""Metro 2 parse + validate benchmark.

Generates three files with the project's own writer (a fourth, (d), whose record lengths
change every few records, on request), then measures, each in a fresh single-core subprocess,
(1) a baseline that only reads the file's bytes, (2) framing alone and (3) a full parse +
validate with ``read_chunks``. Reports records/s, the framing CPU time, the parse/baseline
ratio and peak memory (max RSS of the measuring subprocess), and writes docs/benchmarks.md.

    PYTHONPATH=src python bench/metro2_parse.py                 # 1,000,000 records
    PYTHONPATH=src python bench/metro2_parse.py --records 20000 --no-docs
    PYTHONPATH=src python bench/metro2_parse.py --scenarios d --no-docs  # mixed lengths
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    "a": dict(label="(a) character, 426-byte bases only", kinds=(), packed=False,
              target=600_000),
    "b": dict(label="(b) character, bases + J1 J2 K3 L1 N1", kinds=("J1", "J2", "K3", "L1", "N1"),
              packed=False, target=200_000),
    "c": dict(label="(c) packed (blocked), all segments",
              kinds=("J1", "J2", "K1", "K2", "K3", "K4", "L1", "N1"), packed=True,
              target=200_000),
    # not run by default: record lengths change every few records, as in metro2_ingest.py
    "d": dict(label="(d) character, 10% J1, 5% K1, 5% N1 (mixed lengths)",
              kinds=("J1", "K1", "N1"), packed=False, target=200_000,
              share={"J1": (10, 0), "K1": (20, 1), "N1": (20, 2)}),
}
MEMORY_LIMIT_MB = 500
BLOCK = 50_000


def generate(path: Path, records: int, kinds: tuple[str, ...], packed: bool,
             share: dict[str, tuple[int, int]] | None = None) -> None:
    import polars as pl

    from openbureau.furnishing.metro2 import Metro2Writer
    from openbureau.furnishing.metro2.sample import HEADER, sample_base, sample_segments

    block = min(BLOCK, records)
    base = sample_base(block, seed=1)
    segs = sample_segments(base, kinds, seed=1) if kinds else None
    if segs and share:  # kind -> (every, at): the records whose number is `at` modulo `every`
        segs = {k: v.filter(pl.col("record_no") % share[k][0] == share[k][1])
                for k, v in segs.items()}
    with open(path, "wb") as f:
        w = Metro2Writer(f, HEADER, packed=packed, blocked=packed)
        left = records
        while left > 0:
            n = min(block, left)
            if n == block:
                w.write(base, segs)
            else:
                b = base.head(n)
                keep = set(b["record_no"].to_list())
                w.write(b, {k: v.filter(v["record_no"].is_in(keep)) for k, v in
                            (segs or {}).items()})
            left -= n
        w.close()


def measure(path: str, mode: str) -> dict:
    """Runs inside the measuring subprocess (imports happen before the clock starts)."""
    from openbureau.furnishing.metro2 import read_chunks

    t0 = time.perf_counter()
    c0 = time.process_time()
    records = 0
    if mode == "baseline":
        with open(path, "rb", buffering=0) as f:
            while f.read(8 << 20):
                pass
    elif mode == "frame":
        from openbureau.furnishing.metro2.framing import Framer

        with open(path, "rb", buffering=0) as f:
            for fc in Framer(f):
                records += len(fc.starts)
    else:
        rejected = 0
        for c in read_chunks(path):
            records += c.base.height
            rejected += c.rejections.height
        if rejected:
            raise SystemExit(f"benchmark file has {rejected} rejections")
    secs = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {"seconds": secs, "cpu_seconds": cpu, "records": records, "peak_mb": peak_mb()}


def peak_mb() -> float:
    """This process's high-water RSS. Linux keeps ru_maxrss across exec, so in a child spawned
    by the generating parent it reports the parent's size; VmHWM belongs to the new image."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(path: Path, mode: str) -> dict:
    env = os.environ | {"POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1",
                        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                        "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, __file__, "--measure", str(path), "--mode", mode]
    if hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", "0", *cmd] if _has_taskset() else cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["children_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return res


def _has_taskset() -> bool:
    from shutil import which

    return which("taskset") is not None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--scenarios", default="abc")
    ap.add_argument("--dir", type=Path, default=None, help="where to put generated files")
    ap.add_argument("--keep", action="store_true", help="keep generated files")
    ap.add_argument("--repeat", type=int, default=1, help="parse runs per scenario (best kept)")
    ap.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.mode)))
        return
    sys.path.insert(0, str(ROOT / "src"))
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="metro2-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    rows = []
    for key in args.scenarios:
        sc = SCENARIOS[key]
        path = tmp / f"bench_{key}_{args.records}.m2"
        t = time.perf_counter()
        generate(path, args.records, sc["kinds"], sc["packed"], sc.get("share"))
        gen = time.perf_counter() - t
        size = path.stat().st_size
        base = min((run_child(path, "baseline") for _ in range(args.repeat)),
                   key=lambda r: r["seconds"])
        frame = min((run_child(path, "frame") for _ in range(args.repeat)),
                    key=lambda r: r["cpu_seconds"])
        parse = min((run_child(path, "parse") for _ in range(args.repeat)),
                    key=lambda r: r["seconds"])
        assert parse["records"] == args.records == frame["records"], (parse, frame)
        rate = parse["records"] / parse["seconds"]
        row = dict(key=key, label=sc["label"], records=args.records, mb=size / 1e6,
                   gen_s=gen, base_s=base["seconds"], parse_s=parse["seconds"], rate=rate,
                   ratio=parse["seconds"] / max(base["seconds"], 1e-9),
                   cpu_s=parse["cpu_seconds"], cpu_rate=parse["records"] / parse["cpu_seconds"],
                   frame_cpu_s=frame["cpu_seconds"],
                   peak_mb=parse["peak_mb"], target=sc["target"])
        rows.append(row)
        print(f"{sc['label']}: {size / 1e6:.0f} MB; baseline {base['seconds']:.2f}s; "
              f"parse+validate {parse['seconds']:.2f}s = {rate:,.0f} rec/s "
              f"(target {sc['target']:,}); CPU {row['cpu_s']:.2f}s = {row['cpu_rate']:,.0f} "
              f"rec/CPU-s (framing alone {row['frame_cpu_s']:.2f}s CPU); "
              f"ratio {row['ratio']:.1f}x; "
              f"peak {parse['peak_mb']:.0f} MB", flush=True)
        if not args.keep:
            path.unlink()
    if not args.no_docs:
        write_docs(rows)


def write_docs(rows: list[dict]) -> None:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines = [
        "## Metro 2 parse",
        "",
        "`PYTHONPATH=src python bench/metro2_parse.py` generates each file with the project's "
        "own writer and measures, in a fresh subprocess pinned to one core "
        "(`taskset -c 0`, `POLARS_MAX_THREADS=1`), a baseline that only reads the file's "
        "bytes and a full parse + validate (`read_chunks`: framing, typed decoding of every "
        "field and segment, all record rules and the trailer reconciliation). Peak memory is "
        "the measuring subprocess's high-water RSS (`VmHWM`; interpreter and libraries "
        "included). Before/after figures of the reader are in `docs/metro2.md` (Performance).",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.machine()} / {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(the machine was shared with other jobs, so wall-clock figures are pessimistic; "
        "the CPU-time column is the parse process's own user + system time).",
        "",
        "| File | Records | Size (MB) | Read bytes (s) | Parse + validate (s) | Records/s "
        "| Target | CPU (s) | Records/CPU-s | Ratio to read | Peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ok = "met" if r["rate"] >= r["target"] else "**missed**"
        mem = "" if r["peak_mb"] < MEMORY_LIMIT_MB else " **over 500**"
        lines.append(
            f"| {r['label']} | {r['records']:,} | {r['mb']:.0f} | {r['base_s']:.2f} | "
            f"{r['parse_s']:.2f} | {r['rate']:,.0f} | {r['target']:,} ({ok}) | "
            f"{r['cpu_s']:.2f} | {r['cpu_rate']:,.0f} | "
            f"{r['ratio']:.1f}x | {r['peak_mb']:.0f}{mem} |")
    lines.append("")
    (ROOT / "docs").mkdir(exist_ok=True)
    path = ROOT / "docs" / "benchmarks.md"
    path.write_text(replace_section(path.read_text() if path.exists() else "# Benchmarks\n",
                                    "## Metro 2 parse", "\n".join(lines)))


def replace_section(doc: str, heading: str, section: str) -> str:
    """`doc` with the section under `heading` (up to the next ``## `` heading) replaced by
    `section`, or `section` appended; the other benchmarks' sections are kept as they are, and
    so are the dated ``### `` subsections of this one (earlier runs, before/after tables)."""
    start = doc.find(heading + "\n")
    if start < 0:
        return doc.rstrip("\n") + "\n\n" + section
    end = doc.find("\n## ", start + len(heading))
    old = doc[start:end + 1] if end >= 0 else doc[start:]
    sub = old.find("\n### ")
    if sub >= 0:
        section = section.rstrip("\n") + "\n" + old[sub:].rstrip("\n") + "\n"
    return doc[:start] + section + ("\n" + doc[end + 1:] if end >= 0 else "")


if __name__ == "__main__":
    main()
