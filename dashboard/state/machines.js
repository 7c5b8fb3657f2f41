/**
 * A hub's remotes (docs/remote.md): sessions of other machines carry `machine` and an id
 * `<machine>:<id>`, the state's `machines` lists the hub's machines. Which machine a session runs
 * on, the machines' list as the `machine` event replaces it, the machine filter's names, and a
 * remote session's staleness. Pure functions; the components in components/machines/ show them.
 */

import { formatAgo, parseTime } from "./text.js";

/** Return the machine a session runs on: "" for this one, else the remote's name. */
export const machineOf = (s) => (s && typeof s.machine === "string" ? s.machine : "");

/**
 * Return a session's own id, without the `<machine>:` a hub puts before a remote session's id (the
 * id to copy or to resume with on that machine; every /api path takes the whole session_id).
 */
export function localId(s) {
  const id = String((s && s.session_id) || "");
  const m = machineOf(s);
  return m && id.startsWith(m + ":") ? id.slice(m.length + 1) : id;
}

const MACHINE_STATES = { online: "Online", reconnecting: "Reconnecting…", offline: "Offline" };

/** Return the words of a machine's state: "Online", "Reconnecting…", "Offline". */
export const machineStateLabel = (state) => MACHINE_STATES[state] || "Offline";

/** Return the well-formed machines of a list: objects with a string name, once each; unknown states are offline. */
export function normalizeMachines(list) {
  const out = new Map();
  for (const m of Array.isArray(list) ? list : []) {
    if (!m || typeof m !== "object" || typeof m.name !== "string" || !m.name || out.has(m.name)) continue;
    out.set(m.name, { ...m, target: typeof m.target === "string" && m.target ? m.target : m.name,
      state: Object.hasOwn(MACHINE_STATES, m.state) ? m.state : "offline",
      last_seen: typeof m.last_seen === "string" && m.last_seen ? m.last_seen : null,
      error: typeof m.error === "string" ? m.error : "" });
  }
  return [...out.values()];
}

/** A `machine` event's `machines` (the whole list, on every change): replace the list (same state when equal). */
export function applyMachines(state, machines) {
  if (!state) return state;
  const next = normalizeMachines(machines);
  if (JSON.stringify(next) === JSON.stringify(state.machines || [])) return state;
  return { ...state, machines: next };
}

/** Tell whether the page shows machines at all: remotes configured (or failed adds), or remote sessions. */
export const hasRemotes = (machines, sessions) => (machines || []).length > 0
  || (sessions || []).some((s) => machineOf(s) !== "");

/** Return the remotes' names for the machine filter: the server's list in its order, then others seen on sessions. */
export function machineNames(machines, sessions) {
  const names = (machines || []).map((m) => m.name);
  const extra = new Set((sessions || []).map(machineOf).filter((n) => n && !names.includes(n)));
  return names.concat([...extra].sort());
}

/**
 * Return {stale, lastSeen} for a session's card: a remote session is stale while its machine is
 * listed and not online (at once, on the `machine` event), else when the server says `stale`;
 * last seen is the session's `last_seen`, else its machine's. `byName`: {name: machine}.
 */
export function staleness(s, byName) {
  const name = machineOf(s);
  if (!name) return { stale: false, lastSeen: null };
  const m = (byName && byName[name]) || null;
  const stale = m && m.state !== "online" ? true : !!s.stale;
  return { stale, lastSeen: s.last_seen || (m && m.last_seen) || null };
}

/** Return "last seen 2 min ago" for an ISO time on the server's clock at `serverNow` ("never seen" when null). */
export function lastSeenText(iso, serverNow) {
  const t = parseTime(iso);
  return Number.isFinite(t) ? `last seen ${formatAgo(serverNow - t)}` : "never seen";
}
