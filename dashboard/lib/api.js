/**
 * The dashboard's HTTP client: GET and POST JSON against the AMC server (lib/stream.js owns the
 * one EventSource).
 *
 * Every POST carries the page's token as `X-AMC-Token` (the server refuses state-changing requests
 * without it); on a server reachable from the network that is not the token but a value of this
 * page's login, which the server takes only together with that login's cookie. Reads carry no token: on a server reachable from the network they ride on the
 * HttpOnly session cookie of its login page (`credentials: "same-origin"`), and a read answered
 * 401 (the cookie is gone or stale) loads "/" again, which is then the login page. No token ever
 * goes into a URL (docs/security.md). Failures never pass silently: a network failure, a non-2xx
 * answer or the server's `{"ok": false, "error": "..."}` all become a thrown ApiError whose
 * message is the server's own words when it gave any, so components can show it to the user as is.
 */

/** An API failure; `message` is for a person, `status` is the HTTP status (0: no answer at all). */
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** Return what the server put into <meta name="amc-token">: the token, or this login's value ("" if not served by AMC). */
export function pageToken() {
  const meta = document.querySelector('meta[name="amc-token"]');
  const value = meta ? meta.getAttribute("content") || "" : "";
  return value.startsWith("{{") ? "" : value;
}

/** Return the headers every request carries: JSON, and the token on state-changing requests. */
function baseHeaders(method) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-AMC-Token"] = pageToken();
  return headers;
}

/** Send one request; return the Response (any status); throw ApiError when there is no answer at all. */
async function send(path, init) {
  try {
    return await fetch(path, { cache: "no-store", credentials: "same-origin", ...init });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw new ApiError("Cannot reach the AMC server: " + ((e && e.message) || "network error"), 0);
  }
}

/** Decode a Response's JSON answer; throw ApiError for a non-2xx status or `{"ok": false}`. */
async function decode(res) {
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    data = null; // not JSON: fall through to the status line
  }
  if (!res.ok || !data || typeof data !== "object" || data.ok === false) {
    // 401 is "log in" (a server reachable from the network): "/" is now its login page.
    if (res.status === 401) window.location.assign("/");
    const said = data && typeof data.error === "string" && data.error;
    throw new ApiError(said || `The server answered ${res.status} ${res.statusText}`.trim(), res.status);
  }
  return data;
}

/** Send one request and return the decoded JSON answer; throw ApiError on any failure. */
export async function request(method, path, body, { signal } = {}) {
  const headers = baseHeaders(method);
  const init = { method, headers, signal };
  if (method !== "GET" && method !== "HEAD") {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  return decode(await send(path, init));
}

export const getJSON = (path, opts) => request("GET", path, undefined, opts);
export const postJSON = (path, body, opts) => request("POST", path, body, opts);

const enc = encodeURIComponent;

/**
 * GET /api/state, conditionally: with the `etag` of the last answer the server may say 304 (then
 * `{notModified: true}` comes back and the caller keeps its last body), else `{state, etag}`.
 * The request is `cache: "no-store"`, so the browser adds no validator of its own: we send ours.
 */
export async function fetchState({ etag = "", signal } = {}) {
  const headers = baseHeaders("GET");
  if (etag) headers["If-None-Match"] = etag;
  const res = await send("/api/state", { method: "GET", headers, signal });
  if (res.status === 304) return { notModified: true, etag };
  const state = await decode(res);
  return { state, etag: res.headers.get("ETag") || "" };
}

/**
 * GET /api/conversation/<id>: the last `limit` messages of a session's transcript, or with `after`
 * (a message id) only the messages after it plus earlier ones that changed.
 */
export function fetchConversation(sessionId, { agent = "", limit = 0, after = "" } = {}, opts) {
  const query = new URLSearchParams();
  if (limit) query.set("limit", String(limit));
  if (agent) query.set("agent", agent);
  if (after) query.set("after", after);
  return getJSON(`/api/conversation/${enc(sessionId)}?${query}`, opts);
}

/**
 * GET /api/conversation/<id>/part: the whole `field` of a message ("content" | "thinking") or, with
 * `callId`, of one of its tool calls ("input" | "result"); returns the value.
 */
export async function fetchPart(sessionId, messageId, callId, field, opts, subagent = "") {
  const query = new URLSearchParams({ message: messageId });
  if (callId) query.set("call", callId);
  query.set("field", field);
  if (subagent) query.set("subagent", subagent);
  const answer = await getJSON(`/api/conversation/${enc(sessionId)}/part?${query}`, opts);
  return answer.value;
}

/**
 * GET /api/conversation/<id>?subagent=<agent id>: a subagent's own messages (the `subagent`
 * object of a Task/Agent call says which; docs/api.md), the last `limit` of them.
 */
export function fetchSubagent(sessionId, agentId, { limit = 0, after = "" } = {}, opts) {
  const query = new URLSearchParams({ subagent: agentId });
  if (limit) query.set("limit", String(limit));
  if (after) query.set("after", after);
  return getJSON(`/api/conversation/${enc(sessionId)}?${query}`, opts);
}

/** Return the URL of one image of a message (of a tool call's result with `callId`), for <img>. */
export function imageUrl(sessionId, messageId, index, callId = "", subagent = "") {
  const query = new URLSearchParams({ message: messageId, index: String(index) });
  if (callId) query.set("call", callId);
  if (subagent) query.set("subagent", subagent);
  return `/api/conversation/${enc(sessionId)}/image?${query}`;
}

/**
 * The event lib/stream.js listens to: "the server's state just changed". While polling it polls at
 * once; while the stream is live the change arrives by itself.
 */
export const CHANGED_EVENT = "amc:changed";

/**
 * POST /api/respond/<id> with `{text, freeform?, optionCount?, questionIndex?, questionId?}`
 * (docs/api.md).
 * The server answers once the agent took the answer, so the state has moved on: ask for it now.
 */
export async function respond(sessionId, body) {
  const answer = await postJSON(`/api/respond/${enc(sessionId)}`, body);
  window.dispatchEvent(new Event(CHANGED_EVENT));
  return answer;
}

/**
 * POST /api/sessions with `{agent, project_dir, prompt?, permission_mode?, channel?}`: start a
 * session in a new pane; answers `{ok, session_id}` once its card is in the state.
 */
export async function startSession(body) {
  const answer = await postJSON("/api/sessions", body);
  window.dispatchEvent(new Event(CHANGED_EVENT));
  return answer;
}

/**
 * POST /api/logout (the server answers with a Set-Cookie that makes the browser forget the
 * login's HttpOnly cookie), then load "/": the login form again. Throws ApiError when it failed.
 */
export async function logout() {
  await postJSON("/api/logout", {});
  window.location.assign("/");
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
