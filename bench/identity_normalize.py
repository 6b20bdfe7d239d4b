"""Identity normalisation benchmark: columnar `normalize_records` vs the per-value reference.

    python bench/identity_normalize.py [--records 100000] [--accounts 50000] [--repeats 3]

Two populations:

1. ``synth``: ``openbureau.identity.synth.generate_population(--records)``, records from
   several furnishers about US and Chinese people (Han and pinyin names, 年 dates, Chinese
   addresses, placeholder IDs, typos).
2. ``metro2``: the first month of ``bench/metro2_ingest.py`` (``--accounts`` clean US accounts,
   every person new), read back with ``read_chunks`` and ``to_native``, and turned into the
   frame the furnishing path hands to ``normalize_records`` (``identity.matching.normalized``).

"old" is ``normalize_records_reference`` (main's implementation: each per-value function
once per distinct value), "new" is ``normalize_records`` (polars expressions, the per-value
functions only for what they cannot settle). Each run starts with empty per-value caches, as
a first load of new identities would. Runs alternate old / new; the figures are the median
CPU time (all threads, ``time.process_time``) and wall time, and old / new. Both frames are
checked equal once per population.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import polars as pl
from polars.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).parent))
from metro2_ingest import MONTHS, month_file  # noqa: E402

from openbureau.furnishing.metro2 import read_chunks, to_native  # noqa: E402
from openbureau.identity import matching  # noqa: E402
from openbureau.identity import normalize as norm  # noqa: E402
from openbureau.identity.synth import generate_population  # noqa: E402

CACHES = (
    norm._normalize_name_cached,
    norm._normalize_nid_cached,
    norm._normalize_date_cached,
    norm._normalize_address_cached,
    norm._normalize_phone_cached,
    norm._romanize_han,
)


def metro2_identities(accounts: int) -> pl.DataFrame:
    """What `FurnishingMatcher.prepare` normalises for a first Metro 2 load of `accounts`."""
    with tempfile.TemporaryDirectory(prefix="ob-norm-bench-") as work:
        path = month_file(Path(work) / "m1.m2", accounts, MONTHS[0], population="dense")
        native = pl.concat([to_native(c).accounts for c in read_chunks(path)])
    identities = native.select(
        *(pl.col(name).cast(dtype) for name, dtype in matching.IDENTITY_SCHEMA.items())
    )
    # the frame `normalized` builds for normalize_records, taken as it is handed over
    with mock.patch.object(matching, "normalize_records", lambda raw, **_: raw):
        return matching.normalized(identities, "US")


def timed(fn, frame: pl.DataFrame) -> tuple[float, float, pl.DataFrame]:
    for cache in CACHES:
        cache.cache_clear()
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(frame, default_region="US")
    return time.process_time() - cpu, time.perf_counter() - wall, out


def compare(name: str, frame: pl.DataFrame, repeats: int) -> None:
    runs: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    fns = {"old": norm.normalize_records_reference, "new": norm.normalize_records}
    outs = {}
    for _ in range(repeats):
        for label, fn in fns.items():
            cpu, wall, outs[label] = timed(fn, frame)
            runs[label].append((cpu, wall))
    assert_frame_equal(outs["old"], outs["new"])
    med = {
        k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
        for k, v in runs.items()
    }
    (oc, ow), (nc, nw) = med["old"], med["new"]
    print(
        f"{name:7s} {frame.height:>8,} records  old cpu {oc:6.2f} s wall {ow:6.2f} s | "
        f"new cpu {nc:6.2f} s wall {nw:6.2f} s | old/new cpu {oc / nc:4.1f}x "
        f"wall {ow / nw:4.1f}x | {1e6 * nc / frame.height:5.1f} us/record new"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    synth = generate_population(args.records, seed=11)
    metro2 = metro2_identities(args.accounts)
    # imports (pypinyin, phonenumbers, stdnum) and polars' first calls out of the timings
    norm.normalize_records_reference(synth.head(500))
    norm.normalize_records(synth.head(500))
    print(
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs, polars {pl.__version__}, {pl.thread_pool_size()} threads)"
    )
    compare("synth", synth, args.repeats)
    compare("metro2", metro2, args.repeats)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
