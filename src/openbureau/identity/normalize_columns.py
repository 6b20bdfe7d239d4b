"""Columnar :func:`~openbureau.identity.normalize.normalize_records`.

The per-value functions in :mod:`openbureau.identity.normalize` define what every attribute
normalises to; this module computes the same values on whole columns. Each attribute is
worked out once per distinct input value: polars expressions settle the shapes they can
reproduce exactly, and the rest goes through the per-value function and is joined back.

What the expressions settle, per attribute (anything else is left to the per-value function):

- names: every part printable ASCII, except a full name of two or more words with a surname
  particle ("de", "van" ...), which nameparser splits. Han names are romanised by pypinyin.
- national IDs, postcodes, phones, sex: printable ASCII; phones only when rejected (too
  short, placeholder), in one of the NANP / mainland-China mobile shapes of ``_fast_e164``,
  or "1" and ten digits starting [2-9] (bare in a US frame, or after "+"); the rest need
  phonenumbers.
- dates: printable ASCII and 年 / 月 / 日.
- addresses: printable ASCII and Han characters (U+3400-4DBF, U+4E00-9FFF).

An attribute with fewer than ``COLUMNAR_FROM`` distinct values in the frame goes to the
per-value functions whole: for so few values they cost less than the expressions.

"Printable ASCII" (U+0020-007E) is the domain where Python's ``str.strip()`` removes only the
space, ``str.lower()`` / ``upper()`` are ASCII case maps, NFKC changes nothing, and ``\\s``,
``\\d``, ``\\w`` and ``isalnum()`` mean their ASCII classes; the Han ranges add letters that
NFKC, NFKD and case mapping leave alone. Inside it the expressions below are exact.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import polars as pl

from openbureau.identity.normalize import (
    _ADDR_ABBREV,
    _ADDR_DROP,
    _CN_ADDR_SPLIT,
    _CN_COMPOUND_SURNAMES,
    _NAME_TOKEN_PLACEHOLDERS,
    _PARTICLES,
    _PINYIN_VARIANTS,
    _PLACEHOLDER_TEXT,
    _SEX,
    _SUFFIXES,
    _TEST_IDS,
    _TITLES,
    NAME_INPUTS,
    NAME_OUTPUTS,
    NID_INPUTS,
    NID_OUTPUTS,
    _normalize_postcode,
    _normalize_sex,
    _romanize_han,
    assemble,
    map_rows,
    name_row,
    nid_row,
    normalize_address,
    normalize_date,
    normalize_phone,
    raw_columns,
)

__all__ = ["normalize_frame"]

_PRINTABLE = r"^[\x20-\x7e]*$"
_HAN = r"\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}"
_SETTLED = "__settled"

# ascending / descending digit runs of 6+ digits: _is_placeholder_number's substring test
_RUNS = "01234567890123456789"
_RUN_SUBSTRINGS = sorted(
    {r[i:j] for r in (_RUNS, _RUNS[::-1]) for i in range(len(r)) for j in range(i + 6, len(r) + 1)}
)
_SAME_CHAR = "^(?:" + "|".join(f"{c}+" for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ")$"
_DATE = (
    r"^(?:([0-9]{4})([0-9]{2})([0-9]{2})"
    r"|([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})"
    r"|([0-9]{4}) *年 *([0-9]{1,2}) *月 *([0-9]{1,2}) *日?"
    r"|([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4}))$"
)
_DATE_PLACEHOLDERS = ["19000101", "19010101", "19700101"]


# --------------------------------------------------------------------------- shared


def _printable(*cols: str) -> pl.Expr:
    ok = [pl.col(c).is_null() | pl.col(c).str.contains(_PRINTABLE) for c in cols]
    return pl.all_horizontal(ok)


def _placeholder(stripped: pl.Expr, alnum: str = "0-9a-z") -> pl.Expr:
    """is_placeholder_text on an already stripped value (null → true)."""
    low = stripped.str.to_lowercase()
    return (low.is_in(sorted(_PLACEHOLDER_TEXT)) | ~low.str.contains(f"[{alnum}]")).fill_null(True)


def _placeholder_number(x: pl.Expr) -> pl.Expr:
    """_is_placeholder_number on upper-case ASCII text."""
    return (
        (x == "")
        | x.str.contains(_SAME_CHAR)
        | x.is_in(sorted(_TEST_IDS))
        | x.is_in(_RUN_SUBSTRINGS)
    )


# Below this many distinct values of an attribute the per-value functions are cheaper than
# the expressions' fixed cost (about 1-20 ms per attribute against 3-40 us per value).
COLUMNAR_FROM = 256


def _by_distinct(
    raw: pl.DataFrame,
    inputs: list[str],
    fast: Callable[[pl.DataFrame], pl.DataFrame],
    scalar: Callable[..., tuple],
    outputs: dict[str, pl.DataType],
    workers: int,
    columnar_from: int,
) -> pl.DataFrame:
    """Output columns for each row of ``raw``, computed once per distinct ``inputs``.

    ``fast(uniq)`` gives, row for row, the output columns and a boolean ``_SETTLED``; the
    distinct values it did not settle, or all of them when there are fewer than
    ``columnar_from``, go through ``scalar(*values) -> tuple``.
    """
    out = {f"__out_{k}": v for k, v in outputs.items()}
    uniq = raw.select(inputs).unique()
    if uniq.height >= columnar_from:
        res = fast(uniq).rename({k: f"__out_{k}" for k in outputs})
        done = pl.concat([uniq, res.select(*out, _SETTLED)], how="horizontal")
        settled = done.filter(pl.col(_SETTLED)).drop(_SETTLED).cast(out)
        rest = done.filter(~pl.col(_SETTLED)).select(inputs)
    else:
        settled, rest = None, uniq
    if rest.height:
        rows = map_rows(scalar, list(rest.iter_rows()), workers)
        slow = pl.concat([rest, pl.DataFrame(rows, schema=out, orient="row")], how="horizontal")
        settled = slow if settled is None else pl.concat([settled, slow])
    if settled is None:  # no rows at all
        settled = uniq.with_columns(pl.lit(None, dtype).alias(k) for k, dtype in out.items())
    joined = raw.select(inputs).join(
        settled, on=inputs, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined.select([pl.col(k).alias(k[len("__out_") :]) for k in out])


def _long_tokens(
    frame: pl.DataFrame, pieces: list[tuple[int, pl.Expr]], carry: list[str]
) -> pl.DataFrame:
    """One row per token: ``uid``, ``fld`` (the piece's number), ``raw`` and the ``carry``
    columns; in uid, fld, token order. ``pieces`` are (fld, list-of-tokens expression)."""
    parts = [
        frame.select("uid", *carry, pl.lit(fld, pl.Int8).alias("fld"), toks.alias("raw"))
        .explode("raw")
        .drop_nulls("raw")
        for fld, toks in pieces
    ]
    return pl.concat(parts).sort("uid", "fld", maintain_order=True)


def _running_count(flag: pl.Expr, start: pl.Expr) -> pl.Expr:
    """How many rows so far have ``flag``, counting from the last row where ``start`` holds
    (a window count on sorted groups, without hashing the group keys)."""
    total = flag.cast(pl.Int32).cum_sum()
    return total - pl.when(start).then(total - flag.cast(pl.Int32)).forward_fill()


def _last(value: pl.Expr, end: pl.Expr) -> pl.Expr:
    """``value`` at the last row of each sorted group (``end`` marks it), on every row."""
    return pl.when(end).then(value).backward_fill()


# --------------------------------------------------------------------------- names

_TOKEN = r"[^ ,]+"  # _tokens_latin: split on runs of whitespace (the space here) and commas


def _clean_token(raw: pl.Expr) -> pl.Expr:
    """_clean_latin_token on ASCII."""
    return raw.str.to_lowercase().str.replace_all("[^0-9a-z]", "").replace(_PINYIN_VARIANTS)


def _clean_name_part(x: pl.Expr) -> pl.Expr:
    """normalize_name's clean(): stripped, placeholders null, "Na" / "na" kept (a name)."""
    s = x.str.strip_chars(" ")
    return pl.when(s.is_in(["Na", "na"])).then(s).when(_placeholder(s)).then(None).otherwise(s)


# A full name of Han characters only, as normalize_name's han_parts reads it: _HAN_RE's class.
_ALL_HAN = r"^[\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}]+$"


def _romanized_parts(texts: list[str]) -> list[tuple[str | None, str | None]]:
    """(first token, all tokens joined) of each text's romanisation, placeholders dropped."""
    out = []
    for text in texts:
        tokens = [t for t in _romanize_han(text) if t and t not in _NAME_TOKEN_PLACEHOLDERS]
        out.append((tokens[0], "".join(tokens)) if tokens else (None, None))
    return out


def _han_full_names(base: pl.DataFrame) -> pl.DataFrame:
    """given_h, given_full_h, surname_h and han (whether they apply) for each row of `base`:
    names written only as a full name in Han characters (张伟, 欧阳娜娜), the commonest
    shape of a Chinese furnisher's file. The surname is a known compound or the first
    character; each part is romanised once per distinct text (pypinyin reads a given name
    as a phrase, so it is not split into characters)."""
    full, given, middle, surname, suffix = NAME_INPUTS
    text = pl.col(full).str.strip_chars(" ")
    # Parts written in printable ASCII that clean to nothing ("", "N/A"), as the per-value
    # function's clean() does; any other part takes the per-value path.
    no_part = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.contains(_PRINTABLE) & pl.col(k).is_null())
        for c, k in ((given, "g"), (middle, "m"), (surname, "s"))
    )
    han = (
        text.str.contains(_ALL_HAN).fill_null(False)
        & ~text.str.to_lowercase().is_in(sorted(_PLACEHOLDER_TEXT))
        & no_part
        & (pl.col(suffix).is_null() | pl.col(suffix).str.contains(_PRINTABLE))
    )
    compound = (text.str.len_chars() >= 3) & text.str.slice(0, 2).is_in(
        sorted(_CN_COMPOUND_SURNAMES)
    )
    split = base.select(
        han=han,
        sur=pl.when(han).then(
            pl.when(compound).then(text.str.slice(0, 2)).otherwise(text.str.slice(0, 1))
        ),
        giv=pl.when(han).then(
            pl.when(compound).then(text.str.slice(2)).otherwise(text.str.slice(1))
        ),
    )
    parts = pl.concat([split["sur"], split["giv"]]).drop_nulls().unique()
    first, joined = zip(*_romanized_parts(parts.to_list()), strict=True) if len(parts) else ((), ())
    lookup = pl.DataFrame(
        {"part": parts, "first": list(first), "joined": list(joined)},
        schema={"part": pl.Utf8, "first": pl.Utf8, "joined": pl.Utf8},
    )
    return (
        split.join(
            lookup.select("part", sur_joined="joined"),
            left_on="sur",
            right_on="part",
            how="left",
            maintain_order="left",
        )
        .join(
            lookup.rename({"first": "giv_first", "joined": "giv_joined"}),
            left_on="giv",
            right_on="part",
            how="left",
            maintain_order="left",
        )
        .select(
            "han",
            given_h=pl.col("giv_first"),
            given_full_h=pl.col("giv_joined"),
            surname_h=pl.col("sur_joined"),
        )
    )


