"""Synthetic populations with known truth, for tests and benchmarks (no real people).

:func:`generate_population` creates subjects (US and Chinese), then records about them as
several furnishers would send them, with realistic noise: typos, name-order and script
variants (张伟 / "ZHANG Wei" / "Wei Zhang"), swapped day/month, moved addresses, missing and
placeholder IDs, phone formats. It also plants the hard cases: twins (same surname, DOB,
address and phone, different given names and IDs), Jr/Sr pairs at one address, households
sharing an address, and very common names.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import polars as pl

__all__ = ["generate_population"]

_US_GIVEN_M = [
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "christopher",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "donald",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kenneth",
    "kevin",
    "brian",
    "george",
    "timothy",
    "ronald",
    "edward",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
]
_US_GIVEN_F = [
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
]
_US_SURNAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "okafor",
    "kowalski",
    "lindqvist",
    "moreau",
    "fitzgerald",
    "oconnor",
    "schmidt",
    "rossi",
    "novak",
    "haddad",
]
# (hanzi, pinyin) — frequency-weighted by list position
_CN_SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("吕", "lu"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
]
_CN_GIVEN_CHARS = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂", "gui"),
    ("文", "wen"),
    ("华", "hua"),
    ("建", "jian"),
    ("国", "guo"),
    ("小", "xiao"),
    ("海", "hai"),
    ("晓", "xiao"),
    ("宇", "yu"),
    ("欣", "xin"),
]
_US_STREETS = [
    "main",
    "oak",
    "pine",
    "maple",
    "cedar",
    "elm",
    "washington",
    "lake",
    "hill",
    "park",
    "sunset",
    "lincoln",
    "jackson",
    "church",
    "river",
    "highland",
    "meadow",
    "forest",
    "spring",
    "willow",
    "chestnut",
    "franklin",
    "madison",
    "adams",
]
_US_TYPES = [
    ("st", "street"),
    ("rd", "road"),
    ("ave", "avenue"),
    ("dr", "drive"),
    ("ln", "lane"),
    ("ct", "court"),
    ("blvd", "boulevard"),
]
_US_CITIES = [
    ("springfield", "IL", "627"),
    ("riverside", "CA", "925"),
    ("franklin", "TN", "370"),
    ("greenville", "SC", "296"),
    ("madison", "WI", "537"),
    ("salem", "OR", "973"),
    ("fairview", "TX", "750"),
    ("georgetown", "KY", "403"),
    ("clinton", "IA", "527"),
]
_CN_CITIES = [
    ("北京市", "朝阳区", "110105"),
    ("上海市", "浦东新区", "310115"),
    ("广东省深圳市", "南山区", "440305"),
    ("浙江省杭州市", "西湖区", "330106"),
    ("四川省成都市", "武侯区", "510107"),
    ("湖北省武汉市", "洪山区", "420111"),
]
_CN_ROADS = ["建国", "人民", "解放", "中山", "长江", "和平", "科技园", "文化", "新华", "光明"]

_PLACEHOLDER_IDS = ["000-00-0000", "N/A", "123-45-6789", "111-11-1111", "999999999", "unknown"]


def _ssn(rng: random.Random, issued: set[str]) -> str:
    # a national ID is issued to one person only: redraw on a collision
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        ssn = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        if ssn not in issued:
            issued.add(ssn)
            return ssn


def _cn_ric(rng: random.Random, area: str, dob: str, sex: str, issued: set[str]) -> str:
    from stdnum.cn import ric

    while True:  # unique per person (twins share area and birth date, not the sequence)
        seq = rng.randint(0, 499) * 2 + (1 if sex == "m" else 0)
        body = f"{area}{dob}{seq:03d}"
        nid = body + ric.calc_check_digit(body + "0")
        if nid not in issued:
            issued.add(nid)
            return nid


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.random()
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op < 0.35:
        return s[:i] + rng.choice(letters) + s[i + 1 :]
    if op < 0.6:
        return s[:i] + s[i + 1 :]
    if op < 0.8:
        return s[:i] + rng.choice(letters) + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


def _dob(rng: random.Random, lo: int = 1940, hi: int = 2004) -> str:
    y = rng.randint(lo, hi)
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    return f"{y:04d}{m:02d}{d:02d}"


def _weighted(rng: random.Random, items: list, skew: float = 1.2):
    # Zipf-like: early items are much more common ("very common names")
    n = len(items)
    i = min(int(rng.paretovariate(skew)) - 1, n - 1)
    return items[i] if rng.random() < 0.7 else items[rng.randrange(n)]


def _us_address(rng: random.Random) -> tuple[str, str, str]:
    city, state, zip3 = rng.choice(_US_CITIES)
    num = rng.randint(1, 9999)
    street = rng.choice(_US_STREETS)
    abbr, full = rng.choice(_US_TYPES)
    zipc = f"{zip3}{rng.randint(0, 99):02d}"
    return f"{num} {street.title()} {full.title()}|{abbr}", f"{city.title()} {state}", zipc


def _cn_address(rng: random.Random) -> tuple[str, str, str]:
    city, district, area = rng.choice(_CN_CITIES)
    road = rng.choice(_CN_ROADS)
    return (
        f"{city}{district}{road}路{rng.randint(1, 999)}号",
        area,
        f"{rng.randint(100000, 899999)}",
    )


def _subject(rng: random.Random, sid: int, issued: set[str]) -> dict:
    cn = rng.random() < 0.3
    sex = rng.choice("mf")
    dob = _dob(rng)
    if cn:
        sur = _weighted(rng, _CN_SURNAMES)
        n_given = 1 if rng.random() < 0.4 else 2
        given = [_weighted(rng, _CN_GIVEN_CHARS) for _ in range(n_given)]
        addr, area, post = _cn_address(rng)
        nid = _cn_ric(rng, area, dob, sex, issued)
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        return {
            "sid": sid,
            "cn": True,
            "sex": sex,
            "dob": dob,
            "sur": sur,
            "given": given,
            "addr": addr,
            "city": "",
            "post": post,
            "nid": nid,
            "phone": phone,
            "suffix": None,
            "area": area,
        }
    given = _weighted(rng, _US_GIVEN_M if sex == "m" else _US_GIVEN_F)
    sur = _weighted(rng, _US_SURNAMES)
    addr, city, post = _us_address(rng)
    phone = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"
    return {
        "sid": sid,
        "cn": False,
        "sex": sex,
        "dob": dob,
        "sur": sur,
        "given": given,
        "addr": addr,
        "city": city,
        "post": post,
        "nid": _ssn(rng, issued),
        "phone": phone,
        "suffix": None,
    }


def _related(rng: random.Random, base: dict, sid: int, kind: str, issued: set[str]) -> dict:
    """A twin / father-son / spouse sharing base's household."""
    s = dict(base)
    s["sid"] = sid
    if kind == "twin":
        s["sex"] = rng.choice("mf")
        if base["cn"]:
            while s["given"] == base["given"]:
                s["given"] = [_weighted(rng, _CN_GIVEN_CHARS) for _ in range(len(base["given"]))]
        else:
            pool = _US_GIVEN_M if s["sex"] == "m" else _US_GIVEN_F
            while s["given"] == base["given"]:
                s["given"] = rng.choice(pool)
    elif kind == "junior":
        y = int(base["dob"][:4]) + rng.randint(20, 35)
        s["dob"] = (
            f"{min(y, 2005):04d}{base['dob'][4:]}"
            if rng.random() < 0.3
            else _dob(rng, min(y, 2004), min(y, 2004))
        )
        s["sex"] = "m"
        base["suffix"], s["suffix"] = "Sr", "Jr"
    else:  # spouse / housemate
        s["sex"] = "f" if base["sex"] == "m" else "m"
        s["dob"] = _dob(rng)
        if base["cn"]:
            s["sur"] = _weighted(rng, _CN_SURNAMES)
            s["given"] = [_weighted(rng, _CN_GIVEN_CHARS) for _ in range(2)]
        else:
            s["given"] = rng.choice(_US_GIVEN_M if s["sex"] == "m" else _US_GIVEN_F)
        s["phone"] = (
            base["phone"] if rng.random() < 0.5 else s["phone"][:-4] + str(rng.randint(1000, 9999))
        )
    if base["cn"]:
        s["nid"] = _cn_ric(rng, base["area"], s["dob"], s["sex"], issued)
    else:
        s["nid"] = _ssn(rng, issued)
    return s


