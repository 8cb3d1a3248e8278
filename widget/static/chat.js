/*
 * Chat widget of the Cổng Dịch vụ công: talks to Rasa's socketio channel.
 *
 * Embedding: load /vendor/socket.io.min.js, then this file with
 * data-rasa-url="<Rasa server as the browser reaches it>"; any element with
 * a data-chat-open attribute opens the panel.
 *
 * Rasa's side (credentials.yml, session_persistence: true): the client asks
 * for a session with `session_request` {session_id}, the server joins the
 * socket to that room and answers `session_confirm`; `user_uttered`
 * {message, session_id} sends a turn, `bot_uttered` {text, quick_replies?}
 * brings each reply (a text is split on blank lines, buttons come on the
 * last part). The session id and the messages live in localStorage, so a
 * reload continues the same conversation with the same Rasa sender.
 *
 * Bot and user text only ever reach the page through textContent and
 * createElement: nothing typed or answered is parsed as HTML.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const RASA_URL = (script && script.dataset.rasaUrl) || "http://localhost:5005";
  const STORE_KEY = "dvc-chat:v1";
  const MAX_MESSAGES = 200; // history kept in localStorage (and shown)
  const MAX_INPUT = 1000; // characters per message
  const TYPING_TIMEOUT_MS = 30000; // hide the indicator if no answer comes
  const HANDOFF_PAYLOAD = "/request_human";
  const URL_RE = /\bhttps?:\/\/[^\s<>"]+/g;
  const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»”]+$/;

  const T = {
    title: "Trợ lý ảo Dịch vụ công",
    launcher: "Hỏi trợ lý ảo",
    close: "Thu nhỏ cửa sổ trò chuyện",
    handoff: "Gặp tổng đài viên",
    restart: "Cuộc trò chuyện mới",
    restartShort: "Trò chuyện mới", // fits beside the handoff button on a phone
    vote: "Câu trả lời có giúp được anh/chị không?",
    placeholder: "Nhập câu hỏi của anh/chị…",
    inputLabel: "Câu hỏi của anh/chị",
    send: "Gửi",
    connecting: "Đang kết nối…",
    reconnecting: "Đang kết nối lại…",
    unreachable: "Chưa kết nối được, đang thử lại…",
    online: "Trực tuyến",
    typing: "Trợ lý đang trả lời",
    you: "Anh/chị: ",
    bot: "Trợ lý: ",
    choices: "Các lựa chọn",
    messages: "Nội dung trò chuyện",
    welcome:
      "Xin chào anh/chị! Em là trợ lý ảo của Cổng Dịch vụ công. Anh/chị cần hỏi " +
      "về thủ tục nào: giấy tờ cần có, lệ phí, thời gian, nơi nộp hay tra cứu hồ sơ ạ?",
    suggestions: [
      "Làm lại căn cước bị mất cần giấy tờ gì?",
      "Đăng ký khai sinh nộp ở đâu?",
      "Tra cứu tình trạng hồ sơ",
    ],
    counter: (n) => n + "/" + MAX_INPUT,
  };

  // ---- state: {sessionId, open, messages: [{from, text, buttons?, used?}]} ----

  function loadState() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved && Array.isArray(saved.messages)) {
        return {
          sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
          open: saved.open === true,
          messages: saved.messages.filter(
            (m) => m && (m.from === "user" || m.from === "bot") && typeof m.text === "string"
          ),
        };
      }
    } catch (_) {
      // Unreadable or blocked storage: start afresh rather than not at all.
    }
    return { sessionId: null, open: false, messages: [] };
  }

  const state = loadState();

  function saveState() {
    state.messages = state.messages.slice(-MAX_MESSAGES);
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (_) {
      // Private mode or a full quota: the conversation still works, unsaved.
    }
  }

  // ---- DOM ----

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(className, label, onClick) {
    const node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  /* Text with its http(s) URLs as links; everything else stays text. */
  function appendLinkified(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      const url = match[0].replace(TRAILING_PUNCTUATION, "");
      parent.append(text.slice(last, match.index));
      const link = el("a", "dvc-link", url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.append(link);
      last = match.index + url.length;
    }
    parent.append(text.slice(last));
  }

  const root = el("div", "dvc-chat");
  const launcher = button("dvc-launcher", T.launcher, () => setOpen(true));
  launcher.setAttribute("aria-controls", "dvc-panel");

  const panel = el("section", "dvc-panel");
  panel.id = "dvc-panel";
  panel.setAttribute("aria-label", T.title);

  const header = el("header", "dvc-header");
  const titleRow = el("div", "dvc-title-row");
  const titleBox = el("div", "dvc-title-box");
  titleBox.append(el("h2", "dvc-title", T.title));
  const status = el("p", "dvc-status", T.connecting);
  status.setAttribute("role", "status");
  titleBox.append(status);
  const closeButton = button("dvc-icon-button dvc-close", "×", () => setOpen(false));
  closeButton.setAttribute("aria-label", T.close);
  closeButton.title = T.close;
  titleRow.append(titleBox, closeButton);
  const actions = el("div", "dvc-actions");
  const handoffButton = button("dvc-action dvc-handoff", T.handoff, () =>
    send(HANDOFF_PAYLOAD, T.handoff)
  );
  const restartButton = button("dvc-action dvc-restart", T.restartShort, restart);
  restartButton.setAttribute("aria-label", T.restart);
  restartButton.title = T.restart;
  actions.append(handoffButton, restartButton);
  header.append(titleRow, actions);

  const log = el("div", "dvc-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", T.messages);
  log.tabIndex = 0;

  const typing = el("div", "dvc-typing");
  typing.setAttribute("aria-label", T.typing);
  typing.append(el("span"), el("span"), el("span"));
  typing.hidden = true;

  const form = el("form", "dvc-form");
  const label = el("label", "dvc-sr", T.inputLabel);
  label.htmlFor = "dvc-input";
  const input = el("textarea", "dvc-input");
  input.id = "dvc-input";
  input.rows = 1;
  input.maxLength = MAX_INPUT;
  input.placeholder = T.placeholder;
  input.autocomplete = "off";
  const counter = el("span", "dvc-counter");
  counter.setAttribute("aria-live", "polite");
  const sendButton = el("button", "dvc-send", T.send);
  sendButton.type = "submit";
  form.append(label, input, counter, sendButton);

  panel.append(header, log, typing, form);
  root.append(launcher, panel);
  document.body.append(root);

  function renderMessage(message) {
    const row = el("div", "dvc-msg dvc-msg--" + message.from);
    const bubble = el("div", "dvc-bubble");
    bubble.append(el("span", "dvc-sr", message.from === "user" ? T.you : T.bot));
    appendLinkified(bubble, message.text);
    row.append(bubble);
    const all = message.buttons || [];
    // A vote (👍/👎) belongs to the answer: it sits on the bubble, small, not
    // among the choices and not as a bubble of its own.
    const votes = all.filter((b) => b.payload.startsWith("/feedback"));
    const choices = all.filter((b) => !b.payload.startsWith("/feedback"));
    const make = (className, choice) => {
      const node = button(className, choice.title, () => send(choice.payload, choice.title));
      node.disabled = Boolean(message.used);
      return node;
    };
    if (votes.length) {
      const bar = el("div", "dvc-votes");
      bar.setAttribute("role", "group");
      bar.setAttribute("aria-label", T.vote);
      bar.append(el("span", "dvc-vote-label", T.vote));
      for (const choice of votes) bar.append(make("dvc-choice dvc-vote", choice));
      bubble.append(bar);
    }
    if (choices.length) {
      const group = el("div", "dvc-choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", T.choices);
      for (const choice of choices) group.append(make("dvc-choice", choice));
      row.append(group);
    }
    return row;
  }

  function renderWelcome() {
    const welcome = renderMessage({ from: "bot", text: T.welcome });
    welcome.classList.add("dvc-welcome");
    if (!state.messages.length) {
      const group = el("div", "dvc-choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", T.choices);
      for (const question of T.suggestions) {
        group.append(button("dvc-choice", question, () => send(question)));
      }
      welcome.append(group);
    }
    return welcome;
  }

  function renderAll() {
    log.replaceChildren(renderWelcome(), ...state.messages.map(renderMessage));
    scrollToEnd();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(text) {
    status.textContent = text;
    root.classList.toggle("dvc-offline", text !== T.online);
  }

  /* `focus`: move the keyboard focus along (not on page load). */
  function setOpen(open, focus = true) {
    state.open = open;
    saveState();
    root.classList.toggle("dvc-open", open);
    launcher.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    launcher.hidden = open;
    if (open) scrollToEnd();
    if (focus) (open ? input : launcher).focus();
  }

  // ---- conversation ----

  let typingTimer = 0;

  function showTyping(show) {
    clearTimeout(typingTimer);
    typing.hidden = !show;
    if (show) {
      typingTimer = setTimeout(() => showTyping(false), TYPING_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  function addMessage(message) {
    state.messages.push(message);
    saveState();
    if (state.messages.length === 1) {
      renderAll(); // drops the welcome's suggestions
    } else {
      log.append(renderMessage(message));
      // Child 0 is the welcome; the rest mirror the capped history.
      while (log.childElementCount > MAX_MESSAGES + 1) log.children[1].remove();
      scrollToEnd();
    }
  }

  /* Buttons answer the turn they came with: once the citizen says anything
   * else, pressing an old one would answer a question no longer asked. */
  function retireButtons() {
    for (const message of state.messages) {
      if (message.buttons && message.buttons.length) message.used = true;
    }
    for (const node of log.querySelectorAll(".dvc-choice")) node.disabled = true;
  }

  /* `payload` goes to Rasa; `shown` (a button's title) is what the bubble says. */
  function send(payload, shown) {
    const message = payload.trim().slice(0, MAX_INPUT);
    if (!message) return;
    retireButtons();
    addMessage({ from: "user", text: shown || message });
    outbox.push(message);
    showTyping(true);
    flush();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
    input.value = "";
    fitInput();
    input.focus();
  });

  input.addEventListener("keydown", (event) => {
    // Vietnamese input methods compose syllables: Enter then belongs to them.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
    input.style.overflowY = input.scrollHeight > 120 ? "auto" : "hidden";
    const length = input.value.length;
    counter.textContent = length > MAX_INPUT * 0.8 ? T.counter(length) : "";
  }
  input.addEventListener("input", fitInput);

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") setOpen(false);
  });

  for (const opener of document.querySelectorAll("[data-chat-open]")) {
    opener.addEventListener("click", () => setOpen(true));
  }

  // ---- socket ----

  /* Messages typed while the socket is down or before Rasa confirmed the
   * session wait here: sent earlier, their answers would go to a room this
   * socket has not joined yet and be lost. */
  const outbox = [];
  let ready = false;

  const socket = io(RASA_URL, {
    transports: ["websocket", "polling"],
    tryAllTransports: true, // a proxy that blocks websockets still gets polling
    reconnectionDelayMax: 10000,
  });

  function flush() {
    while (ready && outbox.length) {
      socket.emit("user_uttered", { message: outbox.shift(), session_id: state.sessionId });
    }
  }

  socket.on("connect", () => {
    // Every (re)connection is a new socket: rejoin the conversation's room.
    socket.emit("session_request", { session_id: state.sessionId });
  });

  socket.on("session_confirm", (confirmed) => {
    const id = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
    if (!id) return;
    state.sessionId = id;
    saveState();
    ready = true;
    setStatus(T.online);
    flush();
  });

  socket.on("bot_uttered", (data) => {
    if (!data) return;
    const text = typeof data.text === "string" ? data.text : "";
    const buttons = (Array.isArray(data.quick_replies) ? data.quick_replies : [])
      .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
      .map((b) => ({ title: b.title, payload: b.payload }));
    if (!text && !buttons.length) return;
    showTyping(false);
    addMessage(buttons.length ? { from: "bot", text, buttons } : { from: "bot", text });
  });

  socket.on("disconnect", (reason) => {
    ready = false;
    setStatus(T.reconnecting);
    // The server closed this socket on purpose: socket.io does not retry that.
    if (reason === "io server disconnect") socket.connect();
  });

  socket.on("connect_error", () => {
    ready = false;
    setStatus(T.unreachable);
  });

  /* A new conversation: a new socket too, so nothing of the old room's
   * traffic reaches the fresh transcript. */
  function restart() {
    state.sessionId = null;
    state.messages = [];
    outbox.length = 0;
    saveState();
    showTyping(false);
    renderAll();
    ready = false;
    socket.disconnect();
    setStatus(T.connecting);
    socket.connect();
    input.focus();
  }

  setStatus(T.connecting);
  renderAll();
  setOpen(state.open, false);
})();
