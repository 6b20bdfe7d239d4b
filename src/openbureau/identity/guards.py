"""Hard guards against mixed files, shared by the online scorer and batch clustering.

A mixed file (two people in one subject) is the worst error a bureau can make, so some
evidence overrides any match weight:

* two *valid* national IDs of the same type that differ → different people, never merge;
* two different generational suffixes (Jr vs Sr, II vs III) → never merge;
* "twins": same surname and same birth date but clearly different given names → never merge
  automatically, send to review (a shared family address makes such pairs score high);
* birth dates that cannot be typos of each other (not equal, not day/month swapped, more than
  two digits apart) with no national ID corroborating the link → never merge automatically
  (household members share address, phone and often surname; their DOBs differ);
* clearly different given names without a corroborating national ID → never merge
  automatically (spouses / siblings sharing address, phone and surname). Nicknames
  (Bob / Robert) are therefore sent to review rather than merged: fragmentation is the lesser
  error;
* no personal identifier agrees (neither a typo-compatible birth date, nor a corroborating
  national ID, nor the same phone) → at most review: name + address alone is not enough,
  especially for very common names (王伟 at a shared address).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rapidfuzz.distance import Hamming, JaroWinkler, Levenshtein

__all__ = [
    "TWIN_GIVEN_NAME_JW",
    "common_name_corroborated",
    "corroborated",
    "dob_conflict",
    "dobs_compatible",
    "given_name_conflict",
    "names_differ",
    "hard_conflict",
    "ids_corroborate",
    "is_twin_like",
    "twin_given_names_differ",
    "twin_names_conflict",
    "valid_id",
]

TWIN_GIVEN_NAME_JW = 0.9


def valid_id(rec: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(nid_type, nid)`` when the record carries a checksum/structure-valid national ID."""
    if rec.get("nid_valid") and rec.get("nid") and rec.get("nid_type") in ("cn_ric", "us_ssn"):
        return (rec["nid_type"], rec["nid"])
    return None


def hard_conflict(a: Mapping[str, Any], b: Mapping[str, Any]) -> str | None:
    """Reason string if ``a`` and ``b`` must never be merged, else ``None``."""
    ia, ib = valid_id(a), valid_id(b)
    if ia and ib and ia[0] == ib[0] and ia[1] != ib[1]:
        return "different_valid_national_ids"
    sa, sb = a.get("suffix"), b.get("suffix")
    if sa and sb and sa != sb:
        return "different_generational_suffix"
    return None


def given_names_differ(ga: str | None, gb: str | None) -> bool:
    """Clearly different given names: not a single typo apart and not a prefix / initial of
    each other, and not Jaro-Winkler-close. Pinyin names sharing a first syllable
    (weiqiang / weifang) count as different."""
    if not ga or not gb:
        return False
    if ga.startswith(gb) or gb.startswith(ga):
        return False
    if Levenshtein.distance(ga, gb) <= 1:
        return False
    return JaroWinkler.similarity(ga, gb) < TWIN_GIVEN_NAME_JW or Levenshtein.distance(ga, gb) >= 3


def ids_corroborate(na: str | None, nb: str | None) -> bool:
    """Same national ID, or one edit / one swap apart (a typo of the same ID)."""
    if not na or not nb:
        return False
    if na == nb:
        return True
    if Levenshtein.distance(na, nb) <= 1:
        return True
    return len(na) == len(nb) and Hamming.distance(na, nb) == 2 and sorted(na) == sorted(nb)


def names_differ(
    ga: str | None, gfa: str | None, sa: str | None,
    gb: str | None, gfb: str | None, sb: str | None,
) -> bool:
    """Given names clearly different and not explained by a given/surname swap."""
    if not (given_names_differ(ga, gb) and given_names_differ(gfa, gfb)):
        return False
    return not ((gfa and gfa == sb) or (gfb and gfb == sa))


def twin_names_conflict(
    ga: str | None, gfa: str | None, sa: str | None, nida: str | None,
    gb: str | None, gfb: str | None, sb: str | None, nidb: str | None,
) -> bool:
    """Given names clearly different (and not a given/surname swap), with no national ID
    corroborating that the two records are the same person."""
    return names_differ(ga, gfa, sa, gb, gfb, sb) and not ids_corroborate(nida, nidb)


def given_name_conflict(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Clearly different given names and no corroborating national ID (spouses, siblings,
    parent/child sharing address and phone)."""
    return twin_names_conflict(
        a.get("given"), a.get("given_full"), a.get("surname"), a.get("nid"),
        b.get("given"), b.get("given_full"), b.get("surname"), b.get("nid"),
    )


def is_twin_like(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same surname + same DOB, clearly different given names, no corroborating ID:
    possible twins (or siblings sharing a file), never auto-merged."""
    return bool(
        a.get("surname")
        and a.get("dob")
        and a.get("surname") == b.get("surname")
        and a.get("dob") == b.get("dob")
        and twin_given_names_differ(a.get("given_full"), b.get("given_full"))
        and not ids_corroborate(a.get("nid"), b.get("nid"))
    )


def dobs_compatible(da: str | None, db: str | None) -> bool:
    """Equal, day/month swapped, one edit / one swap apart, or two edits within the same year
    (typo-compatible)."""
    if not da or not db:
        return True
    if da == db or da == db[:4] + db[6:8] + db[4:6]:
        return True
    d = Levenshtein.distance(da, db)
    if d <= 1 or (len(da) == len(db) and Hamming.distance(da, db) == 2
                  and sorted(da) == sorted(db)):
        return True
    # two edits only within the same birth year (1941 vs 1963 is a different person)
    return d <= 2 and da[:4] == db[:4]


def dob_conflict(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Both birth dates present and incompatible, and no national ID corroborates."""
    return not dobs_compatible(a.get("dob"), b.get("dob")) and not ids_corroborate(
        a.get("nid"), b.get("nid")
    )


def corroborated(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """At least one personal identifier agrees: birth date (typo-compatible, or same year
    with identical full name), national ID (same or one edit), or phone."""
    da, db = a.get("dob"), b.get("dob")
    if da and db and dobs_compatible(da, db):
        return True
    # same birth year and the very same full name (a twin or spouse would differ in name)
    if (
        da and db and da[:4] == db[:4] and a.get("given_full") and a.get("surname")
        and a.get("given_full") == b.get("given_full") and a.get("surname") == b.get("surname")
    ):
        return True
    if ids_corroborate(a.get("nid"), b.get("nid")):
        return True
    pa, pb = a.get("phone"), b.get("phone")
    return bool(pa and pa == pb)


def common_name_corroborated(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """For very common names, name + birth date is not enough: also require the national ID
    (same / one edit), the phone, or the address (token Jaccard >= 0.5) to agree."""
    if ids_corroborate(a.get("nid"), b.get("nid")):
        return True
    pa, pb = a.get("phone"), b.get("phone")
    if pa and pa == pb:
        return True
    ta, tb = set(a.get("addr_tokens") or ()), set(b.get("addr_tokens") or ())
    return bool(ta and tb and 2 * len(ta & tb) >= len(ta | tb))


def twin_given_names_differ(gfa: str | None, gfb: str | None) -> bool:
    """Stricter test used when surname and birth date coincide (twins): any difference
    beyond one typo counts (pinyin twins often share a syllable: weiping / weifang)."""
    if not gfa or not gfb or gfa.startswith(gfb) or gfb.startswith(gfa):
        return False
    return Levenshtein.distance(gfa, gfb) >= 2