def _render_name(rng: random.Random, s: dict) -> dict:
    if s["cn"]:
        han_sur, py_sur = s["sur"]
        han_given = "".join(h for h, _ in s["given"])
        py_given = [p for _, p in s["given"]]
        r = rng.random()
        if r < 0.35:
            return {"full_name": han_sur + han_given}
        if r < 0.55:
            return {"full_name": f"{py_sur.upper()} {''.join(py_given).title()}"}
        if r < 0.75:
            g = (
                " ".join(p.title() for p in py_given)
                if rng.random() < 0.3
                else "".join(py_given).title()
            )
            return {"full_name": f"{g} {py_sur.title()}"}
        return {"given_name": "".join(py_given).title(), "surname": py_sur.title()}
    given, sur = s["given"], s["sur"]
    if rng.random() < 0.08:
        given = _typo(rng, given)
    if rng.random() < 0.06:
        sur = _typo(rng, sur)
    suffix = s["suffix"] if (s["suffix"] and rng.random() < 0.85) else None
    r = rng.random()
    if r < 0.4:
        out = {"given_name": given.title(), "surname": sur.title()}
        if suffix:
            out["name_suffix"] = suffix
        return out
    sx = f" {suffix}" if suffix else ""
    if r < 0.7:
        return {"full_name": f"{given.title()} {sur.title()}{sx}"}
    if r < 0.85:
        return {"full_name": f"{sur.title()}, {given.title()}{sx}"}
    return {"full_name": f"{given.upper()} {sur.upper()}{sx}"}


