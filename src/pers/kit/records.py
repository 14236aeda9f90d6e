"""Rows of a file as they stream in: CSV with a header row, NDJSON, or a JSON array of objects.

Nothing here holds the whole file: bytes are cut into records as they arrive, and each record
becomes a :class:`Record` (its fields, or why it could not be read). A record that cannot be
read is reported and the next one is read as usual; only damage that makes the rest of the file
unreadable (a JSON array whose syntax breaks, a CSV without a header, a record over
``MAX_RECORD_BYTES``) stops the file with :class:`FileInvalid`.

Records are numbered from 1 in file order; blank lines (and CSV lines whose cells are all
empty) are skipped and not numbered. Text is UTF-8 (a leading byte-order mark is ignored);
numbers in JSON keep their exact decimal value (``Decimal``, or ``int``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import ijson

MAX_RECORD_BYTES = 1024 * 1024
BOM = b"\xef\xbb\xbf"


class RecordFormat(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"
    JSON_ARRAY = "json"


class FileInvalid(ValueError):
    """The file cannot be read any further."""


@dataclass(frozen=True, slots=True)
class Record:
    number: int
    fields: dict[str, Any] | None
    error: str | None = None


CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values", "text/x-csv"})
NDJSON_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
        "application/json-lines",
    }
)


def detect_format(content_type: str | None, head: bytes) -> RecordFormat:
    """From the Content-Type when it names a format; for JSON, or nothing useful, from the
    first non-blank byte: ``[`` a JSON array, ``{`` NDJSON, anything else CSV."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in CSV_TYPES:
        return RecordFormat.CSV
    if media in NDJSON_TYPES:
        return RecordFormat.NDJSON
    first = head.removeprefix(BOM).lstrip()[:1]
    if first == b"[":
        return RecordFormat.JSON_ARRAY
    if first == b"{":
        return RecordFormat.NDJSON
    return RecordFormat.CSV


async def _without_bom(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    head = b""
    checking = True
    async for chunk in chunks:
        if checking:
            head += chunk
            if len(head) < len(BOM) and BOM.startswith(head):
                continue  # too short to tell yet
            chunk, checking = head.removeprefix(BOM), False
        if chunk:
            yield chunk
    if checking and head:
        yield head


async def read_records(
    chunks: AsyncIterator[bytes], content_type: str | None
) -> AsyncIterator[list[Record]]:
    """The file's records, in batches as they become readable (one batch per chunk received,
    possibly empty)."""
    stream = _without_bom(chunks).__aiter__()
    head = b""
    async for chunk in stream:
        head = chunk
        if head.strip():
            break
    if not head.strip():
        return
    fmt = detect_format(content_type, head)

    async def replay() -> AsyncIterator[bytes]:
        yield head
        async for rest in stream:
            yield rest

    parsers = {
        RecordFormat.CSV: _csv_records,
        RecordFormat.NDJSON: _ndjson_records,
        RecordFormat.JSON_ARRAY: _json_array_records,
    }
    async for batch in parsers[fmt](replay()):
        yield batch


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[bytes]]:
    """Physical lines (split on LF only, which never occurs inside a UTF-8 sequence), without
    the LF, in batches."""
    tail = b""
    async for chunk in chunks:
        parts = (tail + chunk).split(b"\n")
        tail = parts.pop()
        if len(tail) > MAX_RECORD_BYTES or any(len(p) > MAX_RECORD_BYTES for p in parts):
            raise FileInvalid(f"a line is longer than {MAX_RECORD_BYTES} bytes")
        yield parts
    if tail:
        yield [tail]


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- CSV -----------------------------------------------------------------------------------------


def _csv_cells(text: str) -> list[str]:
    return next(csv.reader((text,)), [])


async def _csv_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Record]]:
    header: list[str] | None = None
    number = 0
    pending: list[bytes] = []  # lines of a record whose quoted field spans lines
    quotes = 0

    def complete(raw: bytes) -> Record | None:
        nonlocal header, number
        text = _decode(raw)
        if header is None:
            if text is None:
                raise FileInvalid("the CSV header is not UTF-8 text")
            cells = [cell.strip() for cell in _csv_cells(text)]
            if not any(cells):
                return None
            header = cells
            return None
        if text is None:
            number += 1
            return Record(number, None, "the row is not UTF-8 text")
        try:
            cells = _csv_cells(text)
        except csv.Error as exc:
            number += 1
            return Record(number, None, f"malformed CSV: {exc}")
        if not any(cell.strip() for cell in cells):
            return None
        number += 1
        if len(cells) > len(header):
            return Record(number, None, f"the row has {len(cells)} cells, the header {len(header)}")
        return Record(number, dict(zip(header, cells, strict=False)))

    async for lines in _lines(chunks):
        batch: list[Record] = []
        for line in lines:
            pending.append(line)
            quotes += line.count(b'"')
            if quotes % 2:
                if sum(len(p) for p in pending) > MAX_RECORD_BYTES:
                    raise FileInvalid(f"a record is longer than {MAX_RECORD_BYTES} bytes")
                continue  # inside a quoted field: the record goes on on the next line
            record = complete(b"\n".join(pending))
            pending, quotes = [], 0
            if record is not None:
                batch.append(record)
        yield batch
    if pending:
        number += 1
        yield [Record(number, None, "a quoted field is not closed before the end of the file")]
    if header is None:
        raise FileInvalid("the CSV file has no header row")


# --- NDJSON --------------------------------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_record(number: int, raw: bytes) -> Record:
    try:
        value = json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return Record(number, None, f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        return Record(number, None, "the row is not a JSON object")
    return Record(number, value)


async def _ndjson_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Record]]:
    number = 0
    async for lines in _lines(chunks):
        batch: list[Record] = []
        for line in lines:
            if not line.strip():
                continue
            number += 1
            batch.append(_json_record(number, line))
        yield batch


# --- JSON array ----------------------------------------------------------------------------------


def _array_batch(items: Iterable[Any], first: int) -> list[Record]:
    batch = []
    for number, item in enumerate(items, start=first):
        if isinstance(item, dict):
            batch.append(Record(number, item))
        else:
            batch.append(Record(number, None, "the element is not a JSON object"))
    return batch


async def _json_array_records(chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Record]]:
    events: list[Any] = ijson.sendable_list()
    parser = ijson.items_coro(events, "item", use_float=False)
    number = 0
    try:
        async for chunk in chunks:
            parser.send(chunk)
            batch = _array_batch(events, number + 1)
            number += len(batch)
            del events[:]
            yield batch
        parser.close()
    except ijson.JSONError as exc:
        raise FileInvalid(f"the JSON array is malformed after element {number}: {exc}") from None
    batch = _array_batch(events, number + 1)
    if batch:
        yield batch
