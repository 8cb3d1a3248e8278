"""What changed between two catalogues: new, amended (which fields) and abolished
procedures, counted by ministry and field (`python -m index changes OLD NEW`).

Those who run the bot receive the national catalogue every month; the reform
agenda counts its new, amended and abolished procedures the same way.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from typing import TextIO

from index.catalogue import Catalogue, Procedure

KINDS = ("new", "amended", "abolished")
CSV_COLUMNS = ("kind", "code", "name", "ministry", "field", "changed_fields")


@dataclass(frozen=True)
class Change:
    """One procedure's change; `fields` names what an amendment touched."""

    kind: str
    procedure: Procedure
    fields: tuple[str, ...] = ()


def compare(old: Catalogue, new: Catalogue) -> list[Change]:
    """The changes from `old` to `new`, in code order."""
    before, after = old.by_code(), new.by_code()
    changes = []
    for code in sorted(before.keys() | after.keys()):
        if code not in before:
            changes.append(Change("new", after[code]))
        elif code not in after:
            changes.append(Change("abolished", before[code]))
        else:
            a, b = before[code].record, after[code].record
            touched = tuple(sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))
            if touched:
                changes.append(Change("amended", after[code], touched))
    return changes


def summary(changes: list[Change]) -> dict:
    """Counts by kind, by ministry and by field (JSON-ready), with every change listed."""
    by_kind = Counter(c.kind for c in changes)

    def counted(key: str) -> dict[str, dict[str, int]]:
        table: dict[str, Counter] = {}
        for change in changes:
            group = getattr(change.procedure, key) or "(không rõ)"
            table.setdefault(group, Counter())[change.kind] += 1
        return {group: {k: table[group][k] for k in KINDS} for group in sorted(table)}

    return {
        **{kind: by_kind[kind] for kind in KINDS},
        "by_ministry": counted("ministry"),
        "by_field": counted("field"),
        "changes": [
            {
                "kind": c.kind,
                "code": c.procedure.code,
                "name": c.procedure.name,
                "changed_fields": list(c.fields),
            }
            for c in changes
        ],
    }


def write_csv(changes: list[Change], handle: TextIO) -> None:
    """One row per change (spreadsheets open it as it is)."""
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    for c in changes:
        p = c.procedure
        row = [c.kind, p.code, p.name, p.ministry or "", p.field or "", " ".join(c.fields)]
        writer.writerow(row)
