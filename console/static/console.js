/*
 * Hotline staff console (app.html): procedure search, procedure sheet,
 * application status, handoff queue and citizen feedback, over the console's
 * JSON API (console/server.py).
 *
 * Staff use it while a citizen is on the line, so search answers as they type
 * (short debounce, stale requests aborted, out-of-order replies dropped) and a
 * procedure is one page laid out to be read aloud. A hash router
 * (#/search?q=…, #/procedure/CODE, #/status/CODE, #/tickets/ID, #/feedback)
 * keeps back/forward and reload working without a server round trip per view.
 *
 * Everything from the API is citizen or catalogue text: it reaches the page
 * only through textContent and createElement, never as HTML. The server's
 * CSP forbids inline scripts and styles, hence this file and no style="".
 *
 * window.__searchTimings gets {query, ms, server_ms} each time results are on
 * screen: ms runs from the last input event (or filter change) to the frame
 * after the results were rendered — what tools/console_bench.py reads.
 */
(function () {
  "use strict";

  const DEBOUNCE_MS = 70; // short: the latency target counts from the last keystroke
  const TICKETS_REFRESH_MS = 10000;
  const BASE_TITLE = document.title;
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  const LEVEL_SEP = " · ";
  const REASONS = {
    request_human: "Người dân yêu cầu gặp tổng đài viên",
    not_understood: "Trợ lý không hiểu câu hỏi",
  };
  const STATUSES = { open: "Đang mở", resolved: "Đã xử lý" };
  const ASPECTS = {
    documents: "Sao chép câu trả lời về hồ sơ",
    fee: "Sao chép câu trả lời về lệ phí",
    time: "Sao chép câu trả lời về thời gian",
    where: "Sao chép câu trả lời về nơi nộp",
    online: "Sao chép câu trả lời về nộp trực tuyến",
  };

  const ASPECT_BUTTONS = {
    documents: "Sao chép: hồ sơ",
    fee: "Sao chép: lệ phí",
    time: "Sao chép: thời hạn",
    where: "Sao chép: nơi nộp",
    online: "Sao chép: nộp trực tuyến",
  };

  window.__searchTimings = [];

  // ---- small DOM helpers ----

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(className, label, onClick) {
    const node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function link(href, text, className) {
    const node = el("a", className, text);
    node.href = href;
    return node;
  }

  const $ = (selector) => document.querySelector(selector);

  function formatTime(epochSeconds) {
    if (epochSeconds === null || epochSeconds === undefined) return "";
    return new Date(epochSeconds * 1000).toLocaleString("vi-VN", {
      hour: "2-digit",
      minute: "2-digit",
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
    });
  }

  function formatIso(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleDateString("vi-VN");
  }

  // ---- the API ----

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || (body && body.error) || "HTTP " + status);
      this.status = status;
      this.body = body || {};
    }
  }

  /* JSON in and out; a lost session (401) goes back to the sign-in page. */
  async function api(path, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (init.method === "POST") {
      init.headers["X-CSRF-Token"] = CSRF;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.json || {});
      delete init.json;
    }
    const response = await fetch(path, init);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null; // a proxy's HTML error page: reported by status alone
    }
    if (response.status === 401) {
      window.location.assign("/login");
      throw new ApiError(401, body);
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function showToast(text) {
    const toast = $("#toast");
    toast.textContent = text;
    toast.classList.add("toast--shown");
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(() => toast.classList.remove("toast--shown"), 2500);
  }

  function problem(error) {
    if (error.name === "AbortError") return null;
    if (error instanceof ApiError) {
      if (error.status === 403) return "Phiên làm việc đã thay đổi, vui lòng tải lại trang.";
      if (error.body.message) return error.body.message;
      return "Máy chủ báo lỗi (" + error.status + "). Vui lòng thử lại.";
    }
    return "Không kết nối được máy chủ. Vui lòng thử lại.";
  }

  // ---- copying ----

  /* The clipboard API where the page may use it; otherwise (plain http on
   * another host, permission refused) a selected textarea and execCommand.
   * The textarea keeps the last text copied either way. */
  async function copyText(text) {
    const buffer = $("#copy-buffer");
    buffer.value = text;
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      buffer.focus();
      buffer.select();
      let copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (_) {
        copied = false;
      }
      buffer.blur();
      return copied;
    }
  }

  function copyButton(className, label, getText) {
    const node = button(className, label, async () => {
      const copied = await copyText(getText());
      node.dataset.copied = copied ? "yes" : "no";
      const original = label;
      node.textContent = copied ? "Đã sao chép ✓" : "Không sao chép được";
      showToast(copied ? "Đã sao chép" : "Không sao chép được, hãy chọn và sao chép thủ công.");
      clearTimeout(node.timer);
      node.timer = setTimeout(() => {
        node.textContent = original;
      }, 2000);
    });
    return node;
  }

  // ---- router ----

  const views = ["search", "procedure", "status", "tickets", "feedback", "learn"];

  function parseHash() {
    const hash = window.location.hash.replace(/^#\/?/, "");
    const [path, query] = hash.split("?");
    const parts = path.split("/").map(decodeURIComponent);
    return { view: parts[0] || "search", arg: parts[1] || "", params: new URLSearchParams(query || "") };
  }

  function showView(name) {
    for (const view of views) $("#view-" + view).hidden = view !== name;
    if (name !== "procedure") document.title = BASE_TITLE;
    const tab = name === "procedure" ? "search" : name;
    for (const node of document.querySelectorAll(".tab")) {
      if (node.dataset.view === tab) node.setAttribute("aria-current", "page");
      else node.removeAttribute("aria-current");
    }
  }

  function route() {
    const { view, arg, params } = parseHash();
    if (view === "procedure" && arg) {
      showView("procedure");
      openProcedure(arg);
    } else if (view === "status") {
      showView("status");
      if (arg && arg !== lastStatusCode) lookupStatus(arg);
      else if (!arg) $("#app-code").focus();
    } else if (view === "tickets") {
      showView("tickets");
      const status = params.get("status") || ticketFilter;
      setTicketFilter(status);
      selectedTicket = arg ? Number(arg) : null;
      refreshTickets();
    } else if (view === "feedback") {
      showView("feedback");
      loadFeedback();
    } else if (view === "learn") {
      showView("learn");
      loadLearn();
    } else {
      showView("search");
      restoreSearch(params);
    }
  }

  // ---- search ----

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
  function restoreSearch(params) {
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

  async function loadFacets() {
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

  // ---- procedure sheet ----

  let procedureSeq = 0;

  function section(title, aspect, answers) {
    const box = el("section", "sheet-section");
    const head = el("div", "sheet-section-head");
    head.append(el("h2", null, title));
    if (aspect && answers && answers[aspect]) {
      const copy = copyButton("small copy-aspect", ASPECT_BUTTONS[aspect], () => answers[aspect]);
      copy.title = ASPECTS[aspect];
      copy.setAttribute("aria-label", ASPECTS[aspect]);
      copy.dataset.aspect = aspect;
      head.append(copy);
    }
    box.append(head);
    return box;
  }

  function prose(text, empty) {
    return text ? el("p", "prose", text) : el("p", "muted", empty || "Danh mục chưa ghi.");
  }

  function definitionList(rows) {
    const list = el("dl", "facts");
    for (const [term, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", null, term));
      const dd = el("dd");
      if (value instanceof Node) dd.append(value);
      else dd.textContent = value;
      list.append(dd);
    }
    return list;
  }

  function rawFallback(record, key) {
    const raw = record[key + "_raw"];
    if (!raw) return null;
    const details = el("details", "raw");
    details.append(el("summary", null, "Nguyên văn trên Cổng (bảng tách chưa chắc chắn)"));
    details.append(el("p", "prose", raw));
    return details;
  }

  function documentsChecklist(record) {
    const documents = record.documents || [];
    const box = el("div", "checklist");
    if (!documents.length) {
      box.append(el("p", "muted", "Danh mục chưa ghi thành phần hồ sơ."));
      return box;
    }
    const counter = el("p", "checklist-count muted");
    const update = () => {
      const boxes = box.querySelectorAll("input[type=checkbox]");
      const done = [...boxes].filter((b) => b.checked).length;
      counter.textContent = "Đã kiểm " + done + "/" + boxes.length + " giấy tờ";
    };
    const groups = new Map();
    for (const doc of documents) {
      const key = doc.group || "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(doc);
    }
    let n = 0;
    for (const [group, docs] of groups) {
      const fieldset = el("fieldset", "doc-group");
      if (group) fieldset.append(el("legend", null, group));
      for (const doc of docs) {
        const id = "doc-" + n++;
        const row = el("div", "doc");
        const check = el("input");
        check.type = "checkbox";
        check.id = id;
        check.addEventListener("change", update);
        const label = el("label");
        label.htmlFor = id;
        label.append(el("span", "doc-name", doc.name));
        if (doc.quantity) label.append(el("span", "doc-quantity", doc.quantity));
        if (doc.form) label.append(el("span", "doc-form", "Mẫu: " + doc.form));
        row.append(check, label);
        fieldset.append(row);
      }
      box.append(fieldset);
    }
    const clear = button("small", "Bỏ chọn hết", () => {
      box.querySelectorAll("input[type=checkbox]").forEach((b) => (b.checked = false));
      update();
    });
    const foot = el("div", "checklist-foot");
    foot.append(counter, clear);
    box.append(foot);
    update();
    return box;
  }

  function channelTable(record) {
    const channels = record.channels || [];
    if (!channels.length) return el("p", "muted", "Danh mục chưa ghi cách thức thực hiện.");
    const wrap = el("div", "table-wrap");
    const table = el("table", "data-table channels");
    const head = el("tr");
    for (const title of ["Cách nộp", "Thời hạn giải quyết", "Phí, lệ phí", "Mô tả"]) {
      const th = el("th", null, title);
      th.scope = "col";
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const channel of channels) {
      const row = el("tr");
      const cells = [
        ["Cách nộp", channel.channel],
        ["Thời hạn", channel.time],
        ["Phí, lệ phí", channel.fee],
        ["Mô tả", channel.note],
      ];
      for (const [label, value] of cells) {
        const td = el("td", value ? null : "muted", value || "—");
        td.dataset.label = label;
        row.append(td);
      }
      body.append(row);
    }
    table.append(thead, body);
    wrap.append(table);
    return wrap;
  }

  function legalList(record) {
    const items = record.legal_basis || [];
    if (!items.length) return el("p", "muted", "Danh mục chưa ghi căn cứ pháp lý.");
    const list = el("ul", "legal");
    for (const item of items) {
      const li = el("li");
      li.append(el("strong", null, item.number || ""));
      if (item.title) li.append(document.createTextNode((item.number ? " — " : "") + item.title));
      list.append(li);
    }
    return list;
  }

  function feedbackBox(feedback) {
    const box = el("section", "sheet-section feedback-box");
    box.append(el("h2", null, "Phản hồi của người dân"));
    const votes = el("p", "votes");
    votes.append(
      el("span", "vote vote-up", "👍 " + (feedback.up || 0) + " hữu ích"),
      el("span", "vote vote-down", "👎 " + (feedback.down || 0) + " chưa đúng")
    );
    box.append(votes);
    const complaints = feedback.complaints || [];
    if (!complaints.length) {
      box.append(el("p", "muted", "Chưa có góp ý nào."));
      return box;
    }
    const list = el("ul", "complaints");
    for (const complaint of complaints) {
      const li = el("li");
      const meta = el("div", "complaint-meta muted", formatTime(complaint.at));
      if (complaint.consent === true) meta.append(" · đồng ý được liên hệ");
      else if (complaint.consent === false) meta.append(" · không muốn được liên hệ");
      li.append(el("p", "prose", complaint.text), meta);
      list.append(li);
    }
    box.append(list);
    return box;
  }

  async function openProcedure(code) {
    const view = $("#view-procedure");
    const seq = ++procedureSeq;
    // Another procedure's sheet must not stay on screen while this one loads.
    if (view.dataset.code !== code) {
      view.replaceChildren(el("p", "muted", "Đang tải thủ tục " + code + "…"));
    }
    try {
      const body = await api("/api/procedures/" + encodeURIComponent(code));
      if (seq !== procedureSeq) return;
      const fresh = view.dataset.code !== code;
      renderProcedure(view, body);
      view.dataset.code = code;
      if (fresh) window.scrollTo(0, 0);
    } catch (error) {
      if (seq !== procedureSeq) return;
      const message =
        error instanceof ApiError && error.status === 404
          ? "Không có thủ tục mã " + code + " trong danh mục."
          : problem(error);
      view.dataset.code = "";
      view.replaceChildren(backLink(), el("p", "notice notice--error", message));
    }
  }

  /* Back to the results as they were left (query and filters). */
  function backLink() {
    return link(lastSearchHash || "#/search", "← Kết quả tra cứu", "back");
  }

  function renderProcedure(view, body) {
    const record = body.procedure;
    const answers = body.answers || {};
    const top = el("div", "sheet-top");
    top.append(backLink());
    const title = el("header", "sheet-title");
    title.append(el("span", "code code--big", record.code), el("h1", "proc-name", record.name));
    title.append(
      el(
        "p",
        "result-meta",
        [record.ministry, record.field, (record.levels || []).join(", ")].filter(Boolean).join(LEVEL_SEP)
      )
    );
    const actions = el("div", "sheet-actions");
    const copyAll = copyButton("primary copy-answer", "Sao chép câu trả lời", () => body.answer);
    copyAll.id = "copy-answer";
    actions.append(copyAll);
    if (record.url) {
      const portal = link(record.url, "Mở trên Cổng Dịch vụ công ↗", "button portal-link");
      portal.target = "_blank";
      portal.rel = "noopener noreferrer";
      actions.append(portal);
    }
    title.append(actions);
    top.append(title);

    const main = el("div", "sheet-main");

    const docs = section("Thành phần hồ sơ", "documents", answers);
    docs.id = "sec-documents";
    docs.append(documentsChecklist(record));
    const rawDocs = rawFallback(record, "documents");
    if (rawDocs) docs.append(rawDocs);

    const channels = section("Cách thức thực hiện: thời hạn và lệ phí", "fee", answers);
    channels.id = "sec-channels";
    const timeCopy = copyButton("small copy-aspect", ASPECT_BUTTONS.time, () => answers.time);
    timeCopy.dataset.aspect = "time";
    timeCopy.title = ASPECTS.time;
    if (answers.time) channels.firstChild.append(timeCopy);
    channels.append(channelTable(record));
    const rawChannels = rawFallback(record, "channels");
    if (rawChannels) channels.append(rawChannels);

    const where = section("Nơi nộp hồ sơ", "where", answers);
    where.id = "sec-where";
    where.append(
      definitionList([
        ["Cơ quan thực hiện", record.agency],
        ["Cơ quan có thẩm quyền", record.authority],
        ["Địa chỉ tiếp nhận", record.address],
        ["Cấp thực hiện", (record.levels || []).join(", ")],
      ])
    );
    if (answers.online) {
      const online = copyButton("small copy-aspect", ASPECT_BUTTONS.online, () => answers.online);
      online.dataset.aspect = "online";
      online.title = ASPECTS.online;
      where.firstChild.append(online);
    }

    const applicants = section("Đối tượng thực hiện");
    applicants.append(prose(record.applicants));
    const steps = section("Trình tự thực hiện");
    steps.append(prose(record.steps));
    const requirements = section("Yêu cầu, điều kiện");
    requirements.append(prose(record.requirements, "Không có yêu cầu, điều kiện riêng được ghi."));
    const result = section("Kết quả");
    result.append(prose(record.result));
    const legal = section("Căn cứ pháp lý");
    legal.append(legalList(record));
    const rawLegal = rawFallback(record, "legal_basis");
    if (rawLegal) legal.append(rawLegal);
    main.append(docs, channels, where, applicants, steps, requirements, result, legal);
    if (record.related) {
      const related = section("Thủ tục liên quan");
      related.append(prose(record.related));
      main.append(related);
    }

    const side = el("aside", "sheet-side");
    const answerBox = el("section", "sheet-section answer-box");
    answerBox.append(el("h2", null, "Câu trả lời của trợ lý"));
    answerBox.append(el("p", "prose answer-text", body.answer));
    side.append(answerBox);
    side.append(feedbackBox(body.feedback || {}));
    const info = el("section", "sheet-section");
    info.append(el("h2", null, "Thông tin công bố"));
    info.append(
      definitionList([
        ["Mã thủ tục", record.code],
        ["Loại thủ tục", record.kind],
        ["Quyết định công bố", record.decision],
        ["Nguồn dữ liệu", record.source],
      ])
    );
    side.append(info);

    const layout = el("div", "sheet-layout");
    layout.append(main, side);
    view.replaceChildren(top, layout);
    document.title = record.code + " " + record.name + " — Tổng đài";
  }

  // ---- application status ----

  let lastStatusCode = null;
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

  // ---- handoff queue ----

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

  /* The badge always; the list and the open ticket when the queue is shown. */
  async function refreshTickets() {
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

  // ---- feedback ----

  async function loadFeedback() {
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

  // ---- teaching the question bank ----

  const LEARN_KINDS = {
    not_found: "Không tìm thấy thủ tục",
    none_of_them: "Người dân trả lời “không phải” các lựa chọn",
    elsewhere: "Trợ lý cho là ngoài danh mục",
    vote_down: "Người dân bấm 👎",
  };

  async function loadLearn() {
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

  function openLinkDialog(question, origin) {
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

  // ---- wiring ----

  function start() {
    const q = $("#q");
    q.addEventListener("input", onSearchInput);
    q.addEventListener("keydown", onSearchKey);
    $("#search-form").addEventListener("submit", (event) => event.preventDefault());
    for (const key of ["ministry", "field", "level"]) $("#f-" + key).addEventListener("change", onFilterChange);
    $("#results").addEventListener("mousemove", (event) => {
      const item = event.target.closest(".result");
      if (item) setActive([...item.parentNode.children].indexOf(item));
    });

    $("#status-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const code = $("#app-code").value.trim();
      if (!code) return;
      lastStatusCode = null;
      const hash = "#/status/" + encodeURIComponent(code);
      if (window.location.hash === hash) lookupStatus(code);
      else window.location.hash = hash;
    });

    for (const node of document.querySelectorAll(".segmented button")) {
      node.addEventListener("click", () => {
        setTicketFilter(node.dataset.status);
        window.location.hash = ticketHash(null);
      });
    }

    $("#link-q").addEventListener("input", searchForLink);

    window.addEventListener("hashchange", route);
    setInterval(() => {
      if (!document.hidden) refreshTickets();
    }, TICKETS_REFRESH_MS);

    loadFacets();
    refreshTickets();
    route();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