def _render_dob(rng: random.Random, dob: str) -> str | None:
    r = rng.random()
    if r < 0.04:
        return None
    y, m, d = dob[:4], dob[4:6], dob[6:]
    if r < 0.06 and int(d) <= 12:
        m, d = d, m  # swapped day/month
    elif r < 0.08:
        i = rng.randrange(8)
        s = list(dob)
        s[i] = str((int(s[i]) + 1) % 10)
        cand = "".join(s)
        y, m, d = cand[:4], cand[4:6], cand[6:]
    fmt = rng.random()
    if fmt < 0.5:
        return f"{y}-{m}-{d}"
    if fmt < 0.8:
        return f"{y}{m}{d}"
    return f"{m}/{d}/{y}"


def _render_id(rng: random.Random, s: dict) -> str | None:
    r = rng.random()
    if r < 0.18:
        return None
    if r < 0.21:
        return rng.choice(_PLACEHOLDER_IDS)
    nid = s["nid"]
    if s["cn"] and r < 0.23:
        i = rng.randrange(6, 17)  # typo → invalid checksum (almost always)
        nid = nid[:i] + str((int(nid[i]) + 3) % 10) + nid[i + 1 :]
    if not s["cn"] and rng.random() < 0.5:
        nid = nid.replace("-", "")
    return nid


def _render_address(rng: random.Random, s: dict, moved: bool) -> tuple[str | None, str | None]:
    if rng.random() < 0.05:
        return None, None
    if moved:
        addr, city, post = _cn_address(rng) if s["cn"] else _us_address(rng)
    else:
        addr, city, post = s["addr"], s["city"], s["post"]
    if s["cn"]:
        return addr, post
    line, abbr = addr.split("|")
    if rng.random() < 0.5:
        words = line.split()
        line = " ".join(words[:-1] + [abbr.title() + ("." if rng.random() < 0.5 else "")])
    if rng.random() < 0.05:
        line = _typo(rng, line.lower())
    return f"{line}, {city}", post


def _render_phone(rng: random.Random, s: dict) -> str | None:
    if rng.random() < 0.35:
        return None
    p = s["phone"]
    if s["cn"]:
        return p if rng.random() < 0.5 else f"+86 {p[:3]} {p[3:7]} {p[7:]}"
    r = rng.random()
    if r < 0.4:
        return f"({p[:3]}) {p[3:6]}-{p[6:]}"
    if r < 0.7:
        return f"+1 {p[:3]}-{p[3:6]}-{p[6:]}"
    return p