def _names_fast(uniq: pl.DataFrame) -> pl.DataFrame:
    full, given, middle, surname, suffix = NAME_INPUTS
    base = (
        uniq.with_row_index("uid")
        .with_columns(
            eligible=_printable(*NAME_INPUTS),
            f=_clean_name_part(pl.col(full)),
            g=_clean_name_part(pl.col(given)),
            m=_clean_name_part(pl.col(middle)),
            s=_clean_name_part(pl.col(surname)),
            x=_clean_name_part(pl.col(suffix)),
        )
        .with_columns(
            parts=pl.any_horizontal(pl.col(c).is_not_null() for c in "fgms"),
            by_parts=pl.any_horizontal(pl.col(c).is_not_null() for c in "gms"),
            comma=pl.col("f").str.contains(","),
            script=pl.when(
                pl.any_horizontal(
                    pl.col(c).str.contains("[A-Za-z]").fill_null(False) for c in "fgms"
                )
            ).then(pl.lit("latin")),
            suffix_x=_clean_token(pl.col("x")).replace_strict(_SUFFIXES, default=None),
        )
    )
    work = base.filter(pl.col("eligible") & pl.col("parts"))
    by_parts = pl.col("by_parts")
    whole = pl.when(~by_parts).then(pl.col("f"))
    toks = _long_tokens(
        work,
        [
            (0, pl.when(by_parts).then(pl.col("g")).str.extract_all(_TOKEN)),
            (1, pl.when(by_parts).then(pl.col("m")).str.extract_all(_TOKEN)),
            (2, pl.when(by_parts).then(pl.col("s")).str.extract_all(_TOKEN)),
            # a full name: fld 3 before its first comma, fld 4 after it
            (3, whole.str.extract(r"^([^,]*)", 1).str.extract_all(_TOKEN)),
            (4, whole.str.extract(r"^[^,]*,(.*)$", 1).str.extract_all(_TOKEN)),
        ],
        carry=["comma"],
    )

    fld, c = pl.col("fld"), pl.col("c")
    toks = (
        toks.with_columns(c=_clean_token(pl.col("raw")))
        .with_columns(
            title=c.is_in(sorted(_TITLES)),
            sfx=c.is_in(sorted(_SUFFIXES)),
            # the field whose later suffix words are taken as the suffix: the surname, or the
            # whole full name
            grp=pl.when(fld >= 3).then(pl.lit(3, pl.Int8)).otherwise(fld),
        )
        .with_columns(cand=(c != "") & ~pl.col("title"))
    )
    # tokens are sorted by uid, fld: counts within a field or a name run from its first row
    uid, grp = pl.col("uid"), pl.col("grp")
    uid_start = (uid != uid.shift(1)).fill_null(True)
    grp_start = uid_start | (grp != grp.shift(1)).fill_null(True)
    uid_end = (uid != uid.shift(-1)).fill_null(True)
    toks = (
        toks.with_columns(rank=_running_count(pl.col("cand"), grp_start))
        .with_columns(skip_sfx=pl.col("cand") & pl.col("sfx") & (pl.col("rank") > 1) & (grp >= 2))
        .with_columns(kept=pl.col("cand") & ~pl.col("skip_sfx"))
    )
    kept_full = pl.col("kept") & (fld >= 3)
    caps = (
        pl.col("raw").str.contains("[A-Z]")
        & ~pl.col("raw").str.contains("[a-z]")
        & (pl.col("raw").str.len_bytes() > 1)
    )
    toks = toks.with_columns(
        kept_rank=_running_count(kept_full, uid_start),
        caps_rank=_running_count(kept_full & caps, uid_start),
        particle_rank=_running_count(kept_full & c.is_in(sorted(_PARTICLES)), uid_start),
        caps=caps,
    ).with_columns(
        n_kept=_last(pl.col("kept_rank"), uid_end),
        n_caps=_last(pl.col("caps_rank"), uid_end),
        particle=_last(pl.col("particle_rank"), uid_end) > 0,
    )
    kept, n_kept, n_caps = pl.col("kept"), pl.col("n_kept"), pl.col("n_caps")
    caps_split = (n_caps > 0) & (n_caps < n_kept)
    role = (
        pl.when(fld <= 1)
        .then(pl.when(kept).then(pl.lit("g")))
        .when(fld == 2)
        .then(pl.when(kept).then(pl.lit("s")))
        .when(pl.col("comma"))
        .then(
            pl.when(fld == 3)
            .then(pl.lit("s"))
            .when(~pl.col("sfx") & ~pl.col("title"))
            .then(pl.lit("g"))
        )
        .when(~kept)
        .then(None)
        .when(caps_split)
        .then(pl.when(pl.col("caps")).then(pl.lit("s")).otherwise(pl.lit("g")))
        .when(n_kept == 1)
        .then(pl.lit("s"))
        .when(~pl.col("particle"))
        .then(pl.when(pl.col("kept_rank") < n_kept).then(pl.lit("g")).otherwise(pl.lit("s")))
    )
    toks = toks.with_columns(role=role)
    # full names of 2+ words with a particle: nameparser decides
    parser = (
        toks.filter(
            (fld >= 3) & ~pl.col("comma") & ~caps_split & (n_kept >= 2) & pl.col("particle")
        )
        .select("uid")
        .unique()
    )
    words = (
        toks.filter(
            pl.col("role").is_not_null() & (c != "") & ~c.is_in(sorted(_NAME_TOKEN_PLACEHOLDERS))
        )
        .group_by("uid", maintain_order=True)
        .agg(
            given_l=c.filter(pl.col("role") == "g"),
            sur_l=c.filter(pl.col("role") == "s"),
        )
    )
    sfx_words = (
        toks.filter(pl.col("skip_sfx")).group_by("uid", maintain_order=True).agg(suffix_w=c.first())
    )
    out = pl.concat(
        [
            base.join(words, on="uid", how="left", maintain_order="left")
            .join(sfx_words, on="uid", how="left", maintain_order="left")
            .join(
                parser.with_columns(parser=pl.lit(True)),
                on="uid",
                how="left",
                maintain_order="left",
            ),
            _han_full_names(base),
        ],
        how="horizontal",
    )
    han = pl.col("han")
    gfull = (
        pl.when(han)
        .then("given_full_h")
        .otherwise(pl.col("given_l").list.join("").replace("", None))
    )
    sur = pl.when(han).then("surname_h").otherwise(pl.col("sur_l").list.join("").replace("", None))
    return out.with_columns(gfull=gfull, sur=sur).select(
        given=pl.when(han).then("given_h").otherwise(pl.col("given_l").list.first()),
        given_full=pl.col("gfull"),
        surname=pl.col("sur"),
        suffix=pl.when(han)
        .then("suffix_x")
        .when(pl.col("parts"))
        .then(pl.coalesce("suffix_x", pl.col("suffix_w").replace_strict(_SUFFIXES, default=None))),
        name_key=pl.when(pl.col("gfull").is_null())
        .then(pl.col("sur"))
        .when(pl.col("sur").is_null())
        .then(pl.col("gfull"))
        .when(pl.col("gfull") <= pl.col("sur"))
        .then(pl.concat_str("gfull", pl.lit(" "), "sur"))
        .otherwise(pl.concat_str("sur", pl.lit(" "), "gfull")),
        script=pl.when(han).then(pl.lit("han")).otherwise("script"),
        **{_SETTLED: han | (pl.col("eligible") & pl.col("parser").is_null())},
    )


