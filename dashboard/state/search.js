/**
 * The search palette (GET /api/search, docs/search.md): a hit's snippet split into text and
 * matched terms (shown as <mark>, never as HTML), hits grouped by session, who a hit is from,
 * the record the conversation panel opens for a past session's hit, and the index's progress.
 */

import { agentLabel } from "./sessions.js";
import { clean, parseTime } from "./text.js";

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
