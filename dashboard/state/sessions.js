/**
 * Pure functions over the server's state: grouping, filtering, counting, the words on a card,
 * machines (a hub's remotes), durations and sizes, and how the stream's events change the state
 * and a conversation (applied by lib/stream.js and the conversation panel). No DOM, no fetch, no Preact: everything here is a
 * function of its arguments, so the components stay thin and the rules live in one place.
 */

/** Status groups in the order the overview shows them, with their text labels. */
export const GROUPS = [
  { status: "needs_attention", label: "Needs attention" },
  { status: "active", label: "Active" },
  { status: "starting", label: "Starting" },
  { status: "done", label: "Done" },
];
const LABELS = Object.fromEntries(GROUPS.map((g) => [g.status, g.label]));

/** Return the text label of a status ("Needs attention", ...); unknown statuses are shown as is. */
export const statusLabel = (status) => LABELS[status] || String(status || "Unknown");

/** Return "Claude" or "Codex" (or the raw agent name, capitalised). */
export function agentLabel(agent) {
  if (agent === "claude") return "Claude";
  if (agent === "codex") return "Codex";
  const s = String(agent || "agent");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Split sessions into the four groups (always all four, in order), keeping server order inside each. */
export function groupSessions(sessions) {
  const byStatus = Object.fromEntries(GROUPS.map((g) => [g.status, []]));
  for (const s of sessions) (byStatus[s.status] || byStatus.active).push(s);
  return GROUPS.map((g) => ({ ...g, sessions: byStatus[g.status] }));
}

/** Return the distinct project names present, sorted case-insensitively. */
export function projectsOf(sessions) {
  const names = new Set(sessions.map((s) => s.project || "").filter(Boolean));
  return [...names].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
}

/** Return the texts the free-text filter searches: project, preview, reason and question texts. */
function haystack(s) {
  const parts = [s.project, s.project_dir, s.last_message_preview, s.machine];
  if (s.attention) parts.push(s.attention.text, s.attention.summary, s.attention.tool);
  for (const q of s.pending_questions || []) {
    parts.push(q.question, q.header, ...(q.options || []).map((o) => o.label));
  }
  return parts.filter(Boolean).join("\n").toLowerCase();
}

/**
 * Keep the sessions of `project` ("" = all) on `machine` (null = all, "" = this machine, else a
 * remote's name) whose texts contain every word of `text`.
 */
export function filterSessions(sessions, { project = "", text = "", machine = null } = {}) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return sessions.filter((s) => {
    if (project && s.project !== project) return false;
    if (machine != null && machineOf(s) !== machine) return false;
    if (!words.length) return true;
    const hay = haystack(s);
    return words.every((w) => hay.includes(w));
  });
}

// -- machines: a hub's remotes (docs/remote.md); sessions of other machines carry `machine` -------

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

