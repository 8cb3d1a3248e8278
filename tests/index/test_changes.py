"""`python -m index changes OLD NEW`: new, amended (which fields) and abolished procedures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from index.__main__ import main
from index.catalogue import load_catalogue
from index.changes import CSV_COLUMNS, compare, summary
from tests.index.conftest import MINI


def next_month(tmp_path: Path) -> Path:
    """The mini catalogue a month later: one abolished, one amended (its fee), one new."""
    records = [json.loads(line) for line in MINI.read_text("utf-8").splitlines() if line]
    abolished = records.pop(0)
    records[0]["channels"][0]["fee"] = "Miễn lệ phí"
    new = {**records[1], "code": "T.999999", "name": "Thủ tục mới ban hành"}
    path = tmp_path / "next.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in [*records, new]]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert abolished["code"] not in path.read_text("utf-8")
    return path


def test_new_amended_and_abolished_by_ministry_and_field(tmp_path: Path) -> None:
    old, new = load_catalogue(MINI), load_catalogue(next_month(tmp_path))
    changes = compare(old, new)
    assert [(c.kind, c.procedure.code) for c in changes] == [
        ("abolished", old.procedures[0].code),
        ("amended", old.procedures[1].code),
        ("new", "T.999999"),
    ]
    assert changes[1].fields == ("channels",)
    report = summary(changes)
    assert (report["new"], report["amended"], report["abolished"]) == (1, 1, 1)
    assert sum(sum(c.values()) for c in report["by_ministry"].values()) == 3
    assert sum(sum(c.values()) for c in report["by_field"].values()) == 3
    assert summary(compare(old, old))["changes"] == []


def test_the_command_prints_json_and_writes_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "changes.csv"
    assert main(["changes", str(MINI), str(next_month(tmp_path)), "--csv", str(table)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["new"], report["amended"], report["abolished"]) == (1, 1, 1)
    rows = list(csv.reader(table.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 4
    assert rows[2][0] == "amended" and rows[2][-1] == "channels"
