/*
 * The handoff queue: conversations the bot handed over, claimed, annotated
 * and resolved by staff. The open count in the tab's badge stays current
 * whichever view is shown (main.js refreshes it every 10 seconds).
 */

import { api, ApiError, problem } from "./api.js";
import { $, button, definitionList, el, formatTime, link, LEVEL_SEP, showToast } from "./dom.js";
import { openLinkDialog } from "./learn.js";

const REASONS = {
  request_human: "Người dân yêu cầu gặp tổng đài viên",
  not_understood: "Trợ lý không hiểu câu hỏi",
};
const STATUSES = { open: "Đang mở", resolved: "Đã xử lý" };

let ticketFilter = "open";
let selectedTicket = null;
let ticketsSeq = 0;

function setTicketFilter(status) {
  ticketFilter = ["open", "resolved", "all"].includes(status) ? status : "open";
  for (const node of document.querySelectorAll(".segmented button")) {
    node.setAttribute("aria-pressed", node.dataset.status === ticketFilter ? "true" : "false");
  }
}

function ticketHash(id) {
  const filter = ticketFilter === "open" ? "" : "?status=" + ticketFilter;
  return "#/tickets" + (id ? "/" + id : "") + filter;
}

/* #/tickets[/ID][?status=…]: the filter from the hash (else the last one), the ticket ID open. */
export function showTickets(id, params) {
  const status = params.get("status") || ticketFilter;
  setTicketFilter(status);
  selectedTicket = id ? Number(id) : null;
  refreshTickets();
}

/* The badge always; the list and the open ticket when the queue is shown. */
export async function refreshTickets() {
  const seq = ++ticketsSeq;
  const visible = !$("#view-tickets").hidden;
  try {
    const open = await api("/api/tickets?status=open");
    const badge = $("#ticket-count");
    const count = (open.tickets || []).length;
    badge.textContent = count ? String(count) : "";
    badge.setAttribute("aria-label", count + " phiếu đang mở");
    if (!visible || seq !== ticketsSeq) return;
    const list = ticketFilter === "open" ? open : await api("/api/tickets?status=" + ticketFilter);
    if (seq !== ticketsSeq) return;
    renderTicketList(list.tickets || []);
    $(".tickets-layout").classList.toggle("tickets-layout--selected", Boolean(selectedTicket));
    if (selectedTicket) await loadTicket(selectedTicket);
    else {
      const detail = $("#ticket-detail");
      detail.dataset.id = "";
      detail.replaceChildren(el("p", "muted", "Chọn một phiếu để xem nội dung trò chuyện."));
    }
  } catch (error) {
    const text = problem(error);
    if (text && visible) $("#ticket-list").replaceChildren(el("li", "notice notice--error", text));
  }
}

function renderTicketList(tickets) {
  const list = $("#ticket-list");
  list.replaceChildren();
  if (!tickets.length) {
    list.append(el("li", "muted empty", "Không có phiếu nào."));
    return;
  }
  for (const ticket of tickets) {
    const item = el("li", "ticket-item");
    item.dataset.id = ticket.id;
    if (ticket.id === selectedTicket) item.classList.add("ticket-item--selected");
    const anchor = link(ticketHash(ticket.id), null, "ticket-link");
    if (ticket.id === selectedTicket) anchor.setAttribute("aria-current", "true");
    const head = el("div", "ticket-head");
    head.append(el("strong", null, "Phiếu #" + ticket.id));
    head.append(el("span", "status-badge status-" + ticket.status, STATUSES[ticket.status] || ticket.status));
    if (ticket.claimed_by && ticket.status === "open") {
      head.append(el("span", "claimed", "👤 " + ticket.claimed_by));
    }
    anchor.append(head);
    anchor.append(el("div", "ticket-proc", ticket.procedure_name || ticket.procedure_code || "Chưa rõ thủ tục"));
    if (ticket.last_text) anchor.append(el("div", "ticket-last", "“" + ticket.last_text + "”"));
    anchor.append(
      el(
        "div",
        "ticket-meta muted",
        [REASONS[ticket.reason] || ticket.reason, formatTime(ticket.opened_at), ticket.messages + " tin nhắn"].join(LEVEL_SEP)
      )
    );
    item.append(anchor);
    list.append(item);
  }
}

async function loadTicket(id) {
  const detail = $("#ticket-detail");
  try {
    const body = await api("/api/tickets/" + id);
    if (selectedTicket !== id) return;
    renderTicket(detail, body);
  } catch (error) {
    if (selectedTicket !== id) return;
    const text =
      error instanceof ApiError && error.status === 404 ? "Không có phiếu #" + id + "." : problem(error);
    if (!text) return;
    detail.dataset.id = "";
    detail.replaceChildren(el("p", "notice notice--error", text));
  }
}

function authorOf(author) {
  if (author === "citizen" || author === "user") return ["Người dân", "citizen"];
  if (author === "bot") return ["Trợ lý ảo", "bot"];
  if (author.startsWith("note:")) return ["Ghi chú của " + author.slice(5), "note"];
  return [author, "other"];
}

/* The ticket's facts, actions and transcript; the note form under them is
 * kept across the 10-second refreshes, so a note being typed keeps its text
 * and the focus. */