def _records(
    rng: random.Random, subjects: list[dict], n_records: int, furnishers: int
) -> Iterator[dict]:
    n = len(subjects)
    for rid in range(n_records):
        # every subject gets at least one record; the rest are spread with a skew
        s = subjects[rid] if rid < n else subjects[int(rng.random() ** 1.5 * n)]
        rec = {
            "record_id": f"r{rid}",
            "true_id": s["sid"],
            "source": f"furnisher_{rng.randrange(furnishers)}",
        }
        rec.update(_render_name(rng, s))
        rec["dob"] = _render_dob(rng, s["dob"])
        rec["national_id"] = _render_id(rng, s)
        rec["id_country"] = "CN" if s["cn"] else "US"
        moved = rng.random() < 0.12
        rec["address"], rec["postcode"] = _render_address(rng, s, moved)
        rec["phone"] = _render_phone(rng, s)
        rec["sex"] = s["sex"] if rng.random() < 0.7 else None
        yield rec


def generate_population(
    n_records: int = 10_000,
    *,
    records_per_subject: float = 2.5,
    twin_rate: float = 0.02,
    junior_rate: float = 0.01,
    household_rate: float = 0.25,
    furnishers: int = 6,
    seed: int = 0,
) -> pl.DataFrame:
    """Records in openbureau's canonical raw columns plus ``true_id`` and ``source``."""
    rng = random.Random(seed)
    n_subjects = max(1, int(n_records / records_per_subject))
    subjects: list[dict] = []
    issued: set[str] = set()
    while len(subjects) < n_subjects:
        s = _subject(rng, len(subjects), issued)
        subjects.append(s)
        r = rng.random()
        if len(subjects) < n_subjects and r < twin_rate:
            subjects.append(_related(rng, s, len(subjects), "twin", issued))
        elif len(subjects) < n_subjects and r < twin_rate + junior_rate and not s["cn"]:
            subjects.append(_related(rng, s, len(subjects), "junior", issued))
        elif len(subjects) < n_subjects and r < twin_rate + junior_rate + household_rate:
            subjects.append(_related(rng, s, len(subjects), "household", issued))
    cols = [
        "record_id",
        "true_id",
        "source",
        "full_name",
        "given_name",
        "surname",
        "name_suffix",
        "dob",
        "sex",
        "national_id",
        "id_country",
        "address",
        "postcode",
        "phone",
    ]
    rows = list(_records(rng, subjects, max(n_records, 1), furnishers))
    data = {c: [r.get(c) for r in rows] for c in cols}
    schema = {c: (pl.Int64 if c == "true_id" else pl.String) for c in cols}
    return pl.DataFrame(data, schema=schema)


def us_consumers(n: int, *, seed: int = 0) -> pl.DataFrame:
    """n distinct US consumers as a furnisher's file would list them, for load benchmarks.

    Names, streets and cities come from the pools above with Zipf-like weights (so common
    names are common), ZIP codes from each city's three-digit prefix, birth dates from
    1940-2003. Columns: surname, first_name, street (number and name), city, state,
    zip_code, date_of_birth. Drawn with NumPy and polars, not per person.
    """
    rng = np.random.default_rng(seed)

    def pick(items: list[str]) -> pl.Series:
        weights = 1.0 / np.arange(1, len(items) + 1) ** 0.8
        drawn = rng.choice(len(items), size=n, p=weights / weights.sum())
        return pl.Series([item.upper() for item in items]).gather(drawn)

    cities = pick([f"{city}|{state}|{zip3}" for city, state, zip3 in _US_CITIES])
    return (
        pl.DataFrame(
            {
                "surname": pick(_US_SURNAMES),
                "first_name": pick(_US_GIVEN_M + _US_GIVEN_F),
                "street_number": rng.integers(1, 10_000, n),
                "street_name": pick(_US_STREETS),
                "street_kind": pick([full for _, full in _US_TYPES]),
                "city": cities.str.split_exact("|", 2).struct.rename_fields(
                    ["city", "state", "zip3"]
                ),
                "zip2": rng.integers(0, 100, n),
                "date_of_birth": rng.integers(-10957, 12419, n),  # 1940-01-01 .. 2003-12-31
            }
        )
        .unnest("city")
        .select(
            "surname",
            "first_name",
            pl.format("{} {} {}", "street_number", "street_name", "street_kind").alias("street"),
            "city",
            "state",
            (pl.col("zip3") + pl.col("zip2").cast(pl.Utf8).str.zfill(2)).alias("zip_code"),
            pl.col("date_of_birth").cast(pl.Date),
        )
    )