/** Format how long ago something was: "just now", "40 s ago", "2 min ago", "3 h ago", "2 d ago" ("" when unknown). */
export function formatAgo(ms) {
  if (!Number.isFinite(ms)) return "";
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Return "last seen 2 min ago" for an ISO time on the server's clock at `serverNow` ("never seen" when null). */
export function lastSeenText(iso, serverNow) {
  const t = parseTime(iso);
  return Number.isFinite(t) ? `last seen ${formatAgo(serverNow - t)}` : "never seen";
}

/** Count sessions per status: {needs_attention, active, starting, done}. */
export function countByStatus(sessions) {
  const counts = Object.fromEntries(GROUPS.map((g) => [g.status, 0]));
  for (const s of sessions) counts[s.status] = (counts[s.status] || 0) + 1;
  return counts;
}

/** Count the sessions that need attention. */
export const attentionCount = (sessions) => sessions.filter((s) => s.status === "needs_attention").length;

/** Return the document title: "(N) AMC" while N sessions need attention, else "AMC". */
export const pageTitle = (n) => (n > 0 ? `(${n}) AMC` : "AMC");

/**
 * Return the sessions of `next` that started needing attention since `prev` (a transition, not a
 * state): they were absent or in another status before, or entered it again (new status_since).
 * With no previous state (the first poll) nothing is new, so loading the page never alerts.
 */
export function newlyNeedingAttention(prev, next) {
  if (!prev) return [];
  const before = new Map(prev.map((s) => [s.session_id, s]));
  return next.filter((s) => {
    if (s.status !== "needs_attention") return false;
    const old = before.get(s.session_id);
    return !old || old.status !== "needs_attention" || (old.status_since || "") !== (s.status_since || "");
  });
}

const oneLine = (text) => clean(text).replace(/\s+/g, " ").trim();

/** Return why a session needs attention, in words ("Question: ...", "Permission for Bash: ..."). */
export function reasonText(s) {
  const a = s.attention || {};
  const q = (s.pending_questions || [])[0];
  switch (a.kind) {
    case "question":
      return "Question: " + oneLine((q && q.question) || a.text);
    case "permission":
      return `Permission for ${a.tool || "a tool"}: ` + oneLine(a.summary || a.text);
    case "prose_question":
      return "Asks: " + oneLine(a.text);
    case "error":
      return "Error: " + oneLine(a.text);
    case "dialog":
      return "Dialog at start: " + oneLine(a.text);
    case "input":
      return "Waiting for input" + (a.text ? ": " + oneLine(a.text) : "");
    default:
      if (q) return "Question: " + oneLine(q.question);
      return a.text ? oneLine(a.text) : "Waiting for you";
  }
}

/** Return where the session runs: "tmux %3", "zellij work:3" or "no pane". */
export function paneLabel(s) {
  if (s.tmux_pane) return `tmux ${s.tmux_pane}`;
  if (s.zellij_session || s.zellij_pane) {
    return `zellij ${s.zellij_session || "?"}${s.zellij_pane !== "" && s.zellij_pane != null ? ":" + s.zellij_pane : ""}`;
  }
  return "no pane";
}

/** Parse an ISO-8601 time to epoch ms (NaN when missing or invalid). */
export const parseTime = (iso) => (iso ? Date.parse(iso) : NaN);

/** Return server clock minus local clock, in ms, from a state's server_time (0 if unknown). */
export function clockSkew(serverTime, localNow) {
  const t = parseTime(serverTime);
  return Number.isFinite(t) ? t - localNow : 0;
}

/** Return how long the session has been in its status, in ms, at server time `serverNow`. */
export function statusAgeMs(s, serverNow) {
  const since = parseTime(s.status_since) || parseTime(s.last_event_at);
  return Number.isFinite(since) ? Math.max(0, serverNow - since) : NaN;
}

/** Format a duration compactly: "12s", "4m", "1h 05m", "3d 2h" ("" when unknown). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Format a byte count with decimal units, rounded down: 784786 -> "784 KB". */
export function formatBytes(n) {
  const b = Number(n);
  if (!Number.isFinite(b) || b < 0) return "unknown size";
  if (b < 1000) return `${b} B`;
  if (b < 1e6) return `${Math.floor(b / 1000)} KB`;
  if (b < 1e9) return `${Math.floor(b / 1e5) / 10} MB`;
  return `${Math.floor(b / 1e8) / 10} GB`;
}

/** Format an ISO time as the local "HH:MM:SS" (prefixed with the date when not today). */
export function formatClock(iso, now = new Date()) {
  const t = parseTime(iso);
  if (!Number.isFinite(t)) return "";
  const d = new Date(t);
  const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: "short", day: "numeric" })} ${time}`;
}

// CSI/OSC/other escape sequences, C1 CSI, and stray control characters except \t \n \r.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

/** Remove ANSI escape sequences and control characters (keeps tabs and newlines). */
export const stripAnsi = (text) => String(text == null ? "" : text).replace(ANSI, "");

/** Return server-provided text fit for a card: cut to `limit` characters, ANSI stripped. */
export function clean(text, limit = 2000) {
  return clip(text, limit).text;
}

/** Cut `text` to `limit` characters, stripped of ANSI; return {text, rest} (rest: characters cut). */
export function clip(text, limit) {
  const raw = String(text == null ? "" : text);
  if (raw.length <= limit) return { text: stripAnsi(raw), rest: 0 };
  return { text: stripAnsi(raw.slice(0, limit)), rest: raw.length - limit };
}

const SUMMARY_KEYS = ["command", "cmd", "file_path", "path", "notebook_path", "pattern", "url", "query",
  "description", "prompt", "skill", "subject", "plan"];

/** Return a one-line summary of a tool call's input (the command, file path, pattern, URL...). */
export function toolSummary(call) {
  const input = call && call.input;
  if (input == null) return "";
  if (typeof input !== "object") return oneLine(stripAnsi(String(input).slice(0, 400))).slice(0, 160);
  let value = SUMMARY_KEYS.map((k) => input[k]).find((v) => typeof v === "string" && v.trim());
  if (value === undefined && Array.isArray(input.todos)) value = `${input.todos.length} todos`;
  if (value === undefined && Array.isArray(input.questions)) {
    value = input.questions.map((q) => q && q.question).filter(Boolean).join(" / ");
  }
  if (value === undefined) value = Object.values(input).find((v) => typeof v === "string") || "";
  if (Array.isArray(value)) value = value.join(" ");
  return oneLine(stripAnsi(String(value).slice(0, 400))).slice(0, 160);
}

/** Return the option number Deny sends: the prompt's last option (provisional, see docs/dashboard.md). */
export function denyOption(s) {
  const n = Number(s.attention && s.attention.options_count);
  if (Number.isInteger(n) && n > 1) return n;
  return s.agent === "claude" ? 4 : 3;
}

/** Return a key that changes whenever the set of pending questions changes (resets local answers). */
export function questionsKey(s) {
  const qs = s.pending_questions || [];
  return `${s.session_id}|${s.status_since || ""}|${qs.map((q) => q.question).join("\u0000")}`;
}

// -- the server's state over time (applied by lib/stream.js) ------------------------------------

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

/** Return a message's position in its transcript, from its id `<agent>-<session>-<n>` (NaN if none). */
export function messagePosition(id) {
  const m = /-(\d+)$/.exec(String(id == null ? "" : id));
  return m ? Number(m[1]) : NaN;
}

const byPosition = (a, b) => messagePosition(a.id) - messagePosition(b.id);
const positioned = (messages) => messages.every((m) => Number.isFinite(messagePosition(m.id)));

/**
 * A `messages` event (or an `?after=` answer) applied to a conversation {messages, total}:
 * messages already shown are replaced in place (same id: a tool result arrived), new ones are
 * added in transcript order, changed ones from before the first shown are ignored (they are not
 * in the window). `reset: true` (or no conversation yet) replaces the whole list.
 */
export function applyMessages(conv, data) {
  const d = data && typeof data === "object" ? data : {};
  const incoming = (Array.isArray(d.messages) ? d.messages : [])
    .filter((m) => m && typeof m === "object" && m.id != null);
  const total = Number.isFinite(d.total) ? d.total : null;
  if (d.reset || !conv) {
    const messages = positioned(incoming) ? [...incoming].sort(byPosition) : incoming;
    return { messages, total: total === null ? messages.length : total };
  }
  const fresh = new Map(incoming.map((m) => [m.id, m]));
  const shown = new Set(conv.messages.map((m) => m.id));
  let changed = false;
  const kept = conv.messages.map((m) => {
    const next = fresh.get(m.id);
    if (!next || next === m) return m;
    changed = true;
    return next;
  });
  const first = conv.messages.length ? messagePosition(conv.messages[0].id) : NaN;
  const added = incoming.filter((m) => !shown.has(m.id) && !(messagePosition(m.id) < first));
  if (!changed && !added.length && (total === null || total === conv.total)) return conv;
  let messages = added.length ? kept.concat(added) : kept;
  if (added.length && positioned(messages)) messages = messages.sort(byPosition);
  return { messages, total: total === null ? Math.max(conv.total, messages.length) : total };
}

/**
 * An answer of GET /api/conversation/<id>?after=<afterId> applied to a conversation. The server
 * sends the whole transcript when it no longer has `afterId` (it was replaced or truncated): a
 * total that does not reach past `afterId` means exactly that, so the list is replaced.
 */
export function applyAfter(conv, data, afterId) {
  const d = data && typeof data === "object" ? data : {};
  const pos = messagePosition(afterId);
  const reset = Number.isFinite(d.total) && Number.isFinite(pos) && d.total <= pos;
  return applyMessages(conv, { ...d, reset });
}

/** Return the text of the connection indicator: "Live", "Reconnecting…", "Polling", "Connecting…". */
export function connectionLabel(status) {
  return { live: "Live", reconnecting: "Reconnecting…", polling: "Polling", connecting: "Connecting…" }[status]
    || String(status || "");
}

/** Return how a message typed in the conversation reaches the session, in words. */
export function composerVia(s) {
  if (s.channel) return "Sends through AMC's channel in the session (no keystrokes).";
  const pane = paneLabel(s);
  return pane === "no pane" ? "No channel and no known pane: sending may fail."
    : `Types into ${pane}.`;
}

const VIA_WORDS = { channel: "AMC's channel", hook: "the waiting hook", tmux: "the tmux pane",
  zellij: "the Zellij pane" };

/** Return what the composer says after a send: how it went, and that a busy agent took it in. */
export function sentNote(answer, busy) {
  const via = VIA_WORDS[answer && answer.via] || "the session";
  const during = busy && answer && answer.via === "channel"
    ? " The agent was working: it reads the message during its current turn." : "";
  return `Sent through ${via}.${during}`;
}

// -- the Activity view and the Timeline (docs/activity.md) -------------------------------------

/** The pseudo-session whose followers get the stream's `activity` events (`follow=*activity`). */
export const ACTIVITY_TOPIC = "*activity";
/** How many activity events the view keeps (the server keeps as many). */
export const ACTIVITY_MAX = 1000;

/**
 * Return the activity list (newest first) with `events` added: deduplicated by id (the later copy
 * wins), newest `ts` first (ties: the later arrival first), at most ACTIVITY_MAX. `events` are in
 * arrival order (the stream's); use applyBacklog for an /api/activity answer (newest first).
 */
export function applyActivity(list, events) {
  const all = [...(list || [])].reverse().concat((events || []).filter((e) => e && typeof e.id === "string"));
  const last = new Map();
  all.forEach((e, i) => last.set(e.id, i));
  const kept = all.map((e, i) => ({ e, i })).filter(({ e, i }) => last.get(e.id) === i);
  kept.sort((a, b) => {
    const ta = String(a.e.ts || ""), tb = String(b.e.ts || "");
    return ta < tb ? 1 : ta > tb ? -1 : b.i - a.i;
  });
  return kept.slice(0, ACTIVITY_MAX).map(({ e }) => e);
}

/** Return the list with an /api/activity answer's events (newest first) merged in. */
export const applyBacklog = (list, events) => applyActivity(list, [...(events || [])].reverse());

/**
 * Return Map session id -> its title as the newest event that carries one says it (the server's
 * History title, docs/activity.md): an older row of a session is named as its newest.
 */
export function sessionTitles(list) {
  const titles = new Map();
  for (const e of list || []) {
    if (e && e.session_id && typeof e.title === "string" && e.title && !titles.has(e.session_id)) {
      titles.set(e.session_id, e.title);
    }
  }
  return titles;
}

const ACTIVITY_LABELS = {
  UserPromptSubmit: "prompt", PreToolUse: "tool", PostToolUse: "tool done", PostToolUseFailure: "tool failed",
  PermissionRequest: "permission", Notification: "notification", Stop: "turn end", StopFailure: "turn failed",
  SessionStart: "start", SessionEnd: "end", Dismissed: "dismissed", history: "typed", unparsed: "unparsed",
};

/** Return the short label of an activity event's type ("prompt", "tool", "typed", ...). */
export const activityLabel = (type) => ACTIVITY_LABELS[type] || clean(type, 40) || "event";

/** Return an activity event's raw JSON as text, indented (an unparsed line: its text), cut to `limit`. */
export function rawText(event, limit = 20000) {
  const raw = event && event.raw;
  let text;
  if (typeof raw === "string") text = raw;
  else {
    try {
      text = JSON.stringify(raw, null, 2);
    } catch (e) {
      text = String(raw);
    }
  }
  const { text: cut, rest } = clip(text === undefined ? "" : text, limit);
  return rest ? `${cut}\n… ${rest} more characters` : cut;
}

/** Format a span: "126 ms" under a second, else like formatDuration ("12s", "4m", "1h 05m"). */
export function spanText(ms) {
  if (!Number.isFinite(ms) || ms < 0) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(ms);
}

const firstLine = (text) => oneLine(String(text || "").split("\n").find((l) => l.trim()) || "").slice(0, 200);

/**
 * Return a session's timeline from its hook event log (GET /api/events/<id>, oldest first):
 * [{id, kind: "prompt"|"tool"|"wait"|"session"|"event", at, text, end?, ms?, failed?}], where a
 * tool call is its PreToolUse paired with its PostToolUse (by tool_use_id, else the latest open
 * call of that tool; `ms` the CLI's duration_ms when given), and a wait for the user starts at a
 * PermissionRequest, a Notification or a Stop and ends at the next prompt (or, for a permission
 * or a question, at the tool's end). `end` is null while it still waits.
 */
export function timelineOf(events) {
  const items = [];
  const open = [];
  let wait = null;
  const endWait = (at) => {
    if (!wait) return;
    wait.end = at;
    wait.ms = Date.parse(at) - Date.parse(wait.at);
    wait = null;
  };
  const startWait = (id, at, text, tool = "") => {
    if (wait) return;
    wait = { id, kind: "wait", at, text, tool, end: null, ms: NaN };
    items.push(wait);
  };
  (Array.isArray(events) ? events : []).forEach((e, i) => {
    if (!e || typeof e !== "object") return;
    const p = e.payload && typeof e.payload === "object" ? e.payload : {};
    const name = String(e.event || p.hook_event_name || "");
    const at = String(e.received_at || "");
    const id = `t${i}`;
    const tool = typeof p.tool_name === "string" ? p.tool_name : "";
    const question = Array.isArray(p.tool_input && p.tool_input.questions) && p.tool_input.questions[0];
    if (name === "UserPromptSubmit") {
      endWait(at);
      items.push({ id, kind: "prompt", at, text: firstLine(p.prompt) });
    } else if (name === "PreToolUse") {
      const item = { id, kind: "tool", at, tool, text: toolSummary({ input: p.tool_input }), end: null, ms: NaN,
        failed: false, useId: p.tool_use_id || "" };
      items.push(item);
      open.push(item);
    } else if (name === "PostToolUse" || name === "PostToolUseFailure") {
      let k = open.findIndex((t) => t.useId && t.useId === p.tool_use_id);
      if (k < 0) k = open.map((t) => t.tool).lastIndexOf(tool);
      if (k >= 0) {
        const item = open.splice(k, 1)[0];
        item.end = at;
        item.ms = Number.isFinite(p.duration_ms) ? p.duration_ms : Date.parse(at) - Date.parse(item.at);
        item.failed = name === "PostToolUseFailure";
      }
      if (wait && wait.tool && wait.tool === tool) endWait(at);
    } else if (name === "PermissionRequest") {
      startWait(id, at, question ? `Question: ${oneLine(question.question || "")}`
        : `Permission for ${tool || "a tool"}${toolSummary({ input: p.tool_input }) ? ": " + toolSummary({ input: p.tool_input }) : ""}`, tool);
    } else if (name === "Notification") {
      startWait(id, at, `Notification: ${oneLine(p.message || p.notification_type || "")}`);
    } else if (name === "Stop" || name === "StopFailure") {
      const reply = firstLine(p.last_assistant_message);
      startWait(id, at, name === "StopFailure" ? `Turn failed: ${oneLine(p.error || "")}`
        : reply.endsWith("?") ? `Asked: ${reply}` : "Turn ended: waiting for the next prompt");
    } else if (name === "SessionStart" || name === "SessionEnd") {
      if (name === "SessionEnd") endWait(at);
      items.push({ id, kind: "session", at, text: name === "SessionStart" ? "Session started" : "Session ended" });
    } else if (name && name !== "SubagentStop" && name !== "SubagentStart") {
      items.push({ id, kind: "event", at, text: clean(name, 60) });
    }
  });
  return items;
}

// -- Usage and history (docs/usage.md): numbers that may come from another machine, so checked ----

const tokenCount = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * Return a session's or history entry's `usage` as checked numbers, or null when there is none:
 * {model, input, output, cacheRead, cacheWrite, tokens, cost (USD or null: unknown price),
 * unpriced (model names), context, window, contextPct (0-100, or null), turns, wallMs}.
 */
export function usageOf(u) {
  if (!u || typeof u !== "object") return null;
  const input = tokenCount(u.input_tokens);
  const output = tokenCount(u.output_tokens);
  const cacheRead = tokenCount(u.cache_read_tokens);
  const cacheWrite = tokenCount(u.cache_write_tokens);
  const cost = typeof u.cost_usd === "number" && Number.isFinite(u.cost_usd) && u.cost_usd >= 0 ? u.cost_usd : null;
  const context = tokenCount(u.context_tokens);
  const ctxWindow = tokenCount(u.context_window);
  const wall = parseTime(u.last_at) - parseTime(u.first_at);
  return {
    model: clean(u.model, 80), input, output, cacheRead, cacheWrite,
    tokens: input + output + cacheRead + cacheWrite, cost,
    unpriced: Array.isArray(u.unpriced_models) ? u.unpriced_models.slice(0, 5).map((m) => clean(m, 80)) : [],
    context, window: ctxWindow, contextPct: ctxWindow ? Math.min(100, Math.round((100 * context) / ctxWindow)) : null,
    turns: tokenCount(u.turns), wallMs: Number.isFinite(wall) && wall >= 0 ? wall : NaN,
  };
}

/** Format a token count: 950, "12.3k", "4.56M" (never negative, never NaN). */
export function formatTokens(n) {
  const v = tokenCount(n);
  if (v < 1000) return String(v);
  if (v < 1e6) return `${(v / 1000).toFixed(v < 1e4 ? 2 : 1).replace(/\.?0+$/, "")}k`;
  if (v < 1e9) return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1).replace(/\.?0+$/, "")}M`;
  return `${(v / 1e9).toFixed(2).replace(/\.?0+$/, "")}B`;
}

