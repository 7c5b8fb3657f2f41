/**
 * One row of the Activity view: a readable one-liner (time, what, machine, project, the session's
 * title as the view passes it: state.sessionTitles; summary) that opens to the event's raw JSON,
 * as text (built only when opened). A line the server could not parse shows its parse error and
 * its text. Memoised: a burst re-renders only the new rows.
 */
import { html, memo, useState } from "../../lib/preact.js";
import { activityLabel, rawText } from "../../state/activity.js";
import { clean, formatClock } from "../../state/text.js";

function ActivityRowView({ event, title }) {
  const [open, setOpen] = useState(false);
  const unparsed = event.type === "unparsed";
  const machine = typeof event.machine === "string" ? event.machine : "";
  return html`<li class=${`activity-row${unparsed ? " unparsed" : ""}`} data-testid="activity-row"
      data-id=${event.id} data-type=${clean(event.type, 60)} data-machine=${machine}>
    <details onToggle=${(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <time class="act-time" data-testid="activity-time" datetime=${clean(event.ts, 40)}>${formatClock(event.ts)}</time>
        <span class="act-type" data-testid="activity-type">${activityLabel(event.type)}</span>
        ${machine && html`<span class="badge act-machine" data-testid="activity-machine">${clean(machine, 80)}</span>`}
        ${event.project && html`<span class="act-project" data-testid="activity-project">${clean(event.project, 80)}</span>`}
        ${title && html`<span class="act-title" data-testid="activity-title" title=${clean(title, 200)}>${clean(title, 200)}</span>`}
        <span class="act-summary" data-testid="activity-summary">${clean(event.summary, 300)}</span>
      </summary>
      ${open && html`<div class="act-detail">
        ${event.session_id && html`<p class="muted">Session <code>${clean(event.session_id, 200)}</code>${event.truncated ? " · long values cut by AMC" : ""}</p>`}
        <pre class="act-raw" data-testid="activity-raw">${rawText(event)}</pre>
      </div>`}
    </details>
  </li>`;
}

export const ActivityRow = memo(ActivityRowView);
