/* Citizens' votes and complaints per procedure, the most 👎 first (the server's order). */

import { api, problem } from "./api.js";
import { $, el, link } from "./dom.js";

export async function loadFeedback() {
  const body = $("#feedback-table tbody");
  try {
    const data = await api("/api/feedback");
    body.replaceChildren();
    for (const row of data.procedures || []) {
      const tr = el("tr", "clickable");
      const code = el("td");
      code.append(link("#/procedure/" + encodeURIComponent(row.code), row.code));
      tr.append(code, el("td", null, row.name || "—"));
      for (const n of [row.up, row.down, row.complaints]) tr.append(el("td", "num", n || 0));
      tr.addEventListener("click", (event) => {
        if (event.target.tagName !== "A") window.location.hash = "#/procedure/" + encodeURIComponent(row.code);
      });
      body.append(tr);
    }
    if (!body.childElementCount) {
      const td = el("td", "muted", "Chưa có phản hồi nào.");
      td.colSpan = 5;
      const tr = el("tr");
      tr.append(td);
      body.append(tr);
    }
  } catch (error) {
    const text = problem(error);
    if (!text) return;
    const td = el("td", "notice notice--error", text);
    td.colSpan = 5;
    const tr = el("tr");
    tr.append(td);
    body.replaceChildren(tr);
  }
}
