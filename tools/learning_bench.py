"""Learning from staff, measured: half of the labelled portal FAQ titles taught through the
console, the other half's retrieval before and after.

The 400 real FAQ titles in ../shared/eval/source/dvc_faq_titles/nlu.yml are read in place;
the team's labels for those not in faq_titles_labelled.jsonl are in tools/data/
faq_title_labels.jsonl, keyed by a hash of the title (the project holds no title text).
The in-catalogue ones are split in two halves, the accented and unaccented copies of a title
always on the same side. One half is taught exactly as staff teach: a console account signs
in over HTTP and links each title to its procedure (POST /api/learn/links), into a fresh
help-desk database. The other half is searched before and after, by the action server's own
searcher, which takes the links in from that database without a restart.

Usage (make bench-learning): python -m tools.learning_bench [--catalogue …] [--index …]
Last line: {"taught", "tested", "before": {…}, "after": {…}, "taught_after": {…}}.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from tools.harness import ROOT

SHARED = ROOT.parent / "shared"
TITLES = SHARED / "eval" / "source" / "dvc_faq_titles" / "nlu.yml"
LABELS = ROOT / "tools" / "data" / "faq_title_labels.jsonl"
PASSWORD = "bench-learning-" + os.urandom(6).hex()


def title_key(text: str) -> str:
    """How faq_title_labels.jsonl names a title: sha1 of it NFC, lower-cased, spaces collapsed."""
    return hashlib.sha1(
        " ".join(unicodedata.normalize("NFC", text).lower().split()).encode()
    ).hexdigest()


def read_titles(path: Path = TITLES) -> list[str]:
    """The examples of the `ask` intent, in file order."""
    text = path.read_text(encoding="utf-8")
    block = text.split("- intent: ask\n", 1)[1].split("\n- intent:", 1)[0]
    return [t.strip() for t in re.findall(r"^\s+- (.+)$", block, re.MULTILINE) if t.strip()]


def labelled(titles: list[str], labels: Path = LABELS) -> list[tuple[str, list[str], list[str]]]:
    """(title, expected, acceptable) for the titles the team labelled in-catalogue."""
    rows = {}
    for line in labels.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["sha1"]] = row
    found = []
    for title in titles:
        row = rows.get(title_key(title))
        if row and row["expected"]:
            found.append((title, row["expected"], row.get("acceptable") or []))
    return found


def halves(items: list[tuple[str, list[str], list[str]]]) -> tuple[list, list]:
    """Two halves by a hash of the title without accents: a title's copies stay together."""
    from bot.language.text import fold

    def group(title: str) -> str:
        return hashlib.sha1(" ".join(fold(title).lower().split()).encode()).hexdigest()

    keys = sorted({group(t) for t, _, _ in items})
    taught_keys = set(keys[::2])
    taught = [item for item in items if group(item[0]) in taught_keys]
    tested = [item for item in items if group(item[0]) not in taught_keys]
    return taught, tested


def figures(searcher, items) -> dict:
    from index.evaluate import Question, metrics

    rows = []
    for number, (title, expected, acceptable) in enumerate(items):
        result = searcher.search(title, k=10)
        gold = frozenset(expected) | frozenset(acceptable)
        question = Question(str(number), title, gold, True, "formal")
        rows.append((question, [h.procedure.code for h in result.hits], result.abstained))
    measured = metrics(rows, [])
    return {key: measured[key] for key in ("n", "recall@1", "recall@5", "mrr@10")}


async def teach(items, console_db: Path) -> int:
    """Signs in to the console over loopback and links each title, as staff do."""
    import aiohttp

    from console.accounts import Accounts
    from console.server import Settings, make_app
    from portal.simulator import serving

    Accounts(console_db).add_user("bench", "Bench", PASSWORD)
    app = make_app(Settings(db=console_db))
    taught = 0
    async with (
        serving(app) as url,
        aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as client,
    ):
        async with client.get("/login") as page:
            await page.read()
        csrf = client.cookie_jar.filter_cookies(client._base_url)["console_login_csrf"].value
        form = {"username": "bench", "password": PASSWORD, "csrf": csrf}
        async with client.post("/login", data=form, allow_redirects=False) as response:
            if response.status != 303:
                raise SystemExit(f"console sign-in failed ({response.status})")
        async with client.get("/api/me") as me:
            headers = {"X-CSRF-Token": (await me.json())["csrf"]}
        for title, expected, _ in items:
            body = {"question": title, "procedure_code": expected[0], "origin": "console"}
            async with client.post("/api/learn/links", json=body, headers=headers) as response:
                taught += response.status == 201
    return taught


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.learning_bench")
    parser.add_argument("--catalogue", type=Path, default=SHARED / "catalogue" / "procedures.jsonl")
    parser.add_argument("--index", type=Path, default=ROOT / "models" / "index-eval")
    args = parser.parse_args(argv)
    if not TITLES.exists() or not args.catalogue.exists():
        raise SystemExit(f"needs ../shared: {TITLES} and {args.catalogue}")
    work = Path(tempfile.mkdtemp(prefix="learning-bench-"))
    os.environ.update(
        CATALOGUE=str(args.catalogue),
        INDEX_DIR=str(args.index),
        DESK_DB=str(work / "desk.db"),
    )
    from helpdesk import search as catalogue_search

    items = labelled(read_titles())
    taught, tested = halves(items)
    print(f"{len(items)} labelled in-catalogue titles: {len(taught)} taught, {len(tested)} tested")
    searcher = catalogue_search.searcher()
    before = figures(searcher, tested)
    print("before:", json.dumps(before))
    started = time.monotonic()
    linked = asyncio.run(teach(taught, work / "console.db"))
    print(f"taught {linked} links through the console in {time.monotonic() - started:.1f} s")
    # The action server's searcher looks for new links at most once a second and takes
    # them in on a thread of its own; here the measurement waits until it has.
    time.sleep(1.0)
    searcher.bank.refresh(wait=True)
    after = figures(searcher, tested)
    taught_after = figures(searcher, taught)
    print("after:", json.dumps(after))
    print(
        json.dumps(
            {
                "taught": linked,
                "tested": len(tested),
                "before": before,
                "after": after,
                "taught_after": taught_after,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
