"""Batch resolution: records → clusters (subjects) with Splink on DuckDB.

Pipeline:

1. normalise (:func:`normalize_records`) unless already normalised;
2. fit a model with Splink EM unless one is given;
3. candidate pairs = records sharing a blocking key (:mod:`.blocking`, the same keys the
   online path uses), dropping keys shared by more than ``max_block_size`` records; pairs are
   computed in DuckDB and registered with Splink (``register_blocked_pairs_for_predict``);
4. Splink ``predict`` scores the pairs with the model's m/u;
5. constrained clustering: edges at or above the match threshold are merged strongest first
   (union-find), refusing any merge that would put two different valid national IDs or two
   different generational suffixes in one cluster, merge "twins" (same surname + DOB,
   different given names), join clusters whose birth dates are all incompatible (not typos of
   each other) without a corroborating national ID, or grow a cluster beyond
   ``max_cluster_size``. Refused edges and
   edges between the review and match thresholds are returned as review pairs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .blocking import address_anchor_expr, blocking_keys_frame
from .compare import COMPARISON_COLUMNS
from .guards import (
    common_name_corroborated,
    corroborated,
    dobs_compatible,
    ids_corroborate,
    names_differ,
    suffix_unconfirmed,
    twin_given_names_differ,
)
from .model import IdentityModel, Thresholds, fit_model
from .normalize import NORMALIZED_COLUMNS, normalize_records

__all__ = [
    "BatchResult",
    "candidate_pairs",
    "cluster_edges",
    "doppelganger_records",
    "household_evidence",
    "name_frequencies",
    "resolve",
]


@dataclass
class BatchResult:
    clusters: pl.DataFrame  # record_id, cluster_id, cluster_size, flagged
    review_pairs: pl.DataFrame  # record_id_l, record_id_r, match_weight, match_probability, reason
    flagged_clusters: pl.DataFrame  # cluster_id, reason
    model: IdentityModel
    stats: dict[str, Any] = field(default_factory=dict)


def candidate_pairs(
    con: Any,
    keys: pl.DataFrame,
    *,
    max_block_size: int,
    sources: pl.DataFrame | None = None,
) -> int:
    """Create DuckDB table ``ob_blocked_pairs(match_key, join_key_l, join_key_r)`` from the
    long ``(_rid, key)`` frame; returns the number of pairs. With ``sources`` (``_rid, src``)
    only pairs across different sources are kept (link-only)."""
    con.register("ob_keys_view", keys.to_arrow())
    _run(
        con,
        f"""
        create or replace table ob_keys as
        select k._rid, k.key from ob_keys_view k
        join (select key from ob_keys_view group by key
              having count(*) between 2 and {int(max_block_size)}) g using (key)
        """
    )
    src_join = ""
    if sources is not None:
        con.register("ob_src_view", sources.to_arrow())
        _run(con, "create or replace table ob_src as select * from ob_src_view")
        src_join = (
            "join ob_src sa on sa._rid = a._rid join ob_src sb on sb._rid = b._rid "
            "and sa.src <> sb.src"
        )
    _run(
        con,
        f"""
        create or replace table ob_blocked_pairs as
        select distinct '0' as match_key, a._rid as join_key_l, b._rid as join_key_r
        from ob_keys a join ob_keys b on a.key = b.key and a._rid < b._rid
        {src_join}
        """
    )
    return con.execute("select count(*) from ob_blocked_pairs").fetchall()[0][0]


def _run(con: Any, sql: str) -> list:
    return con.execute(sql).fetchall()


def _two_ids_of_one_kind(valid_ids: set) -> bool:
    """Two different valid IDs of the same kind ("type:value") are two people; a US SSN and a
    Chinese resident ID can both be one person's, as in the online model's guard."""
    kinds = {value.partition(":")[0] for value in valid_ids}
    return len(kinds) < len(valid_ids)


class _Clusters:
    """Union-find with per-cluster guard state."""

    def __init__(self, n: int, valid_ids: list, suffixes: list, names: list,
                 dobs: list, nids: list, max_size: int, household: bool = True) -> None:
        self.household = household
        self.dobs: list[set | None] = [({d} if d else None) for d in dobs]
        self.nids: list[set | None] = [({x} if x else None) for x in nids]
        self.parent = list(range(n))
        self.size = [1] * n
        self.ids: list[set | None] = [({v} if v else None) for v in valid_ids]
        self.suffix: list[set | None] = [({s} if s else None) for s in suffixes]
        self.names: list[set | None] = [({k} if k else None) for k in names]
        self.max_size = max_size
        # set by cluster_edges: the cluster holds a record whose name and DOB another valid ID
        # also carries (see doppelganger_records)
        self.doppelganger = [False] * n

    def find(self, x: int) -> int:
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    @staticmethod
    def _union_set(a: set | None, b: set | None) -> set | None:
        if a is None:
            return b
        if b is None:
            return a
        return a | b

    def conflict(self, ra: int, rb: int) -> str | None:
        ia, ib = self.ids[ra], self.ids[rb]
        if ia and ib and _two_ids_of_one_kind(ia | ib):
            return "different_valid_national_ids"
        sa, sb = self.suffix[ra], self.suffix[rb]
        if sa and sb and len(sa | sb) > 1:
            return "different_generational_suffix"
        if self.size[ra] + self.size[rb] > self.max_size:
            return "cluster_size_cap"
        if not self.household:
            return None
        da, db = self.dobs[ra], self.dobs[rb]
        if da and db and not any(dobs_compatible(x, y) for x in da for y in db):
            na, nb = self.nids[ra], self.nids[rb]
            if not (na and nb and any(ids_corroborate(x, y) for x in na for y in nb)):
                return "dob_conflict"
        ta, tb = self.names[ra], self.names[rb]
        if ta and tb:
            same_dob = bool(da and db and da & db)

            def differ(x: tuple, y: tuple) -> bool:
                if same_dob and x[2] and x[2] == y[2]:
                    return twin_given_names_differ(x[1], y[1], x[3], y[3])
                return names_differ(*x[:3], *y[:3], x[3], y[3])

            # all names differ, or the clusters' most frequent spellings do: a typo one letter
            # from both names (mary - lary - larry) must not join the twins mary and larry
            rep_a = max(ta, key=lambda x: (x[3] or 0, x[1] or ""))
            rep_b = max(tb, key=lambda x: (x[3] or 0, x[1] or ""))
            if differ(rep_a, rep_b) or all(differ(x, y) for x in ta for y in tb):
                na, nb = self.nids[ra], self.nids[rb]
                if not (na and nb and any(ids_corroborate(x, y) for x in na for y in nb)):
                    return "possible_twins" if same_dob else "given_name_conflict"
        return None

    def union(self, ra: int, rb: int) -> None:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.ids[ra] = self._union_set(self.ids[ra], self.ids[rb])
        self.dobs[ra] = self._union_set(self.dobs[ra], self.dobs[rb])
        self.nids[ra] = self._union_set(self.nids[ra], self.nids[rb])
        self.doppelganger[ra] = self.doppelganger[ra] or self.doppelganger[rb]
        self.suffix[ra] = self._union_set(self.suffix[ra], self.suffix[rb])
        self.names[ra] = self._union_set(self.names[ra], self.names[rb])
        self.ids[rb] = self.suffix[rb] = self.names[rb] = None
        self.dobs[rb] = self.nids[rb] = None


# Household guards are switched on automatically when at least this share of the addresses and
# phones carried by two or more records is provably shared by different people (see
# household_evidence). Generated bureau data: ~20%; FEBRL: 0 (no households, no valid IDs).
HOUSEHOLD_EVIDENCE_MIN_SHARE = 0.002
VALID_ID_TYPES = ("cn_ric", "us_ssn")


def _valid_id_expr() -> pl.Expr:
    return (
        pl.when(pl.col("nid_valid").fill_null(False) & pl.col("nid_type").is_in(VALID_ID_TYPES))
        .then(pl.concat_str(["nid_type", "nid"], separator=":"))
        .otherwise(None)
    )


def household_evidence(norm: pl.DataFrame) -> dict[str, Any]:
    """Does this data have households? Counts the addresses (postcode + house number) and
    phones carried by two or more records, and how many of them are *provably* shared by
    different people: two different checksum-valid national IDs, or two different
    generational suffixes under one surname. The household guards (twins, DOB / given-name
    conflicts, corroboration) exist because family members share address, phone and surname;
    where no shared address or phone ever holds two provably different people, those guards
    only refuse true duplicates (FEBRL)."""
    keyed = norm.select(
        _valid_id_expr().alias("vid"),
        pl.concat_str(["surname", "suffix"], separator=":").alias("sfx"),
        pl.concat_str(
            [pl.lit("a"), pl.col("postcode"), address_anchor_expr()], separator=":"
        ).alias("addr"),
        pl.concat_str([pl.lit("p"), pl.col("phone")], separator=":").alias("ph"),
    )
    long = keyed.unpivot(index=["vid", "sfx"], on=["addr", "ph"], value_name="key").drop_nulls(
        "key"
    )
    groups = long.group_by("key").agg(
        pl.len().alias("n"),
        pl.col("vid").drop_nulls().n_unique().alias("ids"),
        pl.col("sfx").drop_nulls().n_unique().alias("sfx"),
    ).filter(pl.col("n") >= 2)
    multi = groups.filter((pl.col("ids") >= 2) | (pl.col("sfx") >= 2)).height
    shared = groups.height
    return {
        "shared_keys": shared,
        "multi_person_keys": multi,
        "households": multi >= 1 and multi >= HOUSEHOLD_EVIDENCE_MIN_SHARE * shared,
    }


def generational_household(norm: pl.DataFrame) -> pl.Expr:
    """True for records whose phone or address (postcode + house number) is also carried by a
    record with a generational suffix: a Jr / Sr household, where name + phone or address
    cannot tell father from son once a furnisher drops the suffix."""
    has_suffix = pl.col("suffix").is_not_null()
    addr = pl.concat_str([pl.col("postcode"), address_anchor_expr()], separator=":")
    by_addr = pl.when(addr.is_not_null()).then(has_suffix.any().over(addr)).otherwise(False)
    by_phone = (
        pl.when(pl.col("phone").is_not_null())
        .then(has_suffix.any().over("phone"))
        .otherwise(False)
    )
    return (by_addr | by_phone).alias("generational_household")


def name_frequencies(norm: pl.DataFrame) -> list[pl.Expr]:
    """Number of records carrying each full given name and each surname (the evidence that a
    spelling is an established name rather than a typo, see :func:`.guards.distinct_names`)."""
    return [
        pl.len().over("given_full").cast(pl.Int32).alias("given_full_freq"),
        pl.len().over("surname").cast(pl.Int32).alias("surname_freq"),
    ]


def doppelganger_records(
    norm: pl.DataFrame, edges: pl.DataFrame, match_threshold: float
) -> list[bool]:
    """Per record: it carries a valid national ID, and a record with a *different* valid ID
    and the very same name key and birth date matches it at or above the threshold (twins
    whose names romanise alike: 吕晓 / 吕小 are both "lu xiao"). A record without ID or phone
    that fits such a file fits the twin's file as well."""
    v = norm.select("_rid", _valid_id_expr().alias("vid"), "name_key", "dob")
    strong = edges.filter(pl.col("match_probability") >= match_threshold)
    pairs = (
        strong.select("_rid_l", "_rid_r")
        .join(v.rename(lambda c: f"{c}_l"), on="_rid_l")
        .join(v.rename(lambda c: f"{c}_r"), on="_rid_r")
        .filter(
            (pl.col("vid_l") != pl.col("vid_r"))
            & (pl.col("name_key_l") == pl.col("name_key_r"))
            & (pl.col("dob_l") == pl.col("dob_r"))
        )
    )
    ids = pl.concat([pairs.get_column("vid_l"), pairs.get_column("vid_r")]).unique()
    return norm.select(_valid_id_expr().is_in(ids.implode()).fill_null(False)).to_series().to_list()


