/** One status group of the overview ("Needs attention 2") and its cards, in server order. */
import { html } from "../../lib/preact.js";
import { SessionCard } from "./session-card.js";

/** Props: group ({status, label, sessions}), skew, onOpen, onDismiss, errors ({id: message}). */
export function SessionGroup({ group, skew, onOpen, onDismiss, errors }) {
  const n = group.sessions.length;
  const headingId = `group-title-${group.status}`;
  return html`<section class=${`group g-${group.status}${n ? "" : " empty-group"}`}
      data-testid=${`group-${group.status}`} data-count=${n} aria-labelledby=${headingId}>
    <h2 class="group-title" id=${headingId}>
      <span class="group-dot" aria-hidden="true"></span>${group.label} <span class="count">${n}</span>
    </h2>
    ${n > 0 && html`<div class="cards">
      ${group.sessions.map((s) => html`<${SessionCard} key=${s.session_id} session=${s} skew=${skew}
          onOpen=${onOpen} onDismiss=${onDismiss} externalError=${errors[s.session_id] || ""} />`)}
    </div>`}
  </section>`;
}
