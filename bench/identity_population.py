"""Population benchmark: batch resolution of a generated multi-furnisher population, and online
scoring latency of one record against its candidates.

    PYTHONPATH=src python bench/identity_population.py [--records 1000000] [--queries 2000]

1. ``generate_population`` (openbureau.identity.synth) makes N records from several
   furnishers with typos, name-order / script variants, swapped day-month, moved addresses,
   missing / placeholder IDs, twins, Jr/Sr, shared household addresses, very common names.
2. Batch: normalise (2 worker processes), fit the model with Splink EM on a sample, resolve
   all N records with Splink on DuckDB (blocking → predict → guarded clustering). Reports wall
   time per stage, pairwise precision / recall against the true person ids, and the number of
   mixed clusters (clusters holding records of more than one true person).
3. Online: an in-memory dict index ``blocking key → [entry]`` over the N normalised records
   (each record one subject entry, as the core's blind-index table would hold them), then for
   ``--queries`` unseen records of the same population: normalise, derive blocking keys, look
   up candidates (keys with more than ``max_block_size`` entries skipped, as in batch; the
   ``--max-candidates`` entries sharing most keys kept), score them with the stored JSON model
   in pure Python, decide. Reports p50 / p95 / p99
   latency per query and the query outcomes (correct match / wrong match / review / new).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openbureau.identity.batch import resolve  # noqa: E402
from openbureau.identity.blocking import blocking_keys, blocking_keys_frame  # noqa: E402
from openbureau.identity.model import IdentityModel, fit_model  # noqa: E402
from openbureau.identity.normalize import normalize_record, normalize_records  # noqa: E402
from openbureau.identity.synth import generate_population  # noqa: E402


def pairwise(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict:
    c = clusters.join(truth, on="record_id")

    def c2(e: pl.Expr) -> pl.Expr:
        return (e.cast(pl.Int64) * (e.cast(pl.Int64) - 1) // 2).sum()

    pred = c.group_by("cluster_id").len().select(c2(pl.col("len"))).item()
    true = c.group_by("true_id").len().select(c2(pl.col("len"))).item()
    tp = c.group_by("cluster_id", "true_id").len().select(c2(pl.col("len"))).item()
    mixed = (
        c.group_by("cluster_id")
        .agg(pl.col("true_id").n_unique().alias("k"))
        .filter(pl.col("k") > 1)
        .height
    )
    p = tp / pred if pred else 0.0
    r = tp / true if true else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "mixed_clusters": mixed,
        "clusters": c["cluster_id"].n_unique(),
        "true_persons": c["true_id"].n_unique(),
    }


def online(
    model: IdentityModel,
    index_norm: pl.DataFrame,
    truth: dict,
    queries: pl.DataFrame,
    max_block_size: int,
    max_candidates: int,
) -> dict:
    t = time.perf_counter()
    keys = blocking_keys_frame(index_norm)
    index: dict[str, list[int]] = {}
    rid_to_pos = {r: i for i, r in enumerate(index_norm["record_id"].to_list())}
    for rid, key in keys.iter_rows():
        index.setdefault(key, []).append(rid_to_pos[rid])
    entries = index_norm.drop("record_id").to_dicts()
    build_s = time.perf_counter() - t

    lat = []
    outcomes = {"correct_match": 0, "wrong_match": 0, "review": 0, "new": 0}
    cand_counts = []
    for q in queries.iter_rows(named=True):
        raw = {k: v for k, v in q.items() if k not in ("true_id", "source")}
        t0 = time.perf_counter()
        rec = normalize_record(raw)
        shared: Counter[int] = Counter()
        for k in blocking_keys(rec):
            hits = index.get(k)
            if hits and len(hits) <= max_block_size:
                shared.update(hits)
        # candidates sharing the most keys first, at most max_candidates of them
        cand_list = [i for i, _ in shared.most_common(max_candidates)]
        scored = model.score_candidates(rec, [entries[i] for i in cand_list])
        decision = "new"
        best = None
        for pos, s in scored:
            if s.decision == "match":
                decision, best = "match", cand_list[pos]
                break
            if s.decision == "review" and decision == "new":
                decision = "review"
        lat.append(time.perf_counter() - t0)
        cand_counts.append(len(cand_list))
        if decision == "match":
            ok = truth[index_norm["record_id"][best]] == q["true_id"]
            outcomes["correct_match" if ok else "wrong_match"] += 1
        else:
            outcomes[decision] += 1
    lat_ms = sorted(x * 1000 for x in lat)

    def pct(p: float) -> float:
        return lat_ms[min(len(lat_ms) - 1, int(p * len(lat_ms)))]

    return {
        "index_entries": index_norm.height,
        "index_keys": len(index),
        "index_build_s": build_s,
        "queries": len(lat_ms),
        "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99),
                       "max": lat_ms[-1], "mean": statistics.fmean(lat_ms)},
        "candidates": {"mean": statistics.fmean(cand_counts), "max": max(cand_counts)},
        "outcomes": outcomes,
    }


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the normalisation workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--fit-sample", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--max-block-size", type=int, default=100)
    ap.add_argument("--max-candidates", type=int, default=50)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    out: dict = {"records": args.records, "workers": args.workers, "cpus": os.cpu_count()}

    t = time.perf_counter()
    pop = generate_population(args.records + args.queries, seed=args.seed)
    out["generate_s"] = time.perf_counter() - t
    batch_df, queries = pop.head(args.records), pop.tail(args.queries)
    truth = dict(batch_df.select("record_id", "true_id").iter_rows())
    print(f"generated {pop.height:,} records in {out['generate_s']:.1f}s", flush=True)

    t_batch, c_batch = time.perf_counter(), cpu_seconds()
    t = time.perf_counter()
    norm = normalize_records(batch_df.drop("true_id"), workers=args.workers)
    out["normalize_s"] = time.perf_counter() - t
    print(f"normalised in {out['normalize_s']:.1f}s", flush=True)
    t = time.perf_counter()
    sample = norm.sample(min(args.fit_sample, norm.height), seed=args.seed)
    model = fit_model(sample, version="population-bench")
    out["fit_s"] = time.perf_counter() - t
    print(f"fitted on {sample.height:,} records in {out['fit_s']:.1f}s", flush=True)
    res = resolve(norm, model, normalized=True, max_block_size=args.max_block_size,
                  threads=args.workers)
    out["batch_total_s"] = time.perf_counter() - t_batch
    out["batch_cpu_s"] = cpu_seconds() - c_batch
    out["load_average"] = os.getloadavg()
    out["resolve_stats"] = res.stats
    out["review_pairs"] = res.review_pairs.height
    out["review_reasons"] = dict(res.review_pairs.group_by("reason").len().iter_rows())
    out["flagged_clusters"] = res.flagged_clusters["cluster_id"].n_unique()
    out["quality"] = pairwise(res.clusters, batch_df.select("record_id", "true_id"))
    print(json.dumps({k: out[k] for k in ("batch_total_s", "batch_cpu_s", "quality")}, indent=1),
          flush=True)

    model_json = model.to_json()
    online_model = IdentityModel.load(model_json)  # the stored model, as the online path has it
    out["online"] = online(online_model, norm.select(
        ["record_id", *[c for c in norm.columns if c not in ("record_id", "source")]]
    ), truth, queries, args.max_block_size, args.max_candidates)
    print(json.dumps(out, indent=1, default=str))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main()
