/**
 * The History view (a panel opened from the top bar): every session this machine has, live or
 * long finished, per project (the project of the newest session first), each project's sessions
 * newest first, with title, agent, time, size, tokens and cost (GET /api/history). "Load older"
 * pages on with `before=`. Opening one shows its conversation read-only with the command that
 * resumes it (history-conversation.js).
 */
import { html, useEffect, useLayoutEffect, useRef, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import { historyGroups, mergeHistory } from "../../state/history.js";
import { agentLabel } from "../../state/sessions.js";
import { clean, formatBytes, formatClock } from "../../state/text.js";
import { costText, formatTokens, usageOf } from "../../state/usage.js";
import { Panel } from "../common/panel.js";
import { HistoryConversation } from "./history-conversation.js";

const PAGE = 200;

/** One past session in the list. Props: entry, onOpen(entry). */
function HistoryRow({ entry: e, onOpen }) {
  const u = usageOf(e.usage);
  return html`<li class="history-row" data-testid="history-row" data-session-id=${clean(e.session_id, 200)} data-agent=${clean(e.agent, 20)}>
    <button type="button" class="history-open" data-testid="history-open" onClick=${() => onOpen(e)}>
      <span class="history-title" data-testid="history-title">${clean(e.title, 300) || html`<span class="muted">(no title) ${clean(e.session_id, 80)}</span>`}</span>
      <span class="history-facts">
        <span class="agent">${agentLabel(e.agent)}</span>
        <time data-testid="history-time" datetime=${clean(e.last_activity, 40)} title=${`started ${clean(e.started_at, 40)}`}>${formatClock(e.last_activity)}</time>
        <span data-testid="history-size">${formatBytes(e.bytes)}</span>
        <span data-testid="history-tokens">${u ? `${formatTokens(u.tokens)} tokens` : "not read yet"}</span>
        ${u && html`<span data-testid="history-cost" class=${u.cost === null ? "unknown" : ""}>${costText(u)}</span>`}
      </span>
    </button>
  </li>`;
}

/** Props: onClose(), onStarted(session_id) (a session resumed from here: the App shows its card). */
export function HistoryView({ onClose, onStarted }) {
  const [agent, setAgent] = useState("");
  const [project, setProject] = useState("");
  const [entries, setEntries] = useState(null);
  const [page, setPage] = useState({ more: false, next: null, complete: true });
  const [before, setBefore] = useState("");
  const [error, setError] = useState("");
  const [reloads, setReloads] = useState(0);
  const [open, setOpen] = useState(null); // the entry whose conversation is shown
  const dialog = useRef(null);
  const lastOpened = useRef("");

  useEffect(() => {
    const ctrl = new AbortController();
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (agent) q.set("agent", agent);
    if (project) q.set("project", project);
    if (before) q.set("before", before);
    setError("");
    getJSON(`/api/history?${q}`, { signal: ctrl.signal }).then((d) => {
      const rows = Array.isArray(d.sessions) ? d.sessions : [];
      setEntries((shown) => (before ? mergeHistory(shown, rows) : rows));
      setPage({ more: !!d.more, next: d.next_before || null, complete: d.complete !== false });
    }, (e) => {
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not load the history");
      setEntries((shown) => shown || []);
    });
    return () => ctrl.abort();
  }, [agent, project, before, reloads]);

  useLayoutEffect(() => {
    // back from a conversation: the focus returns to that session's row
    if (open || !lastOpened.current || !dialog.current) return;
    const row = [...dialog.current.querySelectorAll('[data-testid="history-row"]')]
      .find((r) => r.dataset.sessionId === lastOpened.current);
    const button = row && row.querySelector("button");
    if (button) button.focus();
  }, [open]);

  const onEscape = () => (open ? setOpen(null) : onClose()); // a past conversation: back to the list
  const refilter = (set) => (e) => {
    set(e.currentTarget.value);
    setBefore("");
    setEntries(null);
  };
  const show = (entry) => {
    lastOpened.current = clean(entry.session_id, 200);
    setOpen(entry);
  };

  const list = entries || [];
  const groups = historyGroups(list);
  const projects = [...new Set(list.map((e) => String(e.project_dir || "")).filter(Boolean))].sort();
  if (project && !projects.includes(project)) projects.unshift(project);
  return html`<${Panel} testid="history-view" className="history-view" titleId="history-heading" title="History"
      meta=${html`<span data-testid="history-count" data-count=${list.length}>
          ${entries ? `${list.length}${page.more ? "+" : ""} sessions` : "Loading…"}</span>
        <span>every session on this machine, newest first</span>`}
      closeName="history" onClose=${onClose} onEscape=${onEscape} opener='[data-testid="open-history"]'
      dialogRef=${dialog}>
      ${open ? html`<${HistoryConversation} key=${open.session_id} entry=${open} onBack=${() => setOpen(null)} onStarted=${onStarted} />`
      : html`<div class="conv-scroll">
        <div class="view-controls">
          <label>Agent <select data-testid="history-agent" value=${agent} onChange=${refilter(setAgent)}>
            <option value="">All agents</option><option value="claude">Claude</option><option value="codex">Codex</option></select></label>
          <label>Project <select data-testid="history-project" value=${project} onChange=${refilter(setProject)}>
            <option value="">All projects</option>
            ${projects.map((d) => html`<option key=${d} value=${d}>${clean(d, 200)}</option>`)}</select></label>
        </div>
        ${error && html`<p class="conv-error" role="alert">${error}</p>`}
        ${!page.complete && html`<p class="note" data-testid="history-incomplete">Still reading older sessions: some are listed without their numbers yet.
          <button type="button" data-testid="history-refresh" onClick=${() => { setBefore(""); setReloads((n) => n + 1); }}>Refresh</button></p>`}
        ${entries && !list.length && !error && html`<p class="muted conv-note">No sessions found in Claude Code's or Codex's directories.</p>`}
        ${groups.map((g) => html`<section key=${g.key} class="history-group" data-testid="history-group" data-project-dir=${g.project_dir}>
          <h3 title=${g.project_dir}>${g.project || g.project_dir || "(unknown project)"} <span class="muted">${g.project_dir}</span></h3>
          <ol class="history-list">${g.sessions.map((e) => html`<${HistoryRow} key=${`${e.agent}:${e.session_id}`} entry=${e} onOpen=${show} />`)}</ol>
        </section>`)}
        ${page.more && html`<button type="button" class="load-earlier" data-testid="history-more"
            onClick=${() => setBefore(page.next || "")}>Load older sessions</button>`}
      </div>`}
  </${Panel}>`;
}
