/*
 * A procedure's sheet: one page laid out to be read aloud while a citizen is
 * on the line, with the bot's answers a click away from the clipboard.
 */

import { api, ApiError, problem } from "./api.js";
import { copyButton } from "./copy.js";
import { $, button, definitionList, el, formatTime, link, LEVEL_SEP } from "./dom.js";
import { resultsHash } from "./search.js";

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

export async function openProcedure(code) {
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
  return link(resultsHash(), "← Kết quả tra cứu", "back");
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
  if (body.as_of) {
    /* How fresh the catalogue is, as the bot tells citizens. */
    const [year, month, day] = body.as_of.split("-");
    const dated = el("p", "result-meta as-of", `Theo danh mục thủ tục cập nhật ngày ${day}/${month}/${year}`);
    dated.id = "as-of";
    title.append(dated);
  }
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
