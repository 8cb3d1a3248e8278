/*
 * The hash router's halves that views need: reading the hash and showing one
 * view. Which view loads what on a hash change is main.js's (route), so that
 * no view module has to import the others.
 */

import { $ } from "./dom.js";

const BASE_TITLE = document.title;
const VIEWS = ["search", "procedure", "status", "tickets", "feedback", "learn"];

export function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { view: parts[0] || "search", arg: parts[1] || "", params: new URLSearchParams(query || "") };
}

export function showView(name) {
  for (const view of VIEWS) $("#view-" + view).hidden = view !== name;
  if (name !== "procedure") document.title = BASE_TITLE;
  const tab = name === "procedure" ? "search" : name;
  for (const node of document.querySelectorAll(".tab")) {
    if (node.dataset.view === tab) node.setAttribute("aria-current", "page");
    else node.removeAttribute("aria-current");
  }
}
