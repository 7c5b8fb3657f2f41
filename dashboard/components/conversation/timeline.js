/**
 * The session's timeline, a collapsible section of the conversation panel: its prompts, tool calls
 * (with how long each took) and waits for the user (a permission, a question, the end of a turn,
 * until the next prompt: with how long they lasted), from the hook event log
 * (GET /api/events/<id>, all of it, oldest first; state.timelineOf pairs the events). Fetched
 * when opened, and again while open whenever the session's last hook event changes.
 */
import { html, useEffect, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import { timelineOf } from "../../state/activity.js";
import { clean, formatClock, spanText } from "../../state/text.js";

const KIND_LABELS = { prompt: "Prompt", tool: "Tool", wait: "Waited", session: "Session", event: "Event" };

function Duration({ item }) {
  if (item.kind === "wait" && item.end === null) {
    return html`<span class="tl-dur open" data-testid="timeline-duration">still waiting</span>`;
  }
  if (item.kind === "tool" && item.end === null) {
    return html`<span class="tl-dur open" data-testid="timeline-duration">running</span>`;
  }
  const text = spanText(item.ms);
  return text ? html`<span class="tl-dur" data-testid="timeline-duration">${text}</span>` : null;
}

function Item({ item }) {
  const label = item.kind === "tool" ? clean(item.tool, 60) || "Tool" : KIND_LABELS[item.kind];
  return html`<li class=${`tl-item tl-${item.kind}${item.failed ? " failed" : ""}`} data-testid="timeline-item"
      data-kind=${item.kind}>
    <time class="tl-time" datetime=${item.at}>${formatClock(item.at)}</time>
    <span class="tl-kind">${label}</span>
    <span class="tl-text" data-testid="timeline-text">${clean(item.text, 300)}${item.failed ? " (failed)" : ""}</span>
    <${Duration} item=${item} />
  </li>`;
}

/** Props: sessionId, session (its last_event_at says when to fetch again). */
export function Timeline({ sessionId, session }) {
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState(null);
  const [error, setError] = useState("");
  const changed = session && session.last_event_at;

  useEffect(() => {
    if (!open) return undefined;
    const ctrl = new AbortController();
    getJSON(`/api/events/${encodeURIComponent(sessionId)}`, { signal: ctrl.signal }).then((d) => {
      setItems(timelineOf(d && d.events));
      setError("");
    }, (e) => {
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not load the timeline");
    });
    return () => ctrl.abort();
  }, [open, sessionId, changed]);

  return html`<details class="timeline" data-testid="timeline" onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Timeline${items ? html` <span class="muted">(${items.length})</span>` : ""}</summary>
    ${open && html`<div class="tl-body">
      ${error && html`<p class="conv-error" role="alert">${error}</p>`}
      ${!items && !error && html`<p class="muted">Loading the timeline…</p>`}
      ${items && !items.length && html`<p class="muted">No hook events for this session.</p>`}
      ${items && items.length > 0 && html`<ol class="tl-list">
        ${items.map((item) => html`<${Item} key=${item.id} item=${item} />`)}
      </ol>`}
    </div>`}
  </details>`;
}
