/*
 * The console's JSON API (console/server.py): JSON in and out, the session's
 * CSRF token on every POST, and errors worded for staff.
 */

const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (body && body.error) || "HTTP " + status);
    this.status = status;
    this.body = body || {};
  }
}

/* JSON in and out; a lost session (401) goes back to the sign-in page. */
export async function api(path, options) {
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

/* What to tell staff about a failed call; null for an aborted one (nothing failed). */
export function problem(error) {
  if (error.name === "AbortError") return null;
  if (error instanceof ApiError) {
    if (error.status === 403) return "Phiên làm việc đã thay đổi, vui lòng tải lại trang.";
    if (error.body.message) return error.body.message;
    return "Máy chủ báo lỗi (" + error.status + "). Vui lòng thử lại.";
  }
  return "Không kết nối được máy chủ. Vui lòng thử lại.";
}
