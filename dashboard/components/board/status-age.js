/** How long a session has been in its status ("4m"), ticking every second on server time. */
import { html } from "../../lib/preact.js";
import { useNow } from "../../lib/hooks.js";
import { statusAgeMs } from "../../state/sessions.js";
import { formatDuration } from "../../state/text.js";

/** Props: session, skew (server clock minus local clock, ms). */
export function StatusAge({ session, skew }) {
  const now = useNow();
  const text = formatDuration(statusAgeMs(session, now + skew));
  const since = session.status_since || session.last_event_at || "";
  return html`<span class="status-age" data-testid="status-age"
    title=${since ? `In this status since ${since}` : "Time in this status unknown"}>${text || "–"}</span>`;
}
