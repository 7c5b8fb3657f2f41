/**
 * The History view (docs/usage.md): past sessions grouped by project, pages of them merged as
 * "Load older" brings them, and the command that resumes one in a terminal. Pure functions of
 * GET /api/history's entries.
 */

import { clean } from "./text.js";

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
