"""The console's JSON resources: search, procedure sheets, application status,
the handoff queue, citizen feedback and teaching the question bank.

They use the bot's own parts: the same search index (helpdesk.search), answer
texts (replies.procedure), portal client and status texts (replies.status)
and help-desk database (helpdesk.desk), so what staff read out is what the
bot would have said. Sign-in and CSRF are auth.py's: a handler here runs only
behind its guard, and learns who is signed in through `staff(request)`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web

from console.auth import staff
from console.highlight import match
from helpdesk import search as catalogue_search
from helpdesk.desk import Desk, TicketConflictError
from portal.client import NotFound, PortalClient, PortalError, mask_code
from replies import procedure as answers
from replies.status import LABELS, UNFINISHED, error_message, normalize_code, status_message

__all__ = ["Handlers"]

logger = logging.getLogger(__name__)

MAX_NOTE = 2000


def _error(status: int, error: str, **extra: object) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


class Handlers:
    """The resource handlers, over one Desk and one portal client (made at the
    first status lookup, so the console starts without a portal configured)."""

    def __init__(self) -> None:
        self.desk = Desk()
        self.portal: PortalClient | None = None

    # --- search and procedures --------------------------------------------

    async def facets(self, _: web.Request) -> web.Response:
        searcher = await asyncio.to_thread(catalogue_search.searcher)
        procedures = searcher.procedures
        return web.json_response(
            {
                "ministries": sorted({p.ministry for p in procedures if p.ministry}),
                "fields": sorted({p.field for p in procedures if p.field}),
                "levels": sorted({level for p in procedures for level in p.levels}),
            }
        )

    async def search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()[:300]
        filters = {
            key: request.query.get(key, "").strip() for key in ("ministry", "field", "level")
        }
        try:
            k = max(1, min(int(request.query.get("k", 10)), 50))
        except ValueError:
            k = 10
        if not query:
            return web.json_response({"query": "", "took_ms": 0.0, "results": []})
        started = time.perf_counter()
        try:
            searcher = await asyncio.to_thread(catalogue_search.searcher)
        except catalogue_search.SearchUnavailableError as error:
            return _error(503, "search_unavailable", message=str(error))
        # With filters, rank a wider pool and keep the matching ones.
        pool = k if not any(filters.values()) else max(200, k)
        result = await asyncio.to_thread(searcher.search, query, pool)
        hits = [
            h
            for h in result.hits
            if (not filters["ministry"] or h.procedure.ministry == filters["ministry"])
            and (not filters["field"] or h.procedure.field == filters["field"])
            and (not filters["level"] or filters["level"] in h.procedure.levels)
        ][:k]
        results = [
            {
                "code": h.procedure.code,
                "name": h.procedure.name,
                "ministry": h.procedure.ministry,
                "field": h.procedure.field,
                "levels": list(h.procedure.levels),
                "score": round(h.score, 3),
                "match": match(h.procedure, query, result.expanded),
            }
            for h in hits
        ]
        took = round((time.perf_counter() - started) * 1000, 1)
        need = result.elsewhere
        elsewhere = (
            {"ministry": need.ministry, "field": need.field, "foreign": need.foreign}
            if need
            else None
        )
        return web.json_response(
            {"query": query, "took_ms": took, "results": results, "elsewhere": elsewhere}
        )

    async def procedure(self, request: web.Request) -> web.Response:
        searcher = await asyncio.to_thread(catalogue_search.searcher)
        procedure = searcher.by_code.get(request.match_info["code"])
        if procedure is None:
            return _error(404, "not_found")
        texts = {
            aspect: "\n\n".join(answers.answer(procedure, aspect))
            for aspect in answers.ASPECTS
            if aspect != "overview"
        }
        # The copied answer is the bot's overview less its pointer to the buttons.
        text = answers.overview(procedure, buttons=False, as_of=searcher.as_of)
        overview = "\n\n".join(answers.split(text, procedure))
        code = procedure.code
        return web.json_response(
            {
                "procedure": procedure.record,
                "answer": overview,
                "as_of": searcher.as_of,
                "answers": texts,
                "feedback": {**self.desk.votes(code), "complaints": self.desk.complaints(code)},
            }
        )

    # --- application status -------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        raw = request.match_info["application_code"]
        code = normalize_code(raw)
        if code is None:
            return _error(
                400, "invalid_code", message="Mã hồ sơ không hợp lệ (ví dụ H12.36-241125-0019)."
            )
        try:
            if self.portal is None:
                self.portal = PortalClient.from_env()
            application = await self.portal.get_application(code)
        except NotFound as error:
            return web.json_response({"found": False, "message": error_message(error, code)})
        except PortalError as error:
            logger.info("console status %s: %s", mask_code(code), type(error).__name__)
            return _error(503, "unavailable", message=error_message(error, code))
        overdue = None
        now = time.time()
        if application.status in UNFINISHED and application.due_at.timestamp() < now:
            overdue = int((now - application.due_at.timestamp()) // 86400)
        return web.json_response(
            {
                "found": True,
                "message": status_message(application),
                "application": {
                    "application_code": application.application_code,
                    "procedure_code": application.procedure_code,
                    "procedure_name": application.procedure_name,
                    "agency": application.agency,
                    "status": application.status,
                    "status_label": LABELS.get(application.status, application.status),
                    "received_at": application.received_at.isoformat(),
                    "due_at": application.due_at.isoformat(),
                    "updated_at": application.updated_at.isoformat(),
                    "note": application.note,
                    "overdue_days": overdue,
                },
            }
        )

    # --- handoff queue and feedback ------------------------------------------

    def _name_of(self, code: str | None) -> str | None:
        if not code:
            return None
        try:
            procedure = catalogue_search.searcher().by_code.get(code)
        except catalogue_search.SearchUnavailableError:
            return None
        return procedure.name if procedure else None

    def _ticket_json(self, row: dict) -> dict:
        return {**row, "procedure_name": self._name_of(row.get("procedure_code"))}

    async def tickets(self, request: web.Request) -> web.Response:
        status = request.query.get("status", "open")
        if status not in {"open", "resolved", "all"}:
            return _error(400, "bad_status")
        rows = await asyncio.to_thread(self.desk.tickets, status)
        return web.json_response({"tickets": [self._ticket_json(row) for row in rows]})

    def _ticket_or_404(self, request: web.Request) -> dict:
        try:
            ticket_id = int(request.match_info["id"])
        except ValueError:
            raise web.HTTPNotFound(
                text='{"error": "not_found"}', content_type="application/json"
            ) from None
        rows = self.desk.tickets(ticket_id=ticket_id)
        if not rows:
            raise web.HTTPNotFound(text='{"error": "not_found"}', content_type="application/json")
        return self._ticket_json(rows[0])

    async def ticket(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        return web.json_response({"ticket": ticket, "messages": self.desk.entries(ticket["id"])})

    async def claim(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        user = staff(request)
        try:
            self.desk.claim(ticket["id"], user)
        except TicketConflictError as conflict:
            held = conflict.args[0]
            if held.status == "resolved":
                return _error(409, "resolved")
            return _error(409, "claimed", claimed_by=held.claimed_by)
        return web.json_response({"ticket": self._ticket_or_404(request)})

    async def note(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        try:
            text = str((await request.json()).get("text", "")).strip()
        except (ValueError, AttributeError):
            return _error(400, "bad_json")
        if not text or len(text) > MAX_NOTE:
            return _error(400, "bad_note", message=f"Ghi chú từ 1 đến {MAX_NOTE} ký tự.")
        self.desk.add_message(ticket["id"], f"note:{staff(request)}", text)
        return web.json_response({"ok": True}, status=201)

    async def resolve(self, request: web.Request) -> web.Response:
        ticket = self._ticket_or_404(request)
        user = staff(request)
        self.desk.resolve(ticket["id"], user)
        logger.info("console: ticket %d resolved by %s", ticket["id"], user)
        return web.json_response({"ticket": self._ticket_or_404(request)})

    async def feedback(self, _: web.Request) -> web.Response:
        rows = await asyncio.to_thread(self.desk.feedback_summary)
        return web.json_response(
            {"procedures": [{**row, "name": self._name_of(row["code"])} for row in rows]}
        )

    # --- teaching the question bank -------------------------------------------

    async def learn(self, _: web.Request) -> web.Response:
        to_learn = await asyncio.to_thread(self.desk.to_learn)
        links = await asyncio.to_thread(self.desk.links)
        for row in (*to_learn, *links):
            row["procedure_name"] = self._name_of(row.get("procedure_code"))
        return web.json_response({"to_learn": to_learn, "links": links})

    async def link(self, request: web.Request) -> web.Response:
        """Links a question the bot got wrong to its procedure: the bank has it at once
        (every searcher polls the desk), and the next citizen who asks alike is answered."""
        try:
            body = await request.json()
            question = str(body.get("question", "")).strip()
            code = str(body.get("procedure_code", "")).strip()
            origin = str(body.get("origin", "console")).strip()[:40]
        except (ValueError, AttributeError):
            return _error(400, "bad_json")
        if not question or len(question) > MAX_NOTE:
            return _error(400, "bad_question", message=f"Câu hỏi từ 1 đến {MAX_NOTE} ký tự.")
        if not re.fullmatch(r"(?:miss|vote|ticket):\d{1,12}|console", origin):
            return _error(400, "bad_origin")
        try:
            searcher = await asyncio.to_thread(catalogue_search.searcher)
        except catalogue_search.SearchUnavailableError as error:
            return _error(503, "search_unavailable", message=str(error))
        if code not in searcher.by_code:
            return _error(400, "unknown_procedure", message="Không có thủ tục mã này.")
        user = staff(request)
        link = await asyncio.to_thread(self.desk.link_question, question, code, user, origin)
        logger.info("console: %s linked a question to %s (link %d)", user, code, link)
        return web.json_response({"id": link}, status=201)

    async def undo_link(self, request: web.Request) -> web.Response:
        try:
            link = int(request.match_info["id"])
        except ValueError:
            return _error(404, "not_found")
        user = staff(request)
        if not await asyncio.to_thread(self.desk.undo_link, link, user):
            return _error(404, "not_found")
        logger.info("console: %s undid link %d", user, link)
        return web.json_response({"ok": True})
