/**
 * Pure functions over the server's state: grouping, filtering, counting, the words on a card,
 * durations and sizes. No DOM, no fetch, no Preact: everything here is a function of its arguments,
 * so the components stay thin and the rules live in one place.
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
  const parts = [s.project, s.project_dir, s.last_message_preview];
  if (s.attention) parts.push(s.attention.text, s.attention.summary, s.attention.tool);
  for (const q of s.pending_questions || []) {
    parts.push(q.question, q.header, ...(q.options || []).map((o) => o.label));
  }
  return parts.filter(Boolean).join("\n").toLowerCase();
}

/** Keep the sessions of `project` ("" = all) whose texts contain every word of `text`. */
export function filterSessions(sessions, { project = "", text = "" } = {}) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return sessions.filter((s) => {
    if (project && s.project !== project) return false;
    if (!words.length) return true;
    const hay = haystack(s);
    return words.every((w) => hay.includes(w));
  });
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
