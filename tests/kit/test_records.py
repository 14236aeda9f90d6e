"""The streaming row parser: CSV, NDJSON and JSON arrays, cut at any byte."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from pers.kit.records import (
    MAX_RECORD_BYTES,
    FileInvalid,
    Record,
    RecordFormat,
    detect_format,
    read_records,
)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def parse(data: bytes, content_type: str | None = None, size: int = 7) -> list[Record]:
    records: list[Record] = []
    async for batch in read_records(_chunks(data, size), content_type):
        records.extend(batch)
    return records


async def parse_every_way(data: bytes, content_type: str | None = None) -> list[Record]:
    """The same records whatever the network's chunk boundaries."""
    results = [await parse(data, content_type, size) for size in (1, 2, 3, 5, 64, 1 << 20)]
    for other in results[1:]:
        assert other == results[0]
    return results[0]


@pytest.mark.parametrize(
    ("content_type", "head", "expected"),
    [
        ("text/csv", b"[", RecordFormat.CSV),
        ("text/csv; charset=utf-8", b"email", RecordFormat.CSV),
        ("application/x-ndjson", b"{", RecordFormat.NDJSON),
        ("application/jsonl", b"{", RecordFormat.NDJSON),
        ("application/json", b"  [{", RecordFormat.JSON_ARRAY),
        ("application/json", b'{"a":1}\n', RecordFormat.NDJSON),
        (None, b"\xef\xbb\xbf[", RecordFormat.JSON_ARRAY),
        ("text/plain", b"{", RecordFormat.NDJSON),
        ("application/octet-stream", b"email,amount", RecordFormat.CSV),
        (None, b"recipient", RecordFormat.CSV),
    ],
)
def test_format_comes_from_content_type_then_sniffing(
    content_type: str | None, head: bytes, expected: RecordFormat
) -> None:
    assert detect_format(content_type, head) == expected


async def test_csv_rows_become_dicts_keyed_by_the_header() -> None:
    data = (
        b"\xef\xbb\xbfemail,amount,note\r\n"
        b"ann@example.com,10,first\r\n"
        b"\r\n"
        b",,\r\n"
        b'"bob@example.com","2.5","a ""quoted"", multi\nline note"\r\n'
        b"carl@example.com\n"
        b"dora@example.com,1"
    )
    records = await parse_every_way(data, "text/csv")
    assert records == [
        Record(1, {"email": "ann@example.com", "amount": "10", "note": "first"}),
        Record(
            2,
            {
                "email": "bob@example.com",
                "amount": "2.5",
                "note": 'a "quoted", multi\nline note',
            },
        ),
        Record(3, {"email": "carl@example.com"}),
        Record(4, {"email": "dora@example.com", "amount": "1"}),
    ]


async def test_a_bad_csv_row_is_reported_and_the_next_ones_are_read() -> None:
    data = b"email,amount\na@x.io,1\nb@x.io,2,extra\n\xff\xfe@x.io,3\nc@x.io,4\n"
    records = await parse_every_way(data)
    assert [r.number for r in records] == [1, 2, 3, 4]
    assert records[0].fields == {"email": "a@x.io", "amount": "1"}
    assert records[1].fields is None
    assert records[1].error is not None
    assert "cells" in records[1].error
    assert records[2].fields is None
    assert records[2].error == "the row is not UTF-8 text"
    assert records[3].fields == {"email": "c@x.io", "amount": "4"}


async def test_an_unclosed_quote_fails_only_the_last_record() -> None:
    records = await parse_every_way(b'email,amount\na@x.io,1\n"b@x.io,2\n')
    assert records[0].fields == {"email": "a@x.io", "amount": "1"}
    assert records[1].fields is None
    assert records[1].error is not None
    assert "not closed" in records[1].error


async def test_csv_without_a_header_is_invalid() -> None:
    with pytest.raises(FileInvalid):
        await parse(b"\n\n,,\n", "text/csv")


async def test_a_record_over_the_size_limit_stops_the_file() -> None:
    with pytest.raises(FileInvalid):
        await parse(b"email\n" + b"a" * (MAX_RECORD_BYTES + 10) + b"\n", "text/csv", 65536)


async def test_ndjson_rows_keep_exact_numbers_and_report_bad_lines() -> None:
    data = (
        b'{"email": "a@x.io", "amount": 0.1}\n'
        b"\n"
        b"not json\n"
        b"[1, 2]\n"
        b'{"externalId": "crm-9", "amount": 3}\r\n'
        b'{"email": "b@x.io", "amount": NaN}\n'
        b'{"email": "c@x.io"}'
    )
    records = await parse_every_way(data)
    assert records[0] == Record(1, {"email": "a@x.io", "amount": Decimal("0.1")})
    assert records[1].fields is None
    assert records[2].fields is None
    assert records[2].error == "the row is not a JSON object"
    assert records[3] == Record(4, {"externalId": "crm-9", "amount": 3})
    assert records[4].fields is None
    assert records[5] == Record(6, {"email": "c@x.io"})


async def test_json_array_elements_stream_in_order() -> None:
    data = b' [ {"email": "a@x.io", "amount": 1.25}, 7, {"id": "u-1"},\n{"email": "b@x.io"} ] '
    records = await parse_every_way(data, "application/json")
    assert records == [
        Record(1, {"email": "a@x.io", "amount": Decimal("1.25")}),
        Record(2, None, "the element is not a JSON object"),
        Record(3, {"id": "u-1"}),
        Record(4, {"email": "b@x.io"}),
    ]


async def test_a_broken_json_array_stops_the_file() -> None:
    with pytest.raises(FileInvalid):
        await parse(b'[{"email": "a@x.io"}, {"email": ', "application/json")
    with pytest.raises(FileInvalid):
        await parse(b'[{"email": "a@x.io"} {"email": "b@x.io"}]', "application/json")


async def test_an_empty_file_has_no_records() -> None:
    assert await parse(b"") == []
    assert await parse(b"  \n\n") == []
    assert await parse(b"[]", "application/json") == []
    assert await parse(b"email,amount\n", "text/csv") == []
