/** "last seen 2 min ago", ticking every second on the server's clock (the hub's `last_seen`). */
import { html } from "../../lib/preact.js";
import { useNow } from "../../lib/hooks.js";
import { lastSeenText } from "../../state/machines.js";

/** Props: iso (the hub's time, or null), skew (server clock minus local clock, ms), prefix ("stale · "), testid. */
export function LastSeen({ iso, skew, prefix = "", testid = "last-seen" }) {
  const now = useNow();
  return html`<span class="last-seen" data-testid=${testid} title=${iso ? `Last heard from at ${iso}` : undefined}>${prefix}${lastSeenText(iso, now + skew)}</span>`;
}