/** Format USD: "$12.34", "$0.42", "$0.00056" (two significant digits under a cent), "unknown price" for null. */
export function formatCost(usd) {
  if (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0) return "unknown price";
  if (usd === 0) return "$0.00";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2).replace(/0+$/, "")}`;
}

/** Return the cost text of a usage: "$0.42", "unknown price", or "$0.42 + unknown price" when part is unpriced. */
export function costText(u) {
  if (!u) return "";
  if (u.cost === null || (u.cost === 0 && u.unpriced && u.unpriced.length)) return "unknown price";
  return u.unpriced && u.unpriced.length ? `${formatCost(u.cost)} + unknown price` : formatCost(u.cost);
}

/** Return the shell command that resumes a past session, or "" for an id that is not plainly one. */
export function resumeCommand(agent, sessionId) {
  const id = String(sessionId || "");
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(id)) return "";
  return agent === "codex" ? `codex resume ${id}` : `claude --resume ${id}`;
}

/**
 * Group history entries by project, each group's sessions newest first, the groups by their
 * newest session: [{key, project, project_dir, sessions, last}].
 */
export function historyGroups(entries) {
  const groups = new Map();
  for (const e of entries || []) {
    const key = String(e.project_dir || e.project || "");
    if (!groups.has(key)) groups.set(key, { key, project: clean(e.project, 200), project_dir: clean(e.project_dir, 500), sessions: [] });
    groups.get(key).sessions.push(e);
  }
  const out = [...groups.values()];
  for (const g of out) {
    g.sessions.sort((a, b) => String(b.last_activity || "").localeCompare(String(a.last_activity || "")));
    g.last = String(g.sessions[0].last_activity || "");
  }
  return out.sort((a, b) => b.last.localeCompare(a.last) || a.key.localeCompare(b.key));
}

/** Append a page of history entries to those shown, each session once (by agent and id). */
export function mergeHistory(shown, page) {
  const seen = new Set((shown || []).map((e) => `${e.agent}:${e.session_id}`));
  return [...(shown || []), ...(page || []).filter((e) => !seen.has(`${e.agent}:${e.session_id}`))];
}

/**
 * Return the bars of the per-day chart: one per day from the first to the last day in `days`
 * (days without usage are 0), `value` the day's cost (USD) or tokens, and the SVG geometry in a
 * `width` x `height` box: [{day, value, x, y, w, h}], plus the largest value.
 */
export function dayBars(days, metric, width, height) {
  const byDay = new Map();
  for (const d of days || []) {
    if (typeof d.day === "string" && /^\d{4}-\d\d-\d\d$/.test(d.day)) byDay.set(d.day, d);
  }
  const names = [...byDay.keys()].sort();
  if (!names.length) return { bars: [], max: 0 };
  const all = [];
  const end = Date.parse(`${names[names.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${names[0]}T00:00:00Z`); t <= end && all.length < 3700; t += 86400000) {
    all.push(new Date(t).toISOString().slice(0, 10));
  }
  const valueOf = (d) => {
    if (!d) return 0;
    if (metric === "cost") return typeof d.cost_usd === "number" && d.cost_usd > 0 ? d.cost_usd : 0;
    return tokenCount(d.input_tokens) + tokenCount(d.output_tokens) + tokenCount(d.cache_read_tokens) + tokenCount(d.cache_write_tokens);
  };
  const values = all.map((day) => valueOf(byDay.get(day)));
  const max = Math.max(0, ...values);
  const slot = width / all.length;
  const bars = all.map((day, i) => {
    const h = max > 0 ? (values[i] / max) * height : 0;
    return { day, value: values[i], x: i * slot + slot * 0.1, y: height - h, w: Math.max(1, slot * 0.8), h };
  });
  return { bars, max };
}

// -- search (GET /api/search; docs/search.md) -------------------------------------------------

/** The characters the server puts around each matched term in a search snippet. */
export const HIT_START = "\ue000";
export const HIT_END = "\ue001";

/**
 * Split a search snippet into [{text, hit}] pieces: `hit` for the matched terms (shown as <mark>),
 * everything as text (never HTML). Stray markers are dropped; ANSI and control characters go.
 */
export function snippetParts(snippet, limit = 600) {
  const parts = [];
  let hit = false;
  for (const piece of clean(snippet, limit).split(/([\ue000\ue001])/)) {
    if (piece === HIT_START) hit = true;
    else if (piece === HIT_END) hit = false;
    else if (piece) parts.push({ text: piece, hit });
  }
  return parts;
}

/**
 * Group ranked search hits by session, in the order of each session's best hit:
 * [{session_id, agent, project, project_dir, machine, latest, hits: [hit...]}] (`latest`: the
 * newest timestamp among its hits).
 */
export function groupHits(results) {
  const groups = new Map();
  for (const hit of Array.isArray(results) ? results : []) {
    if (!hit || typeof hit.session_id !== "string") continue;
    let g = groups.get(hit.session_id);
    if (!g) {
      g = { session_id: hit.session_id, agent: hit.agent, project: hit.project, project_dir: hit.project_dir || "",
        machine: hit.machine || "", title: typeof hit.title === "string" ? hit.title : "", latest: "", hits: [] };
      groups.set(hit.session_id, g);
    }
    g.hits.push(hit);
    const t = parseTime(hit.timestamp);
    if (Number.isFinite(t) && !(parseTime(g.latest) >= t)) g.latest = hit.timestamp;
  }
  return [...groups.values()];
}

/**
 * The record a conversation panel needs for a hit's session when it is not live (a past
 * session): its id, agent and project; its status is unknown.
 */
export function sessionFromHit(hit) {
  return { session_id: hit.session_id, agent: hit.agent || "claude", project: hit.project || "",
    project_dir: hit.project_dir || "", machine: hit.machine || "", status: "", past: true };
}

/** Return who a hit is from: "You", the agent ("Claude"), "Tool" (a call's input or output) or "Thinking". */
export function hitLabel(hit, agent) {
  if (hit.part === "tools") return "Tool";
  if (hit.part === "thinking") return "Thinking";
  return hit.role === "user" ? "You" : agentLabel(agent);
}

/** Return "Indexing transcripts: 12 of 340" while the index is built, else "". */
export function indexProgress(index) {
  if (!index || index.ready) return "";
  const total = Number(index.files_total) || 0;
  return total ? `Indexing transcripts: ${Math.min(Number(index.files_done) || 0, total)} of ${total}`
    : "Indexing transcripts…";
}
