/**
 * The dashboard's only HTTP client: GET and POST JSON against the AMC server.
 *
 * Every POST carries the page's token as `X-AMC-Token` (the server refuses state-changing requests
 * without it). Failures never pass silently: a network failure, a non-2xx answer or the server's
 * `{"ok": false, "error": "..."}` all become a thrown ApiError whose message is the server's own
 * words when it gave any, so components can show it to the user as is.
 */

/** An API failure; `message` is for a person, `status` is the HTTP status (0: no answer at all). */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Return the token the server put into <meta name="amc-token"> ("" if the page was not served by AMC). */
export function pageToken() {
  const meta = document.querySelector('meta[name="amc-token"]');
  const value = meta ? meta.getAttribute("content") || "" : "";
  return value.startsWith("{{") ? "" : value;
}

/** Send one request and return the decoded JSON answer; throw ApiError on any failure. */
export async function request(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, signal, cache: "no-store", credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    headers["X-AMC-Token"] = pageToken();
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError("Cannot reach the AMC server: " + ((e && e.message) || "network error"), 0);
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    data = null; // not JSON: fall through to the status line
  }
  if (!res.ok || !data || typeof data !== "object" || data.ok === false) {
    const said = data && typeof data.error === "string" && data.error;
    throw new ApiError(said || `The server answered ${res.status} ${res.statusText}`.trim(), res.status);
  }
  return data;
}

export const getJSON = (path, opts) => request("GET", path, undefined, opts);
export const postJSON = (path, body, opts) => request("POST", path, body, opts);

const enc = encodeURIComponent;

/** GET /api/conversation/<id>: the last `limit` messages of a session's transcript. */
export function fetchConversation(sessionId, agent, limit, opts) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (agent) query.set("agent", agent);
  return getJSON(`/api/conversation/${enc(sessionId)}?${query}`, opts);
}

/** The event lib/poll.js listens to: "the server's state just changed, fetch it now". */
export const CHANGED_EVENT = "amc:changed";

/**
 * POST /api/respond/<id> with `{text, freeform?, optionCount?, questionIndex?}` (docs/api.md).
 * The server answers once the agent took the answer, so the state has moved on: ask for it now.
 */
export async function respond(sessionId, body) {
  const answer = await postJSON(`/api/respond/${enc(sessionId)}`, body);
  window.dispatchEvent(new Event(CHANGED_EVENT));
  return answer;
}

/** POST /api/dismiss/<id>; `keepalive` lets it outlive the page (used on pagehide). */
export function dismiss(sessionId, { keepalive = false } = {}) {
  if (keepalive) {
    return fetch(`/api/dismiss/${enc(sessionId)}`, {
      method: "POST", keepalive: true, body: "{}",
      headers: { "X-AMC-Token": pageToken(), "Content-Type": "application/json" },
    }).then(() => ({ ok: true }), () => ({ ok: false }));
  }
  return postJSON(`/api/dismiss/${enc(sessionId)}`, {});
}
