"""Loading the procedure catalogue (JSONL, schema in shared/catalogue/SCHEMA.md).

A malformed record is reported with its line number and the field at fault,
and skipped: one bad line from a monthly export must neither stop the build
nor disappear without a trace.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
# The national catalogue (public government data), xz-compressed, with a manifest
# (source, records, sha256, as-of date): what a fresh clone serves.
NATIONAL_CATALOGUE = DATA / "national" / "procedures.jsonl.xz"
DEFAULT_CATALOGUE = NATIONAL_CATALOGUE
# The 45 procedures citizens need most: small enough for fast tests.
SEED_CATALOGUE = DATA / "seed_catalogue.jsonl"
MANIFEST = "manifest.json"
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{2,39}$")
_TEXT_FIELDS = (
    "ministry", "field", "kind", "decision", "applicants", "agency", "authority",
    "address", "steps", "requirements", "result", "related", "url", "source",
)  # fmt: skip


@dataclass(frozen=True)
class Channel:
    """One way to submit (Trực tiếp / Trực tuyến / Dịch vụ bưu chính)."""

    channel: str
    time: str | None
    fee: str | None
    note: str | None


@dataclass(frozen=True)
class Document:
    """One paper of the application file."""

    name: str
    quantity: str | None
    form: str | None
    group: str | None


@dataclass(frozen=True)
class Procedure:
    """A procedure as the bot and the search need it; `record` keeps every field."""

    code: str
    name: str
    ministry: str | None
    field: str | None
    levels: tuple[str, ...]
    agency: str | None
    applicants: str | None
    result: str | None
    url: str | None
    channels: tuple[Channel, ...]
    documents: tuple[Document, ...]
    record: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Problem:
    """Why a line of the catalogue was skipped."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class Catalogue:
    """Valid procedures in file order, the problems found, and a content hash."""

    procedures: list[Procedure]
    problems: list[Problem]
    sha256: str
    # The date its records were taken (YYYY-MM-DD), from a manifest that matches the file.
    as_of: str | None = None

    def by_code(self) -> dict[str, Procedure]:
        return {p.code: p for p in self.procedures}


class _InvalidError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def _text(record: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _InvalidError(key, "must be a non-empty string" if required else "must be a string")
    return value


def _items(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _InvalidError(key, "must be a list of objects")
    return value


def _sub_text(item: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    try:
        return _text(item, key, required)
    except _InvalidError as error:
        raise _InvalidError(f"{where}.{key}", str(error)) from None


def _rows(record: dict[str, Any], key: str, row_type: type, required: str) -> tuple:
    """A list-of-objects field as a tuple of `row_type`, each text field checked."""
    return tuple(
        row_type(
            *(
                _sub_text(item, f.name, f"{key}[{i}]", required=f.name == required)
                for f in fields(row_type)
            )
        )
        for i, item in enumerate(_items(record, key))
    )


def parse_record(record: Any) -> Procedure:
    """Validates one decoded record; raises _InvalidError naming the bad field."""
    if not isinstance(record, dict):
        raise _InvalidError("(record)", "must be a JSON object")
    code = _text(record, "code", required=True)
    if not _CODE.match(code):
        raise _InvalidError("code", f"{code!r} is not a procedure code")
    name = _text(record, "name", required=True)
    for key in _TEXT_FIELDS:
        _text(record, key)
    levels = record.get("levels") or []
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise _InvalidError("levels", "must be a list of strings")
    channels = _rows(record, "channels", Channel, required="channel")
    documents = _rows(record, "documents", Document, required="name")
    _items(record, "legal_basis")
    return Procedure(
        code=code,
        name=name.strip(),
        ministry=record.get("ministry"),
        field=record.get("field"),
        levels=tuple(levels),
        agency=record.get("agency"),
        applicants=record.get("applicants"),
        result=record.get("result"),
        url=record.get("url"),
        channels=channels,
        documents=documents,
        record=record,
    )


def parse_lines(lines: Iterable[str]) -> tuple[list[Procedure], list[Problem]]:
    """Parses JSONL lines; duplicates of an earlier code are problems too."""
    procedures: list[Procedure] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            procedure = parse_record(json.loads(line))
        except json.JSONDecodeError as error:
            problems.append(Problem(number, "(json)", error.msg))
            continue
        except _InvalidError as error:
            problems.append(Problem(number, error.field, str(error)))
            continue
        if procedure.code in seen:
            problems.append(
                Problem(number, "code", f"{procedure.code} already on line {seen[procedure.code]}")
            )
            continue
        seen[procedure.code] = number
        procedures.append(procedure)
    return procedures, problems


def read_bytes(path: Path | str) -> bytes:
    """A catalogue file's JSONL bytes; `.xz` files are decompressed (the sha256 of a
    catalogue is that of its JSONL, however it is stored)."""
    raw = Path(path).read_bytes()
    return lzma.decompress(raw) if str(path).endswith(".xz") else raw


def read_manifest(path: Path | str) -> dict | None:
    """The manifest shipped beside a catalogue file, if it describes that file."""
    manifest = Path(path).parent / MANIFEST
    if not manifest.exists():
        return None
    described = json.loads(manifest.read_text(encoding="utf-8"))
    return described if described.get("file") == Path(path).name else None


def load_catalogue(path: Path | str) -> Catalogue:
    """Reads a catalogue file (JSONL, or JSONL.xz). Invalid UTF-8 is a problem on its
    line, not a crash."""
    raw = read_bytes(path)
    lines = []
    problems: list[Problem] = []
    for number, chunk in enumerate(raw.split(b"\n"), 1):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as error:
            problems.append(Problem(number, "(encoding)", f"not UTF-8 ({error.reason})"))
            lines.append("")
    procedures, more = parse_lines(lines)
    problems = sorted(problems + more, key=lambda p: p.line)
    sha256 = hashlib.sha256(raw).hexdigest()
    manifest = read_manifest(path)
    # A file changed after its manifest was written has no known date.
    as_of = manifest.get("as_of") if manifest and manifest.get("sha256") == sha256 else None
    return Catalogue(procedures, problems, sha256, as_of)


def ship(source: Path, out_dir: Path, as_of: str, origin: str) -> dict:
    """Writes `source` (a valid JSONL catalogue) into `out_dir` as procedures.jsonl.xz
    with its manifest, the form the project ships its default catalogue in. Refuses a
    catalogue with problems: what is shipped is served as it is."""
    catalogue = load_catalogue(source)
    if catalogue.problems:
        first = catalogue.problems[0]
        count = len(catalogue.problems)
        raise ValueError(f"{source}: {count} problems, the first on line {first.line}")
    raw = read_bytes(source)
    packed = lzma.compress(raw, preset=9)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / NATIONAL_CATALOGUE.name
    target.write_bytes(packed)
    manifest = {
        "file": target.name,
        "records": len(catalogue.procedures),
        "sha256": catalogue.sha256,
        "xz_sha256": hashlib.sha256(packed).hexdigest(),
        "as_of": as_of,
        "source": origin,
    }
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest
