/**
 * The server's state over time: how each event of the stream (lib/stream.js), or a polled
 * /api/state body, changes the state the App holds. Sessions stay in the server's own order
 * (status rank, newest started_at, session_id, times read exactly as the server reads them), so
 * one changed session is placed by bisection instead of re-sorting thousands. Pure transitions:
 * each returns a new state, or the same one when nothing changed.
 */

import { normalizeMachines } from "./machines.js";
import { GROUPS } from "./sessions.js";

const RANK = Object.fromEntries(GROUPS.map((g, i) => [g.status, i]));
const ISO_HEAD = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;

/**
 * Return an ISO-8601 time as epoch seconds exactly as the server's model.parse_iso does (the first
 * 19 characters read as UTC, plus a `.digits` fraction; 0 when it is not such a time), so sorting
 * here and on the server agree to the last tie.
 */
export function serverSeconds(iso) {
  const m = ISO_HEAD.exec(typeof iso === "string" ? iso : "");
  if (!m) return 0;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (mo < 1 || mo > 12 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return 0;
  let whole = ms / 1000;
  const fraction = iso.slice(19).replace(/Z+$/, "");
  if (/^\.\d+$/.test(fraction)) whole += parseFloat("0" + fraction);
  return whole;
}

/** Order sessions as GET /api/state does: status rank, newest started_at first, then session_id. */
export function compareSessions(a, b) {
  const ra = a.status in RANK ? RANK[a.status] : 9;
  const rb = b.status in RANK ? RANK[b.status] : 9;
  if (ra !== rb) return ra - rb;
  const ta = serverSeconds(a.started_at);
  const tb = serverSeconds(b.started_at);
  if (ta !== tb) return tb - ta;
  const ia = String(a.session_id);
  const ib = String(b.session_id);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** Return a sorted copy of `sessions` (only well-formed ones: objects with a session_id). */
export function sortSessions(sessions) {
  const valid = (Array.isArray(sessions) ? sessions : [])
    .filter((s) => s && typeof s === "object" && s.session_id);
  return valid.sort(compareSessions);
}

/** A `snapshot` event (or a polled /api/state body): the whole state, sorted. */
export function applySnapshot(state, data) {
  const d = data && typeof data === "object" ? data : {};
  return { ...d, sessions: sortSessions(d.sessions), setup: d.setup || (state && state.setup) || {},
    machines: normalizeMachines(d.machines) };
}

/** A `session` event: insert or replace that session by id, keeping the server's order. */
export function applySession(state, session) {
  if (!state || !session || typeof session !== "object" || !session.session_id) return state;
  const sessions = state.sessions.slice();
  const old = sessions.findIndex((s) => s.session_id === session.session_id);
  if (old >= 0) sessions.splice(old, 1);
  // The list is sorted: find the place by bisection (thousands of sessions, one changed).
  let lo = 0;
  let hi = sessions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareSessions(sessions[mid], session) <= 0) lo = mid + 1;
    else hi = mid;
  }
  sessions.splice(lo, 0, session);
  return { ...state, sessions };
}

/** A `removed` event ({session_id}): drop that session. */
export function applyRemoved(state, data) {
  const id = data && data.session_id;
  if (!state || !id || !state.sessions.some((s) => s.session_id === id)) return state;
  return { ...state, sessions: state.sessions.filter((s) => s.session_id !== id) };
}

/** A `setup` event: the hooks flags and `data_dir_problem` of /api/state's `setup`. */
export function applySetup(state, setup) {
  if (!state || !setup || typeof setup !== "object") return state;
  return { ...state, setup };
}

/**
 * Return the ids of `ids` whose conversation changed between two lists of sessions (their
 * conversation_mtime_ns differs, or the session was absent before): in polling mode the followed
 * conversations to fill from the server.
 */
export function changedConversations(prevSessions, nextSessions, ids) {
  const before = new Map((prevSessions || []).map((s) => [s.session_id, s]));
  const after = new Map((nextSessions || []).map((s) => [s.session_id, s]));
  return [...ids].filter((id) => {
    const next = after.get(id);
    if (!next) return false;
    const prev = before.get(id);
    return !prev || prev.conversation_mtime_ns !== next.conversation_mtime_ns;
  });
}

/** Return the text of the connection indicator: "Live", "Reconnecting…", "Polling", "Connecting…". */
export function connectionLabel(status) {
  return { live: "Live", reconnecting: "Reconnecting…", polling: "Polling", connecting: "Connecting…" }[status]
    || String(status || "");
}
