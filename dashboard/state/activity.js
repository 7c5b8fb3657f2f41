/**
 * The Activity view and a session's Timeline (docs/activity.md): the feed of every hook event and
 * typed prompt, newest first, merged by id from the backlog and the stream's `activity` events;
 * the words of a row; and a session's hook event log read as a timeline of prompts, tool calls
 * and waits with their durations. Pure functions of the server's events.
 */

import { toolSummary } from "./conversation.js";
import { clean, clip, oneLine } from "./text.js";

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
