/*
 * Procedure search. Staff search while a citizen is on the line, so results
 * come as they type: a short debounce, stale requests aborted, out-of-order
 * replies dropped.
 *
 * window.__searchTimings gets {query, ms, server_ms} each time results are on
 * screen: ms runs from the last input event (or filter change) to the frame
 * after the results were rendered — what tools/console_bench.py reads.
 */

import { api, problem } from "./api.js";
import { $, el, link, LEVEL_SEP } from "./dom.js";

export const DEBOUNCE_MS = 70; // short: the latency target counts from the last keystroke

window.__searchTimings = [];

let lastSearchHash = null; // the results' hash, for the procedure's back link

const search = {
  seq: 0, // id of the latest request; older replies are dropped
  controller: null,
  timer: null,
  startedAt: 0, // performance.now() of the last input event
  shownKey: null, // query+filters whose results are on screen
  results: [],
  active: -1,
};

/* Where "back to the results" goes: the query and filters as they were left. */
export function resultsHash() {
  return lastSearchHash || "#/search";
}

function searchParams() {
  return {
    q: $("#q").value.trim(),
    ministry: $("#f-ministry").value,
    field: $("#f-field").value,
    level: $("#f-level").value,
  };
}

function paramsKey(p) {
  return [p.q, p.ministry, p.field, p.level].join("\u0001");
}

/* The hash follows the box without adding a history entry per keystroke. */
function syncSearchHash(p) {
  const query = new URLSearchParams();
  for (const key of ["q", "ministry", "field", "level"]) if (p[key]) query.set(key, p[key]);
  const text = query.toString();
  lastSearchHash = "#/search" + (text ? "?" + text : "");
  history.replaceState(null, "", lastSearchHash);
}

function onSearchInput() {
  search.startedAt = performance.now();
  clearTimeout(search.timer);
  search.timer = setTimeout(runSearch, DEBOUNCE_MS);
}

function onFilterChange() {
  search.startedAt = performance.now();
  clearTimeout(search.timer);
  runSearch();
}

async function runSearch() {
  const p = searchParams();
  syncSearchHash(p);
  const seq = ++search.seq;
  if (search.controller) search.controller.abort();
  if (!p.q) {
    search.controller = null;
    renderResults(p, [], null);
    return;
  }
  const controller = new AbortController();
  search.controller = controller;
  const query = new URLSearchParams({ q: p.q, k: "10" });
  for (const key of ["ministry", "field", "level"]) if (p[key]) query.set(key, p[key]);
  try {
    const body = await api("/api/search?" + query, { signal: controller.signal });
    if (seq !== search.seq) return; // a newer search was started meanwhile
    renderResults(p, body.results || [], body.took_ms, body.elsewhere);
  } catch (error) {
    if (seq !== search.seq) return;
    const text = problem(error);
    if (text) $("#search-info").textContent = text;
  }
}

/* Text with the matched word spans wrapped in <mark>. Spans are code-point
 * offsets (the server is Python), hence Array.from rather than slice. */
function highlighted(text, spans) {
  const chars = Array.from(text || "");
  const fragment = document.createDocumentFragment();
  const sorted = (spans || [])
    .map(([start, end]) => [Math.max(0, start), Math.min(chars.length, end)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [start, end] of sorted) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) fragment.append(chars.slice(at, from).join(""));
    fragment.append(el("mark", null, chars.slice(from, end).join("")));
    at = end;
  }
  if (at < chars.length) fragment.append(chars.slice(at).join(""));
  return fragment;
}

/* `elsewhere`: the need the question names is served by a ministry the
 * catalogue does not cover; the bot says so instead of answering, and the
 * results below are only the nearest names. */
