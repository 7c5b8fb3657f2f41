/**
 * A past session, read-only: its conversation (the last PAGE messages, "Load earlier" for
 * more), its usage, and the command that resumes it in a terminal, in a field to copy, with
 * "Resume in a new pane" (POST /api/sessions with `resume`: the CLI goes on with the session in
 * a new tmux window / Zellij pane, docs/launching.md; its card then shows on the overview).
 */
import { html, useEffect, useLayoutEffect, useRef, useState } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { fetchConversation, startSession } from "../../lib/api.js";
import { resumeCommand } from "../../state/history.js";
import { agentLabel } from "../../state/sessions.js";
import { clean, formatBytes, formatClock } from "../../state/text.js";
import { MessageItem } from "../conversation/message-item.js";
import { UsageDetails } from "../usage/usage-details.js";
import { ActionError } from "../common/action-error.js";

const PAGE = 200;

/** Props: entry (a GET /api/history session), onBack(), onStarted(session_id). */
export function HistoryConversation({ entry: e, onBack, onStarted }) {
  const sid = String(e.session_id || "");
  const agent = e.agent === "codex" ? "codex" : "claude";
  const [limit, setLimit] = useState(PAGE);
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState("");
  const action = useAction();
  const command = resumeCommand(agent, sid);
  const back = useRef(null);
  // the row that opened this page is gone: the focus goes to "All sessions" (Esc works from it)
  useLayoutEffect(() => { if (back.current) back.current.focus({ preventScroll: true }); }, []);

  useEffect(() => {
    const ctrl = new AbortController();
    fetchConversation(sid, { agent, limit }, { signal: ctrl.signal }).then((d) => {
      setData(d);
      setError("");
    }, (err) => {
      if (err && err.name === "AbortError") return;
      setError(err.message || "Could not load the conversation");
    });
    return () => ctrl.abort();
  }, [sid, agent, limit]);

  const copy = async (ev) => {
    const field = ev.currentTarget.parentElement.querySelector("input");
    if (field) field.select();
    try {
      await navigator.clipboard.writeText(command);
      setCopied("Copied");
    } catch (err) {
      setCopied("Selected: press Ctrl+C to copy"); // no clipboard access (an insecure origin)
    }
  };
  const resume = async () => {
    let answer = null;
    const ok = await action.run(async () => {
      answer = await startSession({ agent, project_dir: String(e.project_dir || ""), resume: sid });
    });
    if (ok && answer && onStarted) onStarted(answer.session_id);
  };

  const messages = data && Array.isArray(data.messages) ? data.messages : [];
  const earlier = data ? Math.max(0, (data.total || 0) - messages.length) : 0;
  return html`<div class="history-conversation" data-testid="history-conversation" data-session-id=${clean(sid, 200)}>
    <div class="hc-head">
      <button type="button" data-testid="history-back" ref=${back} onClick=${onBack}>← All sessions</button>
      <h3 data-testid="history-conversation-title">${clean(e.title, 300) || clean(sid, 200)}</h3>
      <p class="conv-meta">
        <span>${agentLabel(agent)}</span>
        <span title=${clean(e.project_dir, 500)}>${clean(e.project, 200) || "(unknown project)"}</span>
        <span>started ${formatClock(e.started_at)}</span>
        <span>last ${formatClock(e.last_activity)}</span>
        <span>${formatBytes(e.bytes)}</span>
      </p>
      <${UsageDetails} usage=${e.usage} />
      ${command ? html`<div class="resume-box">
        <label for="resume-command">Resume in a terminal${e.project_dir ? html`, in <code>${clean(e.project_dir, 500)}</code>` : ""}</label>
        <div class="resume-row">
          <input id="resume-command" data-testid="resume-command" readonly value=${command}
            onFocus=${(ev) => ev.currentTarget.select()} />
          <button type="button" data-testid="copy-resume" onClick=${copy}>Copy</button>
          <button type="button" class="primary" data-testid="resume-session" disabled=${action.busy || !e.project_dir}
            title=${e.project_dir ? "Run it in a new tmux window or Zellij pane" : "The session's project directory is not known"}
            onClick=${resume}>${action.busy ? "Starting…" : "Resume in a new pane"}</button>
        </div>
        ${copied && html`<p class="muted" role="status" data-testid="copy-status">${copied}</p>`}
        <${ActionError} message=${action.error} onDismiss=${action.clearError} />
      </div>` : html`<p class="muted">This session's id cannot be resumed from here.</p>`}
    </div>
    <div class="conv-scroll" data-testid="history-messages">
      ${error && html`<p class="conv-error" role="alert">${error}</p>`}
      ${earlier > 0 && html`<button type="button" class="load-earlier" data-testid="load-earlier"
          onClick=${() => setLimit(limit + PAGE)}>Load earlier messages (${earlier} more)</button>`}
      ${!data && !error && html`<p class="muted conv-note">Loading conversation…</p>`}
      ${data && !messages.length && html`<p class="muted conv-note">No messages in this transcript.</p>`}
      ${messages.map((m) => html`<${MessageItem} key=${m.id} message=${m} agentName=${agentLabel(agent)} sessionId=${sid} />`)}
    </div>
  </div>`;
}
