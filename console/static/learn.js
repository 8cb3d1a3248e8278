/*
 * Teaching the question bank: questions the bot got wrong (misses, 👎, "không
 * phải") linked by staff to the right procedure, which every searcher takes
 * in within a second; the links made, with who, when and undo.
 */

import { api, problem } from "./api.js";
import { $, button, el, formatTime, link, showToast } from "./dom.js";
import { parseHash } from "./router.js";
import { DEBOUNCE_MS } from "./search.js";

const LEARN_KINDS = {
  not_found: "Không tìm thấy thủ tục",
  none_of_them: "Người dân trả lời “không phải” các lựa chọn",
  elsewhere: "Trợ lý cho là ngoài danh mục",
  vote_down: "Người dân bấm 👎",
};

export async function loadLearn() {
  const list = $("#learn-list");
  const links = $("#links-table tbody");
  try {
    const data = await api("/api/learn");
    renderLearnCount(data.to_learn.length);
    list.replaceChildren();
    for (const row of data.to_learn) {
      const item = el("li", "learn-item");
      const meta = el("div", "msg-meta", (LEARN_KINDS[row.kind] || row.kind) + " · " + formatTime(row.at));
      if (row.procedure_code) meta.append(" · đã trả lời: " + (row.procedure_name || "") + " (" + row.procedure_code + ")");
      item.append(
        el("div", "learn-question", row.question),
        meta,
        button("teach", "Gắn thủ tục…", () => openLinkDialog(row.question, row.origin))
      );
      list.append(item);
    }
    if (!list.childElementCount) list.append(el("li", "muted", "Không còn câu hỏi nào chờ gắn."));
    links.replaceChildren();
    for (const row of data.links) {
      const tr = el("tr", row.undone_at ? "undone" : null);
      const who =
        row.source === "vote" ? "Người dân 👍 ×" + row.votes : row.created_by + (row.votes ? " · 👍 ×" + row.votes : "");
      const code = el("td");
      code.append(link("#/procedure/" + encodeURIComponent(row.procedure_code), row.procedure_code));
      code.append(" " + (row.procedure_name || ""));
      const action = el("td");
      if (row.undone_at) {
        action.textContent = "Đã hoàn tác (" + row.undone_by + ")";
      } else {
        action.append(button("link-button undo", "Hoàn tác", () => undoLink(row.id)));
      }
      tr.append(el("td", "learn-question", row.question), code, el("td", null, who), el("td", null, formatTime(row.created_at)), action);
      links.append(tr);
    }
    if (!links.childElementCount) {
      const td = el("td", "muted", "Chưa gắn câu hỏi nào.");
      td.colSpan = 5;
      const tr = el("tr");
      tr.append(td);
      links.append(tr);
    }
  } catch (error) {
    const text = problem(error);
    if (text) list.replaceChildren(el("li", "notice notice--error", text));
  }
}

function renderLearnCount(count) {
  const badge = $("#learn-count");
  badge.textContent = count ? String(count) : "";
}

async function undoLink(id) {
  try {
    await api("/api/learn/links/" + id + "/undo", { method: "POST" });
    showToast("Đã hoàn tác: trợ lý không dùng cặp này nữa.");
  } catch (error) {
    showToast(problem(error) || "");
  }
  await loadLearn();
}

const linking = { question: "", origin: "", seq: 0, timer: null };

/* The dialog that links `question` to a procedure; `origin` says where it came
 * from (miss:ID, vote:ID, ticket:ID), for the server's record. */
export function openLinkDialog(question, origin) {
  linking.question = question;
  linking.origin = origin;
  const dialog = $("#link-dialog");
  $("#link-question").textContent = "“" + question + "”";
  $("#link-status").textContent = "";
  $("#link-q").value = question;
  $("#link-results").replaceChildren();
  dialog.showModal();
  $("#link-q").focus();
  searchForLink();
}

function searchForLink() {
  clearTimeout(linking.timer);
  linking.timer = setTimeout(async () => {
    const q = $("#link-q").value.trim();
    const seq = ++linking.seq;
    const results = $("#link-results");
    if (!q) {
      results.replaceChildren();
      return;
    }
    try {
      const body = await api("/api/search?k=8&q=" + encodeURIComponent(q));
      if (seq !== linking.seq) return;
      results.replaceChildren();
      for (const hit of body.results || []) {
        const item = el("li", "link-result");
        item.append(
          el("span", "link-name", hit.name + " (" + hit.code + ")"),
          button("primary attach", "Gắn", () => attach(hit))
        );
        results.append(item);
      }
      if (!results.childElementCount) results.append(el("li", "muted", "Không thấy thủ tục nào, thử từ khóa khác."));
    } catch (error) {
      $("#link-status").textContent = problem(error) || "";
    }
  }, DEBOUNCE_MS);
}

async function attach(hit) {
  try {
    await api("/api/learn/links", {
      method: "POST",
      json: { question: linking.question, procedure_code: hit.code, origin: linking.origin },
    });
    $("#link-dialog").close();
    showToast("Đã gắn với " + hit.code + ": trợ lý dùng ngay cho câu hỏi tương tự.");
    if (parseHash().view === "learn") await loadLearn();
  } catch (error) {
    $("#link-status").textContent = problem(error) || "";
  }
}

/* The dialog's search box searches as staff type, like the main one. */
export function wireLearn() {
  $("#link-q").addEventListener("input", searchForLink);
}
