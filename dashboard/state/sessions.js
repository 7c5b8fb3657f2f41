/**
 * A session on the board: the four status groups and their order, the filters, the counts and
 * the page title, which sessions just started needing attention (alerts), and the words on a
 * card (status, agent, reason, pane, time in status, the option Deny sends). Pure functions of
 * the server's session records; how the records change over time is server.js.
 */

import { machineOf } from "./machines.js";
import { oneLine, parseTime } from "./text.js";

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

/** Return how long the session has been in its status, in ms, at server time `serverNow`. */
export function statusAgeMs(s, serverNow) {
  const since = parseTime(s.status_since) || parseTime(s.last_event_at);
  return Number.isFinite(since) ? Math.max(0, serverNow - since) : NaN;
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
