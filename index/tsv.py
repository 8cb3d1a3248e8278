"""The one format of the index's hand-edited data files (aliases, qualifiers, coverage).

Tab-separated columns, `#` comment lines, blank lines and a header line that names the
columns: editors keep notes and headings in the file itself, and every loader must skip
them alike.
"""

from __future__ import annotations

from pathlib import Path


def read_tsv(path: Path | str, header: str) -> list[tuple[str, ...]]:
    """Each data line's cells, stripped, as many as the line has tabs plus one.

    Skipped: blank lines, lines starting with "#", and the header line, which starts with
    `header` (the first column's name) and a tab. How many cells a row must have is the
    caller's rule: some files allow a missing column, one rejects any other count.
    """
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", f"{header}\t")):
            continue
        rows.append(tuple(cell.strip() for cell in line.split("\t")))
    return rows
