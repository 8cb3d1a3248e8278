/*
 * Hotline staff console (app.html): procedure search, procedure sheet,
 * application status, handoff queue, citizen feedback and teaching the
 * question bank, over the console's JSON API (console/server.py). This is the
 * page's entry module: it routes between the views and wires them up; each
 * view is a module of its own (search.js, sheet.js, status.js, tickets.js,
 * feedback.js, learn.js) over shared helpers (dom.js, api.js, copy.js,
 * router.js), and none keeps state another module writes.
 *
 * A hash router (#/search?q=…, #/procedure/CODE, #/status/CODE,
 * #/tickets/ID, #/feedback, #/learn) keeps back/forward and reload working
 * without a server round trip per view.
 *
 * The server's CSP allows scripts from its own origin only and no inline
 * scripts or styles, hence these files and no style="".
 */

import { loadFeedback } from "./feedback.js";
import { loadLearn, wireLearn } from "./learn.js";
import { parseHash, showView } from "./router.js";
import { loadFacets, restoreSearch, wireSearch } from "./search.js";
import { openProcedure } from "./sheet.js";
import { showStatus, wireStatus } from "./status.js";
import { refreshTickets, showTickets, wireTickets } from "./tickets.js";

const TICKETS_REFRESH_MS = 10000;

function route() {
  const { view, arg, params } = parseHash();
  if (view === "procedure" && arg) {
    showView("procedure");
    openProcedure(arg);
  } else if (view === "status") {
    showView("status");
    showStatus(arg);
  } else if (view === "tickets") {
    showView("tickets");
    showTickets(arg, params);
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

/* A module runs once the document is parsed: the elements are all there. */
wireSearch();
wireStatus();
wireTickets();
wireLearn();
window.addEventListener("hashchange", route);
setInterval(() => {
  if (!document.hidden) refreshTickets();
}, TICKETS_REFRESH_MS);
loadFacets();
refreshTickets();
route();
