/**
 * A Task / Agent call's subagent, in place: what it was asked (description, type, prompt),
 * whether it still runs, and, on "Show its conversation", the subagent's own messages from
 * `call.subagent.messages_url` (GET /api/conversation/<id>?subagent=<agent id>, last 200),
 * rendered like the session's (its parts and images load from that transcript:
 * SubagentContext). While open it is fetched again whenever the call changes (the parent's
 * stream delivers that: its status, its result), and on "Refresh"; nothing here polls.
 * The parent sees the subagent's report as the call's result, shown below.
 */
import { html, useEffect, useRef, useState } from "../../lib/preact.js";
import { fetchSubagent } from "../../lib/api.js";
import { clean } from "../../state/text.js";
import { LongText } from "../common/long-text.js";
import { MessageItem } from "../conversation/message-item.js";
import { SubagentContext } from "./subagent-context.js";

const LIMIT = 200;
const str = (v) => (typeof v === "string" ? v : "");

/** Props: call ({input, result, is_error, subagent: {agent_id, status, messages_url?, agent_type?, layout?}}), parts, sessionId. */
export function SubagentView({ call, parts, sessionId }) {
  const sub = call.subagent && typeof call.subagent === "object" ? call.subagent : {};
  const input = call.input && typeof call.input === "object" ? call.input : {};
  const running = sub.status === "running";
  const [shown, setShown] = useState(false);
  const [conv, setConv] = useState({ messages: null, total: 0, error: "", busy: false });
  const alive = useRef(true);
  const asked = useRef(0);
  useEffect(() => () => { alive.current = false; }, []);

  const load = async () => {
    const ticket = ++asked.current;
    setConv((c) => ({ ...c, busy: true, error: "" }));
    try {
      const answer = await fetchSubagent(sessionId, sub.agent_id, { limit: LIMIT });
      if (alive.current && ticket === asked.current) {
        setConv({ messages: answer.messages || [], total: answer.total || 0, error: "", busy: false });
      }
    } catch (e) {
      if (alive.current && ticket === asked.current) {
        setConv((c) => ({ ...c, busy: false, error: (e && e.message) || "Could not load it" }));
      }
    }
  };
  // Open: fetch now, and again when the call itself changed (the subagent finished, its result
  // arrived): these come with the parent's conversation, so the view never polls.
  useEffect(() => {
    if (shown && sub.agent_id && sub.messages_url) load();
  }, [shown, sub.agent_id, sub.messages_url, sub.status, call.result]);

  const description = str(input.description) || str(input.name);
  const kind = str(sub.agent_type) || str(input.subagent_type);
  const prompt = str(input.prompt);
  const messages = conv.messages || [];
  return html`<div class="subagent-view" data-testid="subagent" data-status=${running ? "running" : "done"}
      data-agent-id=${sub.agent_id || ""} data-layout=${sub.layout || ""}>
    <div class="subagent-head">
      <span class=${`badge sub-${running ? "running" : "done"}`} data-testid="subagent-status">${running ? "running" : "done"}</span>
      ${description && html`<strong class="subagent-title" data-testid="subagent-description">${clean(description, 300)}</strong>`}
      ${kind && html`<span class="muted" data-testid="subagent-type">${clean(kind, 100)}</span>`}
    </div>
    ${parts.inputOmitted ? html`<div data-testid="tool-input">${parts.omitted("Input", "input")}</div>`
      : prompt && html`<details class="subagent-prompt" data-testid="tool-input">
        <summary class="part-label">Prompt</summary><${LongText} text=${prompt} /></details>`}
    ${sub.messages_url ? html`<div class="subagent-actions">
        <button type="button" data-testid="subagent-open" aria-expanded=${shown ? "true" : "false"}
          onClick=${() => setShown((s) => !s)}>${shown ? "Hide its conversation" : "Show its conversation"}</button>
        ${shown && html`<button type="button" class="quiet" data-testid="subagent-refresh" disabled=${conv.busy}
          onClick=${load}>${conv.busy ? "Loading…" : "Refresh"}</button>`}
      </div>`
      : html`<p class="muted" data-testid="subagent-missing">${sub.agent_id
        ? "Its transcript is not on this machine." : call.is_error ? "No subagent ran." : running
          ? "Starting…" : "No transcript of it was found."}</p>`}
    ${shown && html`<div class="subagent-messages" data-testid="subagent-messages" aria-busy=${conv.busy ? "true" : "false"}>
      ${conv.error && html`<p class="part-error" role="alert" data-testid="subagent-error">${conv.error}</p>`}
      ${conv.total > messages.length && html`<p class="muted">The last ${messages.length} of ${conv.total} messages.</p>`}
      ${conv.messages && !messages.length && !conv.error && html`<p class="muted">No messages yet.</p>`}
      <${SubagentContext.Provider} value=${sub.agent_id}>
        ${messages.map((m) => html`<${MessageItem} key=${m.id} message=${m} sessionId=${sessionId}
            agentName=${kind || "Subagent"} />`)}
      <//>
    </div>`}
    ${parts.hasResult && html`<details class=${`tool-part${parts.failed ? " failed" : ""}`} data-testid="tool-result"
        open=${parts.failed}>
      <summary class="part-label">${parts.failed ? "Error" : "What it reported"}</summary>
      ${call.result != null && html`<${LongText} text=${String(call.result)} markdown=${!parts.failed} />`}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </details>`}
  </div>`;
}
