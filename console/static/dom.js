/*
 * Small DOM helpers every view of the console uses. Everything from the API is
 * citizen or catalogue text: it reaches the page only through textContent and
 * createElement, never as HTML, and these helpers are how.
 */

export const LEVEL_SEP = " · ";

export const $ = (selector) => document.querySelector(selector);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function button(className, label, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

export function link(href, text, className) {
  const node = el("a", className, text);
  node.href = href;
  return node;
}

/* Rows of [term, value]; empty values are left out, a Node value goes in as is. */
export function definitionList(rows) {
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

export function formatTime(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return "";
  return new Date(epochSeconds * 1000).toLocaleString("vi-VN", {
    hour: "2-digit",
    minute: "2-digit",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
  });
}

export function formatIso(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toLocaleDateString("vi-VN");
}

export function showToast(text) {
  const toast = $("#toast");
  toast.textContent = text;
  toast.classList.add("toast--shown");
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => toast.classList.remove("toast--shown"), 2500);
}
