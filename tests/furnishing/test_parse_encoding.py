"""Files that are not strict UTF-8 are rejected whole, naming the first bad byte's offset."""

from __future__ import annotations

import pytest

from openbureau.furnishing.errors import FileRejected
from openbureau.furnishing.parse import iter_chunks

GOOD_LINE = '{"full_name":"张伟","account_ref":"A1"}\n'.encode()

BAD = [
    (b"\x80", 0x80),  # continuation byte with no lead
    (b"\xc0\xaf", 0xC0),  # overlong encoding of "/"
    (b"\xed\xa0\x80", 0xED),  # UTF-16 surrogate
    (b"\xf4\x90\x80\x80", 0xF4),  # above U+10FFFF
    ("张".encode()[:2] + b'"', 0xE5),  # multibyte sequence cut short
]


@pytest.mark.parametrize(("bad", "first_byte"), BAD)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_invalid_utf8_is_rejected_with_its_offset(tmp_path, fmt, bad, first_byte):
    line = b'{"full_name":"' + bad + b'"}\n' if fmt == "jsonl" else b"full_name\n" + bad + b"\n"
    data = GOOD_LINE * 3 + line if fmt == "jsonl" else line
    path = tmp_path / f"f.{fmt}"
    path.write_bytes(data)
    with pytest.raises(FileRejected) as exc:
        list(iter_chunks(path, fmt))
    assert exc.value.rule == "encoding"
    offset = data.index(bad)
    assert f"invalid byte 0x{first_byte:02x} at offset {offset}" in str(exc.value)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_unterminated_last_line_is_checked_too(tmp_path, fmt):
    data = GOOD_LINE + b'{"full_name":"\xff"}' if fmt == "jsonl" else b"full_name\n\xff"
    path = tmp_path / f"f.{fmt}"
    path.write_bytes(data)
    with pytest.raises(FileRejected, match="invalid byte 0xff"):
        list(iter_chunks(path, fmt))
