"""FEBRL benchmark: openbureau's identity resolver vs Splink with its documented example settings.

    PYTHONPATH=src python bench/identity_febrl.py [--data-dir /work/shared/data/febrl]

Tasks: febrl4a × febrl4b linkage (febrl4_true_links.csv) and febrl3 deduplication
(febrl3_true_links.csv). Both systems fit their model on the task data without labels, score
candidate pairs and cluster at match probability 0.99; metrics are pairwise over the clusters
(every pair of records in one cluster is a predicted link; for febrl4 only pairs across the two
files count, as both systems run link-only there). "openbureau" is the default resolver: hard
guards always, household guards (twins, DOB / given-name conflict, corroboration) only when the
data show households (``batch.household_evidence``: FEBRL has none). "openbureau_all_guards"
forces the household guards on, which refuses some FEBRL duplicates whose given name, DOB and
ID were all replaced by the generator (exactly what a bureau with families must not
auto-merge).
Time is wall-clock for the whole run
(load/prepare + fit + predict + cluster), both in this process, one after the other.

The Splink runs follow Splink's documented DuckDB examples "Deduplicating the febrl3 dataset"
and "Linking the febrl4 datasets" (detailed model): same comparisons, blocking rules, training
steps and seeds; only the data loading differs (read from the local CSV files instead of
``splink_datasets``, which downloads).

FEBRL data: Christen, P. (2008), Febrl, ANU; ANU Open Source License 1.3 (see the data README).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from itertools import combinations
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import duckdb  # noqa: E402,F401  (imported up front so neither system pays import time)
import pandas  # noqa: E402,F401  (Splink converts registered tables through pandas)
import splink  # noqa: E402,F401
import splink.comparison_library  # noqa: E402,F401

from openbureau.identity.batch import resolve  # noqa: E402
from openbureau.identity.febrl import read_febrl, to_canonical  # noqa: E402

THRESHOLD = 0.99


def cluster_pairs(clusters: pl.DataFrame, cross: dict[str, str] | None = None) -> set:
    pairs = set()
    for members in clusters.group_by("cluster_id").agg("record_id").get_column("record_id"):
        if len(members) < 2:
            continue
        for a, b in combinations(sorted(members), 2):
            if cross is not None and cross[a] == cross[b]:
                continue
            pairs.add((a, b))
    return pairs


def metrics(pred: set, truth: set) -> dict:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": len(pred) - tp,
            "fn": len(truth) - tp}


def truth_pairs(path: Path) -> set:
    t = pl.read_csv(path, infer_schema=False)
    return {tuple(sorted(x)) for x in t.select("rec_id_1", "rec_id_2").iter_rows()}


# ----------------------------------------------------------------------------- openbureau


def run_openbureau_febrl3(data: Path, household: bool | None = None) -> tuple[set, float, dict]:
    t = time.perf_counter()
    raw = to_canonical(read_febrl(data / "febrl3.csv"))
    res = resolve(raw, household_guards=household)
    clusters = res.clusters
    elapsed = time.perf_counter() - t
    return cluster_pairs(clusters), elapsed, res.stats


def run_openbureau_febrl4(
    data: Path, household: bool | None = None
) -> tuple[set, float, dict, dict]:
    t = time.perf_counter()
    a = to_canonical(read_febrl(data / "febrl4a.csv"), "a")
    b = to_canonical(read_febrl(data / "febrl4b.csv"), "b")
    raw = pl.concat([a, b])
    res = resolve(raw, link_only_column="source", household_guards=household)
    elapsed = time.perf_counter() - t
    src = dict(raw.select("record_id", "source").iter_rows())
    return cluster_pairs(res.clusters, src), elapsed, res.stats, src


# ----------------------------------------------------------------------------- splink


def _splink_prepare(df: pl.DataFrame) -> pl.DataFrame:
    # the examples cast date_of_birth / soc_sec_id / postcode to trimmed strings
    return df


def run_splink_febrl3(data: Path) -> tuple[set, float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = time.perf_counter()
    df = _splink_prepare(read_febrl(data / "febrl3.csv"))
    blocking_rules = [
        block_on("soc_sec_id"),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(df.to_arrow()), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    pred = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=THRESHOLD
    )
    cdf = pl.from_arrow(clusters.as_duckdbpyrelation().to_arrow_table())
    cdf = cdf.select(pl.col("rec_id").alias("record_id"), "cluster_id")
    elapsed = time.perf_counter() - t
    return cluster_pairs(cdf), elapsed


def run_splink_febrl4(data: Path, src: dict[str, str]) -> tuple[set, float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = time.perf_counter()
    dfs = [_splink_prepare(read_febrl(data / f)) for f in ("febrl4a.csv", "febrl4b.csv")]
    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ],
        retain_intermediate_calculation_columns=True,
    )
    db_api = DuckDBAPI()
    sdfs = [db_api.register(d.to_arrow()) for d in dfs]
    linker = Linker(sdfs, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    pred = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=THRESHOLD
    )
    cdf = pl.from_arrow(clusters.as_duckdbpyrelation().to_arrow_table())
    cdf = cdf.select(pl.col("rec_id").alias("record_id"), "cluster_id")
    elapsed = time.perf_counter() - t
    return cluster_pairs(cdf, src), elapsed


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=Path("/work/shared/data/febrl"))
    ap.add_argument("--json", type=Path, default=None, help="write results as JSON here")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repetitions (median)")
    args = ap.parse_args(argv)
    data = args.data_dir
    logging.getLogger("splink").setLevel(logging.ERROR)

    results: dict[str, dict] = {}
    truth4 = truth_pairs(data / "febrl4_true_links.csv")
    truth3 = truth_pairs(data / "febrl3_true_links.csv")

    def timed(fn, *a):
        c = time.process_time()
        out = fn(*a)
        return out, time.process_time() - c

    runs: dict[str, list] = {k: [] for k in ("ob4", "sp4", "ob3", "sp3", "hx4", "hx3")}
    for _ in range(args.repeat):  # interleaved so that background load hits both alike
        (ob4, t_ob4, stats4, src), c = timed(run_openbureau_febrl4, data)
        runs["ob4"].append((t_ob4, c))
        (sp4, t_sp4), c = timed(run_splink_febrl4, data, src)
        runs["sp4"].append((t_sp4, c))
        (ob3, t_ob3, stats3), c = timed(run_openbureau_febrl3, data)
        runs["ob3"].append((t_ob3, c))
        (sp3, t_sp3), c = timed(run_splink_febrl3, data)
        runs["sp3"].append((t_sp3, c))
        (hx4, t_hx4, _, _), c = timed(run_openbureau_febrl4, data, True)
        runs["hx4"].append((t_hx4, c))
        (hx3, t_hx3, _), c = timed(run_openbureau_febrl3, data, True)
        runs["hx3"].append((t_hx3, c))

    def med(key: str, i: int) -> float:
        return statistics.median(r[i] for r in runs[key])

    results["febrl4_link"] = {
        "openbureau": {**metrics(ob4, truth4), "seconds": med("ob4", 0),
                       "cpu_seconds": med("ob4", 1), "stats": stats4},
        "splink": {**metrics(sp4, truth4), "seconds": med("sp4", 0),
                   "cpu_seconds": med("sp4", 1)},
        "openbureau_all_guards": {**metrics(hx4, truth4), "seconds": med("hx4", 0),
                                  "cpu_seconds": med("hx4", 1)},
    }
    results["febrl3_dedupe"] = {
        "openbureau": {**metrics(ob3, truth3), "seconds": med("ob3", 0),
                       "cpu_seconds": med("ob3", 1), "stats": stats3},
        "splink": {**metrics(sp3, truth3), "seconds": med("sp3", 0),
                   "cpu_seconds": med("sp3", 1)},
        "openbureau_all_guards": {**metrics(hx3, truth3), "seconds": med("hx3", 0),
                                  "cpu_seconds": med("hx3", 1)},
    }

    print(f"\nFEBRL, pairwise metrics over clusters at match probability {THRESHOLD}\n")
    print(f"(times: median of {args.repeat} interleaved runs; wall-clock and process CPU)\n")
    print("| task | system | precision | recall | F1 | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for task, r in results.items():
        for system in ("openbureau", "splink", "openbureau_all_guards"):
            m = r[system]
            print(f"| {task} | {system} | {m['precision']:.4f} | {m['recall']:.4f} | "
                  f"{m['f1']:.4f} | {m['seconds']:.2f} | {m['cpu_seconds']:.2f} |")
    print("\n| task | F1 ratio (ob / splink) | wall time ratio (ob / splink) | CPU ratio |")
    print("|---|---|---|---|")
    for task, r in results.items():
        f1r = r["openbureau"]["f1"] / r["splink"]["f1"] if r["splink"]["f1"] else float("inf")
        tr = r["openbureau"]["seconds"] / r["splink"]["seconds"]
        cr = r["openbureau"]["cpu_seconds"] / r["splink"]["cpu_seconds"]
        r["f1_ratio"], r["time_ratio"], r["cpu_ratio"] = f1r, tr, cr
        print(f"| {task} | {f1r:.4f} | {tr:.3f} | {cr:.3f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
