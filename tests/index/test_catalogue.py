"""Catalogue loading: bad records are reported by line and field, and skipped."""

import json
from pathlib import Path

import pytest

from index.catalogue import load_catalogue, parse_lines
from tests.index.conftest import MINI, SHARED

GOOD = json.loads(MINI.read_text(encoding="utf-8").splitlines()[0])


def line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes}, ensure_ascii=False)


def test_mini_catalogue_loads_whole() -> None:
    catalogue = load_catalogue(MINI)
    assert len(catalogue.procedures) == 10 and not catalogue.problems
    first = catalogue.procedures[0]
    assert first.code == "T.000001" and first.channels[0].fee == "Miễn lệ phí"
    assert first.documents[1].name == "Giấy chứng sinh"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("{not json", "(json)"),
        ("[1, 2]", "(record)"),
        (line(code=None), "code"),
        (line(code="có dấu"), "code"),
        (line(name="  "), "name"),
        (line(field=12), "field"),
        (line(levels="Cấp xã"), "levels"),
        (line(channels={"channel": "Trực tiếp"}), "channels"),
        (line(channels=[{"channel": None}]), "channels[0].channel"),
        (line(documents=[{"name": "x", "quantity": 1}]), "documents[0].quantity"),
        (line(legal_basis=["26/2023/QH15"]), "legal_basis"),
    ],
)
def test_bad_record_is_reported_with_line_and_field(bad: str, field: str) -> None:
    procedures, problems = parse_lines([line(code="T.100000"), bad, line(code="T.100002")])
    assert [p.code for p in procedures] == ["T.100000", "T.100002"]
    assert [(p.line, p.field) for p in problems] == [(2, field)]


def test_duplicate_code_is_a_problem() -> None:
    procedures, problems = parse_lines([line(), "", line()])
    assert len(procedures) == 1
    assert problems[0].line == 3 and "already on line 1" in str(problems[0])


def test_invalid_utf8_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(line().encode() + b"\n\xff\xfe{}\n" + line(code="T.2").encode() + b"\n")
    catalogue = load_catalogue(path)
    assert [p.code for p in catalogue.procedures] == ["T.000001", "T.2"]
    assert [(p.line, p.field) for p in catalogue.problems] == [(2, "(encoding)")]


@pytest.mark.skipif(not (SHARED / "catalogue").exists(), reason="../shared is not beside the repo")
def test_national_catalogue_loads_without_problems() -> None:
    catalogue = load_catalogue(SHARED / "catalogue" / "procedures.jsonl")
    assert len(catalogue.procedures) > 2800 and catalogue.problems == []