def id_or_phone(a: dict, b: dict) -> bool:
    return ids_corroborate(a["nid"], b["nid"]) or bool(a["phone"] and a["phone"] == b["phone"])


def cluster_edges(
    norm: pl.DataFrame,
    edges: pl.DataFrame,
    match_threshold: float,
    *,
    max_cluster_size: int = 50,
    household_guards: bool = True,
    common_name_years: int = 4,
) -> tuple[list[int], list[tuple[int, int, float, float, str]]]:
    """Guarded clustering of scored edges (``_rid_l, _rid_r, match_weight,
    match_probability``, strongest first) over ``norm`` (row ``i`` is ``_rid`` ``i``).
    Returns the root of each record and the refused / below-threshold edges with a reason."""
    n = norm.height
    valid = norm.select(_valid_id_expr()).to_series().to_list()
    suffixes = norm.get_column("suffix").to_list()
    norm = norm.with_columns(*name_frequencies(norm), generational_household(norm))
    names = [
        (g, gf, s, n) if g else None
        for g, gf, s, n in norm.select(
            "given", "given_full", "surname", "given_full_freq"
        ).iter_rows()
    ]
    recs = norm.select(
        "dob", "nid", "phone", "given_full", "surname", "suffix", "addr_tokens", "postcode",
        "given_full_freq", "surname_freq", "generational_household",
    ).to_dicts()
    # very common full names: carried by people born in >= common_name_years distinct years
    common = norm.select(
        (pl.col("dob_year").n_unique().over("name_key") >= common_name_years)
        & pl.col("name_key").is_not_null()
    ).to_series().to_list()
    cl = _Clusters(
        n, valid, suffixes, names, norm.get_column("dob").to_list(),
        norm.get_column("nid").to_list(), max_cluster_size, household_guards,
    )
    cl.doppelganger = doppelganger_records(norm, edges, match_threshold)
    review: list[tuple[int, int, float, float, str]] = []
    ls = edges.get_column("_rid_l").to_list()
    rs = edges.get_column("_rid_r").to_list()
    ws = edges.get_column("match_weight").to_list()
    ps = edges.get_column("match_probability").to_list()
    for a, b, w, p in zip(ls, rs, ws, ps, strict=True):
        if p < match_threshold:
            ra, rb = cl.find(a), cl.find(b)
            if ra != rb:
                review.append((a, b, w, p, "below_match_threshold"))
            continue
        ra, rb = cl.find(a), cl.find(b)
        if ra == rb:
            continue
        reason = None
        if household_guards:
            if not corroborated(recs[a], recs[b]):
                reason = "insufficient_evidence"
            elif suffix_unconfirmed(recs[a], recs[b]):
                reason = "generational_suffix_unconfirmed"
            elif (common[a] or common[b]) and not common_name_corroborated(recs[a], recs[b]):
                reason = "common_name_insufficient_evidence"
            elif (
                cl.doppelganger[ra] != cl.doppelganger[rb]
                and (cl.ids[ra] is None or cl.ids[rb] is None)
                and not id_or_phone(recs[a], recs[b])
            ):
                reason = "twin_file_needs_id_or_phone"
        reason = reason or cl.conflict(ra, rb)
        if reason:
            review.append((a, b, w, p, reason))
            continue
        cl.union(ra, rb)
    return [cl.find(i) for i in range(n)], review


def resolve(
    records: pl.DataFrame,
    model: IdentityModel | None = None,
    *,
    normalized: bool = False,
    thresholds: Thresholds | None = None,
    max_block_size: int = 100,
    max_cluster_size: int = 50,
    link_only_column: str | None = None,
    default_region: str = "US",
    dayfirst: bool = False,
    fit_kwargs: dict[str, Any] | None = None,
    threads: int | None = None,
    household_guards: bool | None = None,
    common_name_years: int = 4,
) -> BatchResult:
    """Resolve a frame of records into clusters (one cluster = one subject).

    ``records`` has the canonical raw columns (see :mod:`.normalize`) or, with
    ``normalized=True``, is already normalised. Without ``model`` one is fitted on the frame
    with Splink EM. ``link_only_column`` restricts candidate pairs to records whose value in
    that column differs (two-file linkage). Returns cluster ids per record (``cluster_id`` =
    ``record_id`` of the cluster's first record), review pairs and flagged clusters.

    ``household_guards=False`` keeps only the hard guards (different valid national IDs,
    different generational suffixes, cluster size cap) and drops the twin, DOB-conflict,
    given-name-conflict and corroboration guards; ``True`` forces them on; ``None`` (default)
    switches them on when the data show households (:func:`household_evidence`, reported in
    ``stats``). Data without checksum-valid national IDs or generational suffixes can show no
    such evidence: pass ``True`` when the population is known to contain families.

    Names whose ``name_key`` occurs with at least ``common_name_years``
    distinct birth years in the frame are "very common": for them name + DOB alone never
    merges, the ID, phone or address must agree too.
    """
    import duckdb
    from splink import DuckDBAPI, Linker

    t0 = time.perf_counter()
    stats: dict[str, Any] = {}
    norm = records if normalized else normalize_records(
        records, default_region=default_region, dayfirst=dayfirst
    )
    missing = [c for c in NORMALIZED_COLUMNS if c not in norm.columns]
    if missing:
        raise ValueError(f"normalised frame lacks columns {missing}")
    norm = norm.with_row_index("_rid")
    stats["normalize_s"] = time.perf_counter() - t0
    if household_guards is None:
        evidence = household_evidence(norm)
        stats["household_evidence"] = evidence
        household_guards = evidence["households"]
    stats["household_guards"] = household_guards

    t = time.perf_counter()
    if model is None:
        model = fit_model(norm.drop("_rid"), **(fit_kwargs or {}))
    if thresholds is not None:
        model = model.with_thresholds(thresholds)
    th = model.thresholds
    stats["fit_s"] = time.perf_counter() - t

    t = time.perf_counter()
    con = duckdb.connect()
    if threads:
        _run(con, f"set threads = {int(threads)}")
    keys = blocking_keys_frame(norm, id_column="_rid")
    sources = None
    if link_only_column:
        sources = norm.select("_rid", pl.col(link_only_column).cast(pl.String).alias("src"))
    n_pairs = candidate_pairs(con, keys, max_block_size=max_block_size, sources=sources)
    stats["blocking_s"] = time.perf_counter() - t
    stats["candidate_pairs"] = n_pairs

    t = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    cols = ["_rid", *[c for c in COMPARISON_COLUMNS if c != "record_id"]]
    con.register("ob_input_view", norm.select(cols).to_arrow())
    _run(con, "create or replace table ob_input as select * from ob_input_view")
    sdf = db_api.register("ob_input")
    linker = Linker(sdf, model.to_splink_settings("_rid"), log_level=None)
    pairs_sdf = db_api.register("ob_blocked_pairs")
    linker.table_management.register_blocked_pairs_for_predict(pairs_sdf)
    if n_pairs:
        pred = linker.inference.predict(threshold_match_probability=th.review)
        edges = pl.from_arrow(
            con.sql(
                f"select _rid_l, _rid_r, match_weight, match_probability "
                f"from {pred.physical_name} order by match_weight desc, _rid_l, _rid_r"
            ).to_arrow_table()
        )
    else:
        edges = pl.DataFrame(
            schema={"_rid_l": pl.UInt32, "_rid_r": pl.UInt32, "match_weight": pl.Float64,
                    "match_probability": pl.Float64}
        )
    stats["predict_s"] = time.perf_counter() - t
    stats["scored_edges"] = edges.height

    t = time.perf_counter()
    roots, review = cluster_edges(
        norm, edges, th.match, max_cluster_size=max_cluster_size,
        household_guards=household_guards, common_name_years=common_name_years,
    )
    stats["cluster_s"] = time.perf_counter() - t

    rid = norm.get_column("record_id")
    out = pl.DataFrame(
        {"_rid": norm.get_column("_rid"), "_root": roots}, schema_overrides={"_root": pl.UInt32}
    )
    first = out.group_by("_root").agg(
        pl.col("_rid").min().alias("_first"), pl.len().alias("cluster_size")
    )
    out = out.join(first, on="_root", how="left", maintain_order="left")
    cluster_id = rid.gather(out.get_column("_first"))
    review_df = pl.DataFrame(
        review,
        schema={"_l": pl.UInt32, "_r": pl.UInt32, "match_weight": pl.Float64,
                "match_probability": pl.Float64, "reason": pl.String},
        orient="row",
    )
    review_pairs = pl.DataFrame({
        "record_id_l": rid.gather(review_df.get_column("_l")),
        "record_id_r": rid.gather(review_df.get_column("_r")),
        "match_weight": review_df.get_column("match_weight"),
        "match_probability": review_df.get_column("match_probability"),
        "reason": review_df.get_column("reason"),
    })
    first_arr = out.get_column("_first").to_list()
    flagged_rows: list[tuple[int, str]] = []
    cap_hit = out.filter(pl.col("cluster_size") >= max_cluster_size).get_column("_first").unique()
    flagged_rows += [(i, "cluster_size_cap") for i in cap_hit.to_list()]
    guard_hits = review_df.filter(pl.col("reason") != "below_match_threshold")
    for a, b, reason in guard_hits.select("_l", "_r", "reason").iter_rows():
        flagged_rows.append((first_arr[a], reason))
        flagged_rows.append((first_arr[b], reason))
    flagged = pl.DataFrame(flagged_rows, schema={"_first": pl.UInt32, "reason": pl.String},
                           orient="row").unique()
    flagged_clusters = pl.DataFrame({
        "cluster_id": rid.gather(flagged.get_column("_first")),
        "reason": flagged.get_column("reason"),
    })
    flagged_set = set(flagged.get_column("_first").to_list())
    clusters = pl.DataFrame({
        "record_id": rid,
        "cluster_id": cluster_id,
        "cluster_size": out.get_column("cluster_size"),
        "flagged": [f in flagged_set for f in first_arr],
    })
    stats["total_s"] = time.perf_counter() - t0
    stats["clusters"] = first.height
    con.close()
    return BatchResult(clusters, review_pairs, flagged_clusters, model, stats)