# --------------------------------------------------------------------------- national IDs


def _nids_fast(uniq: pl.DataFrame) -> pl.DataFrame:
    value, country = (pl.col(c) for c in NID_INPUTS)
    compact = value.str.replace_all(r"[ \-./]", "").str.to_uppercase()
    frame = uniq.with_columns(
        eligible=_printable(NID_INPUTS[0])
        & (country.is_null() | country.str.contains(r"^[\x00-\x7f]*$")),
        missing=_placeholder(value.str.strip_chars(" ")),
        compact=compact,
        digits=compact.str.replace_all("[^0-9]", ""),
        c=country.fill_null("").str.to_uppercase(),
        dashes=value.str.count_matches("-", literal=True),
    )
    cp, digits, c = pl.col("compact"), pl.col("digits"), pl.col("c")
    no_id = (
        pl.col("missing")
        | ~cp.str.contains("^[0-9A-Z]+$")
        | _placeholder_number(cp)
        | _placeholder_number(digits)
    )
    ric_shape = cp.str.contains("^[0-9]{17}[0-9X]$")
    cn = c.is_in(["CN", "CHN"]) | ((c == "") & cp.str.contains("^[0-9]{17}.$"))
    us = c.is_in(["US", "USA"]) | (
        (c == "") & (digits.str.len_bytes() == 9) & (pl.col("dashes") == 2)
    )
    ssn_shape = (digits.str.len_bytes() == 9) & (digits == cp)

    # stdnum's ISO 7064 MOD 11-2: the 17 digits read in base 13 (13 = 2 mod 11), < 2**63
    body = pl.when(ric_shape).then(cp.str.slice(0, 17)).str.to_integer(base=13, strict=False)
    check = (1 - 2 * (body % 11)) % 11
    expected = pl.when(check == 10).then(pl.lit("X")).otherwise(check.cast(pl.String))
    year = cp.str.slice(6, 4).cast(pl.Int32, strict=False)
    month = cp.str.slice(10, 2).cast(pl.Int32, strict=False)
    day = cp.str.slice(12, 2).cast(pl.Int32, strict=False)
    ric_valid = (
        ric_shape
        & (expected == cp.str.slice(17, 1))
        & _real_date(year, month, day)
        & (year >= 1880)
        & (year <= _dt.date.today().year)
    )
    area, group, serial = digits.str.slice(0, 3), digits.str.slice(3, 2), digits.str.slice(5, 4)
    ssn_valid = ~(
        area.is_in(["000", "666"])
        | area.str.starts_with("9")
        | (group == "00")
        | (serial == "0000")
        | digits.is_in(["078051120", "457555462", "219099999"])  # stdnum's blacklist
    )

    kind = (
        pl.when(no_id)
        .then(None)
        .when(cn)
        .then(pl.when(ric_shape).then(pl.lit("cn_ric")).otherwise(pl.lit("other")))
        .when(us)
        .then(pl.when(ssn_shape).then(pl.lit("us_ssn")).otherwise(pl.lit("other")))
        .otherwise(pl.lit("other"))
    )
    frame = frame.with_columns(
        nid_type=kind,
        ric_ok=ric_valid.fill_null(False),
        ssn_ok=ssn_valid.fill_null(False),
    )
    is_ric = (pl.col("nid_type") == "cn_ric") & pl.col("ric_ok")
    return frame.select(
        nid=pl.when(pl.col("nid_type") == "us_ssn")
        .then(digits)
        .when(pl.col("nid_type").is_not_null())
        .then(cp),
        nid_type=pl.col("nid_type"),
        nid_valid=pl.when(pl.col("nid_type") == "us_ssn")
        .then(pl.col("ssn_ok"))
        .otherwise(is_ric)
        .fill_null(False),
        id_dob=pl.when(is_ric).then(cp.str.slice(6, 8)),
        id_sex=pl.when(is_ric).then(
            pl.when(cp.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
            .then(pl.lit("m"))
            .otherwise(pl.lit("f"))
        ),
        **{_SETTLED: pl.col("eligible")},
    )


# --------------------------------------------------------------------------- dates


def _real_date(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    last = (
        pl.when(m == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(m.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )
    return (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= last)


def _valid_ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return (_real_date(y, m, d) & (y >= 1880) & (y <= 2100)).fill_null(False)


def _dates_fast(dayfirst: bool) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fast(uniq: pl.DataFrame) -> pl.DataFrame:
        s = pl.col("dob").str.strip_chars(" ")
        groups = s.str.extract_groups(_DATE)
        num = [groups.struct.field(str(i)).cast(pl.Int32, strict=False) for i in range(1, 13)]
        frame = uniq.with_columns(
            eligible=pl.col("dob").is_null() | pl.col("dob").str.contains(r"^[\x20-\x7e年月日]*$"),
            ymd_y=pl.coalesce(num[0], num[3], num[6]),
            ymd_m=pl.coalesce(num[1], num[4], num[7]),
            ymd_d=pl.coalesce(num[2], num[5], num[8]),
            a=num[9],
            b=num[10],
            yy=num[11],
        )
        y, a, b = pl.col("yy"), pl.col("a"), pl.col("b")
        m0, d0 = (b, a) if dayfirst else (a, b)
        swap = ~_valid_ymd(y, m0, d0) & _valid_ymd(y, d0, m0)
        frame = frame.with_columns(
            y=pl.coalesce("ymd_y", "yy"),
            m=pl.coalesce(pl.col("ymd_m"), pl.when(swap).then(d0).otherwise(m0)),
            d=pl.coalesce(pl.col("ymd_d"), pl.when(swap).then(m0).otherwise(d0)),
        )
        y, m, d = pl.col("y"), pl.col("m"), pl.col("d")
        text = pl.concat_str(
            y.cast(pl.String).str.zfill(4),
            m.cast(pl.String).str.zfill(2),
            d.cast(pl.String).str.zfill(2),
        )
        return frame.select(
            dob_n=pl.when(_valid_ymd(y, m, d) & ~text.is_in(_DATE_PLACEHOLDERS)).then(text),
            **{_SETTLED: pl.col("eligible")},
        )

    return fast


# --------------------------------------------------------------------------- addresses

_ADDR_CHUNK = r"""[^ ,;:/\\()\[\]{}"'`]+"""
# in a chunk without Han characters, words are separated by . - # as well
_ADDR_WORD = r"""[^ ,;:/\\()\[\]{}"'`.\-#]+"""
_ADDR_INSIDE_WORD = r"""[^0-9a-z ,;:/\\()\[\]{}"'`.\-#]"""
_CN_NUMBER = r"^([0-9]+)(?:号|栋|单元|室|楼)$"


def _latin_address_tokens(pieces: pl.DataFrame) -> pl.DataFrame:
    word = pl.col("raw").str.replace_all("[^0-9a-z]", "").replace(_ADDR_ABBREV)
    return pieces.with_columns(token=pl.when(~word.is_in(sorted(_ADDR_DROP))).then(word))


def _han_address_tokens(work: pl.DataFrame) -> pl.DataFrame:
    """uid, token of addresses with Han characters, in order: their chunks with Han characters
    split around the 省 / 市 / 区 / 路 / 号 ... units (as re.split keeps them), the others on
    runs of . - #."""
    chunks = (
        work.select("uid", raw=pl.col("low").str.extract_all(_ADDR_CHUNK))
        .explode("raw")
        .drop_nulls("raw")
        .with_row_index("ci")
    )
    han = pl.col("raw").str.contains(f"[{_HAN}]")
    pieces = (
        chunks.filter(han)
        .with_columns(
            raw=pl.col("raw")
            .str.replace_all(_CN_ADDR_SPLIT.pattern, "\x00${1}\x00")
            .str.extract_all(r"[^\x00]+")
        )
        .explode("raw")
        .drop_nulls("raw")
    )
    piece = pl.col("raw")
    pieces = pieces.with_columns(
        token=pl.coalesce(
            piece.str.extract(_CN_NUMBER, 1), piece.str.replace_all(f"[^0-9a-z_{_HAN}]", "")
        )
    )
    words = _latin_address_tokens(
        chunks.filter(~han)
        .with_columns(raw=pl.col("raw").str.extract_all(r"[^.\-#]+"))
        .explode("raw")
        .drop_nulls("raw")
    )
    return pl.concat([pieces, words]).sort("ci", maintain_order=True).select("uid", "token")


def _addresses_fast(uniq: pl.DataFrame) -> pl.DataFrame:
    addr = pl.col("address")
    base = uniq.with_row_index("uid").with_columns(
        eligible=addr.is_null() | addr.str.contains(rf"^[\x20-\x7e{_HAN}]*$"),
        missing=_placeholder(addr.str.strip_chars(" "), alnum=f"0-9a-z{_HAN}"),
    )
    work = base.filter(pl.col("eligible") & ~pl.col("missing")).select(
        "uid", low=addr.str.to_lowercase(), han=addr.str.contains(f"[{_HAN}]")
    )
    # Without Han characters every chunk is split on . - # too, so the words are the runs of
    # letters and digits once the other characters inside words are deleted.
    word = pl.element()
    plain = work.filter(~pl.col("han")).select(
        "uid",
        token=pl.col("low")
        .str.replace_all(_ADDR_INSIDE_WORD, "")
        .str.extract_all("[0-9a-z]+")
        .list.eval(word.replace(_ADDR_ABBREV))
        .list.eval(word.filter(~word.is_in(sorted(_ADDR_DROP)))),
    )
    han = (
        _han_address_tokens(work.filter(pl.col("han")))
        .filter(pl.col("token").is_not_null() & (pl.col("token") != ""))
        .group_by("uid", maintain_order=True)
        .agg(pl.col("token"))
    )
    out = base.join(pl.concat([plain, han]), on="uid", how="left", maintain_order="left")
    return out.select(
        addr_tokens=pl.col("token").list.unique(maintain_order=True).fill_null([]),
        **{_SETTLED: pl.col("eligible")},
    )


# --------------------------------------------------------------------------- phones


def _phones_fast(region: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def fast(uniq: pl.DataFrame) -> pl.DataFrame:
        phone = pl.col("phone")
        digits = phone.str.replace_all("[^0-9]", "")
        frame = uniq.with_columns(
            eligible=_printable("phone"),
            missing=_placeholder(phone.str.strip_chars(" ")),
            digits=digits,
            plus=phone.str.strip_chars_start(" ").str.starts_with("+"),
        )
        d, plus = pl.col("digits"), pl.col("plus")
        n = d.str.len_bytes()
        rejected = (
            pl.col("missing")
            | (n < 6)
            | _placeholder_number(d)
            | _placeholder_number(d.str.slice(-7))
        )
        us, cn = pl.lit(region == "US"), pl.lit(region == "CN")
        plus1 = (plus | us) & (n == 11) & d.str.contains("^1[2-9][0-9]{2}[2-9]")
        nanp = ~plus & us & (n == 10) & d.str.contains("^[2-9][0-9]{2}[2-9]")
        plus86 = plus & (n == 13) & d.str.contains("^861[3-9]")
        cn_mobile = ~plus & cn & (n == 11) & d.str.contains("^1[3-9]")
        # Beyond _fast_e164: eleven bare digits "1 NXX ..." that _fast_e164 leaves to
        # phonenumbers (a central-office code 0xx / 1xx, or a Chinese mobile number in a US
        # frame). phonenumbers reads them as too long for the US, takes the leading 1 as the
        # country code and keeps the ten digits after it ([2-9] then nine digits is a US
        # national number): "+" and the digits, whatever the rest.
        us_trunk = us & (n == 11) & phone.str.contains("^1[2-9][0-9]{9}$")
        # Likewise "+1" and ten digits starting [2-9], written with spaces, dots, dashes or
        # brackets only (phonenumbers would read letters as digits): country code 1 and the
        # ten digits, whatever the default region.
        plus_nanp = (
            (n == 11) & d.str.contains("^1[2-9]") & phone.str.contains(r"^ *\+[0-9 ().\-]*$")
        )
        e164 = (
            pl.when(plus1 | plus86 | us_trunk | plus_nanp)
            .then(pl.concat_str(pl.lit("+"), d))
            .when(nanp)
            .then(pl.concat_str(pl.lit("+1"), d))
            .when(cn_mobile)
            .then(pl.concat_str(pl.lit("+86"), d))
        )
        frame = frame.with_columns(rejected=rejected.fill_null(True), e164=e164)
        return frame.select(
            phone_n=pl.when(~pl.col("rejected")).then(pl.col("e164")),
            **{_SETTLED: pl.col("eligible") & (pl.col("rejected") | pl.col("e164").is_not_null())},
        )

    return fast


# --------------------------------------------------------------------------- postcodes, sex


def _postcodes_fast(uniq: pl.DataFrame) -> pl.DataFrame:
    post = pl.col("postcode")
    s = post.str.replace_all("[ -]", "").str.to_uppercase()
    bad = (
        _placeholder(post.str.strip_chars(" "))
        | ~s.str.contains("^[0-9A-Z]+$")
        | (s.str.contains(_SAME_CHAR) & s.str.contains("^[0-9]{3,}$"))
    )
    return uniq.select(
        postcode_n=pl.when(~bad.fill_null(True)).then(s),
        **{_SETTLED: _printable("postcode")},
    )


def _sexes_fast(uniq: pl.DataFrame) -> pl.DataFrame:
    sex = pl.col("sex")
    ascii_sex = {k: v for k, v in _SEX.items() if k.isascii()}
    return uniq.select(
        sex_n=sex.str.strip_chars(" ").str.to_lowercase().replace_strict(ascii_sex, default=None),
        **{_SETTLED: _printable("sex")},
    )


# --------------------------------------------------------------------------- frame


def normalize_frame(
    df: pl.DataFrame,
    *,
    default_region: str,
    dayfirst: bool,
    workers: int,
    columnar_from: int = COLUMNAR_FROM,
) -> pl.DataFrame:
    """The frame of :func:`~openbureau.identity.normalize.normalize_records`."""
    raw = raw_columns(df)

    def attribute(inputs, fast, scalar, outputs):
        return _by_distinct(raw, inputs, fast, scalar, outputs, workers, columnar_from)

    parts = [
        attribute(NAME_INPUTS, _names_fast, name_row, NAME_OUTPUTS),
        attribute(NID_INPUTS, _nids_fast, nid_row, NID_OUTPUTS),
        attribute(
            ["dob"],
            _dates_fast(dayfirst),
            lambda v: (normalize_date(v, dayfirst=dayfirst),),
            {"dob_n": pl.String()},
        ),
        attribute(
            ["address"],
            _addresses_fast,
            lambda v: (list(normalize_address(v)),),
            {"addr_tokens": pl.List(pl.String())},
        ),
        attribute(
            ["phone"],
            _phones_fast(default_region),
            lambda v: (normalize_phone(v, default_region),),
            {"phone_n": pl.String()},
        ),
        attribute(
            ["postcode"],
            _postcodes_fast,
            lambda v: (_normalize_postcode(v),),
            {"postcode_n": pl.String()},
        ),
        attribute(["sex"], _sexes_fast, lambda v: (_normalize_sex(v),), {"sex_n": pl.String()}),
    ]
    return assemble(raw, df, parts)
