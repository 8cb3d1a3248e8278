/* An application's status, as the portal reports it and the bot words it. */

import { api, problem } from "./api.js";
import { copyButton } from "./copy.js";
import { $, definitionList, el, formatIso, link } from "./dom.js";

let lastStatusCode = null; // the code on screen: back to its hash, the portal is not asked again
let statusSeq = 0;

async function lookupStatus(code) {
  const box = $("#status-result");
  const input = $("#app-code");
  input.value = code;
  lastStatusCode = code;
  const seq = ++statusSeq;
  box.replaceChildren(el("p", "muted", "Đang tra cứu hồ sơ " + code + "…"));
  try {
    const body = await api("/api/status/" + encodeURIComponent(code));
    if (seq !== statusSeq) return;
    renderStatus(box, body);
  } catch (error) {
    if (seq !== statusSeq) return;
    lastStatusCode = null; // the same code may be tried again
    box.replaceChildren(el("p", "notice notice--error", problem(error)));
  }
}

function renderStatus(box, body) {
  const message = el("div", "notice" + (body.found ? "" : " notice--warn"));
  message.append(el("p", "prose status-message", body.message));
  const actions = el("div", "row-actions");
  actions.append(copyButton("small", "Sao chép câu trả lời", () => body.message));
  message.append(actions);
  box.replaceChildren(message);
  if (!body.found || !body.application) return;
  const app = body.application;
  const badge = el("span", "status-badge status-" + app.status, app.status_label);
  let procedure = app.procedure_name || "";
  if (app.procedure_code) {
    procedure = link("#/procedure/" + encodeURIComponent(app.procedure_code), null);
    procedure.textContent = (app.procedure_name || "") + " (" + app.procedure_code + ")";
  }
  const rows = [
    ["Mã hồ sơ", app.application_code],
    ["Trạng thái", badge],
    ["Thủ tục", procedure],
    ["Cơ quan", app.agency],
    ["Ngày tiếp nhận", formatIso(app.received_at)],
    ["Ngày hẹn trả", formatIso(app.due_at)],
    ["Cập nhật lần cuối", formatIso(app.updated_at)],
    ["Ghi chú", app.note],
  ];
  if (app.overdue_days !== null && app.overdue_days !== undefined) {
    rows.push(["Quá hạn", app.overdue_days + " ngày"]);
  }
  box.append(definitionList(rows));
}

/* #/status/CODE looks CODE up unless it is already on screen; #/status is the empty form. */
export function showStatus(code) {
  if (code && code !== lastStatusCode) lookupStatus(code);
  else if (!code) $("#app-code").focus();
}

/* The form: a code asked again (same hash, no hashchange) is looked up afresh. */
export function wireStatus() {
  $("#status-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("#app-code").value.trim();
    if (!code) return;
    lastStatusCode = null;
    const hash = "#/status/" + encodeURIComponent(code);
    if (window.location.hash === hash) lookupStatus(code);
    else window.location.hash = hash;
  });
}
