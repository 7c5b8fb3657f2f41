/**
 * One conversation in the panel: messages upserted by id in transcript order as the stream's
 * `messages` events and `?after=` answers arrive, a tool call's one-line summary, and what the
 * composer says about how a typed message reaches the session. Pure functions; the panel
 * (components/conversation/) holds the state.
 */

import { paneLabel } from "./sessions.js";
import { oneLine, stripAnsi } from "./text.js";

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

// The input keys that say what a call does, in the order they are tried.
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