function renderTicket(detail, body) {
  const ticket = body.ticket;
  let info = detail.querySelector(".ticket-info");
  if (!info || detail.dataset.id !== String(ticket.id)) {
    info = el("div", "ticket-info");
    detail.replaceChildren(info, noteForm(ticket.id));
    detail.dataset.id = ticket.id;
  }
  const status = detail.querySelector(".action-status");

  const back = link(ticketHash(null), "← Danh sách phiếu", "back back--phone");
  const head = el("header", "ticket-detail-head");
  head.append(el("h2", null, "Phiếu #" + ticket.id));
  head.append(el("span", "status-badge status-" + ticket.status, STATUSES[ticket.status] || ticket.status));
  let procedure = el("span", "muted", "Chưa rõ thủ tục");
  if (ticket.procedure_code) {
    procedure = link("#/procedure/" + encodeURIComponent(ticket.procedure_code), null, "ticket-procedure");
    procedure.textContent = (ticket.procedure_name || "") + " (" + ticket.procedure_code + ")";
  }
  const facts = definitionList([
    ["Thủ tục đang hỏi", procedure],
    ["Lý do", REASONS[ticket.reason] || ticket.reason],
    ["Người dân", ticket.sender],
    ["Mở lúc", formatTime(ticket.opened_at)],
    ["Người nhận xử lý", ticket.claimed_by || "Chưa có"],
    ["Đóng lúc", ticket.closed_at ? formatTime(ticket.closed_at) + " bởi " + (ticket.closed_by || "") : ""],
  ]);

  const actions = el("div", "ticket-actions");
  if (ticket.status === "open") {
    const claim = button("claim", ticket.claimed_by ? "Đã nhận: " + ticket.claimed_by : "Nhận xử lý", () =>
      ticketAction(ticket.id, "claim", status)
    );
    claim.disabled = Boolean(ticket.claimed_by);
    const resolve = button("primary resolve", "Đã xử lý xong", () => {
      if (window.confirm("Đóng phiếu #" + ticket.id + "? Trợ lý ảo sẽ trả lời người dân này trở lại.")) {
        ticketAction(ticket.id, "resolve", status);
      }
    });
    actions.append(claim, resolve);
  }

  const transcript = el("ol", "transcript");
  transcript.setAttribute("aria-label", "Nội dung trò chuyện");
  for (const message of body.messages || []) {
    const [who, kind] = authorOf(message.author || "");
    const item = el("li", "msg msg--" + kind);
    const meta = el("div", "msg-meta", who + " · " + formatTime(message.at));
    if (kind === "citizen" && message.text && !message.text.startsWith("/")) {
      // A question the bot got wrong can teach the bank from here too.
      meta.append(
        button("link-button teach", "Gắn thủ tục", () => openLinkDialog(message.text, "ticket:" + ticket.id))
      );
    }
    item.append(meta, el("div", "msg-text", message.text));
    transcript.append(item);
  }
  if (!transcript.childElementCount) transcript.append(el("li", "muted", "Chưa có tin nhắn."));

  // The newest message in view when messages came; otherwise the reader's place kept.
  const previous = info.querySelector(".transcript");
  const grew = String(transcript.childElementCount) !== info.dataset.count;
  const place = previous ? previous.scrollTop : 0;
  info.replaceChildren(back, head, facts, actions, transcript);
  info.dataset.count = transcript.childElementCount;
  transcript.scrollTop = grew ? transcript.scrollHeight : place;
}

function noteForm(id) {
  const form = el("form", "note-form");
  const status = el("p", "action-status");
  status.setAttribute("role", "status");
  const label = el("label", null, "Thêm ghi chú");
  label.htmlFor = "note-text";
  const area = el("textarea");
  area.id = "note-text";
  area.maxLength = 2000;
  area.rows = 3;
  area.placeholder = "Ghi chú cho đồng nghiệp (người dân không thấy)";
  const add = el("button", "add-note", "Thêm ghi chú");
  add.type = "submit";
  form.append(status, label, area, add);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = area.value.trim();
    if (!text) {
      status.textContent = "Ghi chú đang trống.";
      return;
    }
    add.disabled = true;
    try {
      await api("/api/tickets/" + id + "/notes", { method: "POST", json: { text } });
      area.value = "";
      status.textContent = "Đã thêm ghi chú.";
      await loadTicket(id);
    } catch (error) {
      status.textContent = problem(error) || "";
    } finally {
      add.disabled = false;
    }
  });
  return form;
}

async function ticketAction(id, action, status) {
  try {
    await api("/api/tickets/" + id + "/" + action, { method: "POST" });
    showToast(action === "claim" ? "Đã nhận xử lý phiếu #" + id : "Đã đóng phiếu #" + id);
  } catch (error) {
    if (error instanceof ApiError && error.body.error === "claimed") {
      status.textContent = "Phiếu đã được " + error.body.claimed_by + " nhận xử lý.";
    } else if (error instanceof ApiError && error.body.error === "resolved") {
      status.textContent = "Phiếu đã được đóng.";
    } else {
      status.textContent = problem(error) || "";
      return;
    }
  }
  await refreshTickets();
}

/* The open / resolved / all buttons: the filter goes into the hash, and the route does the rest. */
export function wireTickets() {
  for (const node of document.querySelectorAll(".segmented button")) {
    node.addEventListener("click", () => {
      setTicketFilter(node.dataset.status);
      window.location.hash = ticketHash(null);
    });
  }
}