function renderResults(p, results, tookMs, elsewhere) {
  const list = $("#results");
  search.results = results;
  search.shownKey = paramsKey(p);
  list.replaceChildren();
  results.forEach((result, i) => {
    const item = el("li", "result");
    item.id = "result-" + i;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.dataset.code = result.code;
    const anchor = link("#/procedure/" + encodeURIComponent(result.code), null, "result-link");
    anchor.tabIndex = -1;
    const head = el("div", "result-head");
    head.append(el("span", "code", result.code), el("span", "result-name", result.name));
    const meta = el(
      "div",
      "result-meta",
      [result.ministry, result.field, (result.levels || []).join(", ")].filter(Boolean).join(LEVEL_SEP)
    );
    anchor.append(head, meta);
    const match = result.match;
    if (match && match.text) {
      const line = el("div", "result-match");
      line.append(el("span", "match-label", match.label + ": "));
      const text = el("span", "match-text");
      text.append(highlighted(match.text, match.spans));
      line.append(text);
      anchor.append(line);
    }
    item.append(anchor);
    list.append(item);
  });
  setActive(results.length ? 0 : -1);
  $("#q").setAttribute("aria-expanded", results.length ? "true" : "false");
  const info = $("#search-info");
  if (!p.q) info.textContent = "Nhập từ khóa để tra cứu. ↑/↓ để chọn, Enter để mở.";
  else if (!results.length) info.textContent = "Không tìm thấy thủ tục phù hợp. Thử từ khóa khác hoặc bỏ bộ lọc.";
  else info.textContent = results.length + " kết quả" + (tookMs !== null ? " (" + Math.round(tookMs) + " ms)" : "");
  if (p.q && elsewhere) {
    info.textContent =
      (elsewhere.ministry
        ? "Có thể thuộc lĩnh vực " + elsewhere.field + " của " + elsewhere.ministry + ", chưa có trong danh mục"
        : elsewhere.foreign
          ? "Việc của cơ quan đại diện nước ngoài (" + elsewhere.field + ")"
          : "Không phải thủ tục hành chính (" + elsewhere.field + ")") +
      " — trợ lý không trả lời câu này. " + info.textContent;
  }
  if (p.q) {
    const started = search.startedAt;
    requestAnimationFrame(() => {
      window.__searchTimings.push({ query: p.q, ms: performance.now() - started, server_ms: tookMs });
    });
  }
}

function setActive(index) {
  const items = document.querySelectorAll("#results > .result");
  search.active = index;
  items.forEach((item, i) => {
    item.setAttribute("aria-selected", i === index ? "true" : "false");
    item.classList.toggle("result--active", i === index);
  });
  const q = $("#q");
  if (index >= 0 && items[index]) {
    q.setAttribute("aria-activedescendant", items[index].id);
    items[index].scrollIntoView({ block: "nearest" });
  } else q.removeAttribute("aria-activedescendant");
}

function onSearchKey(event) {
  const count = search.results.length;
  if (event.key === "ArrowDown" && count) {
    event.preventDefault();
    setActive((search.active + 1) % count);
  } else if (event.key === "ArrowUp" && count) {
    event.preventDefault();
    setActive((search.active - 1 + count) % count);
  } else if (event.key === "Enter") {
    event.preventDefault();
    // Results of an older query may still be shown: search first, then open.
    if (search.shownKey !== paramsKey(searchParams())) {
      clearTimeout(search.timer);
      runSearch().then(() => openActive());
    } else openActive();
  } else if (event.key === "Escape") {
    $("#q").value = "";
    onSearchInput();
  }
}

function openActive() {
  const result = search.results[Math.max(search.active, 0)];
  if (result) window.location.hash = "#/procedure/" + encodeURIComponent(result.code);
}

/* Back from a procedure, or a reload: the box and filters from the hash. */
export function restoreSearch(params) {
  const q = $("#q");
  const wanted = {
    q: params.get("q") || "",
    ministry: params.get("ministry") || "",
    field: params.get("field") || "",
    level: params.get("level") || "",
  };
  if (q.value.trim() !== wanted.q) q.value = wanted.q;
  for (const key of ["ministry", "field", "level"]) setSelect($("#f-" + key), wanted[key]);
  if (search.shownKey !== paramsKey(searchParams())) onFilterChange();
  q.focus();
}

function setSelect(select, value) {
  if (value && ![...select.options].some((o) => o.value === value)) {
    select.append(el("option", null, value)); // facets not loaded yet
  }
  select.value = value;
}

export async function loadFacets() {
  try {
    const facets = await api("/api/facets");
    for (const [key, values] of [
      ["ministry", facets.ministries],
      ["field", facets.fields],
      ["level", facets.levels],
    ]) {
      const select = $("#f-" + key);
      const current = select.value;
      select.replaceChildren(el("option", null, "Tất cả"));
      select.firstChild.value = "";
      for (const value of values || []) select.append(el("option", null, value));
      setSelect(select, current);
    }
  } catch (error) {
    const text = problem(error);
    if (text) $("#search-info").textContent = text;
  }
}

/* The box, its keys, the filters and the pointer over the results. */
export function wireSearch() {
  const q = $("#q");
  q.addEventListener("input", onSearchInput);
  q.addEventListener("keydown", onSearchKey);
  $("#search-form").addEventListener("submit", (event) => event.preventDefault());
  for (const key of ["ministry", "field", "level"]) $("#f-" + key).addEventListener("change", onFilterChange);
  $("#results").addEventListener("mousemove", (event) => {
    const item = event.target.closest(".result");
    if (item) setActive([...item.parentNode.children].indexOf(item));
  });
}
