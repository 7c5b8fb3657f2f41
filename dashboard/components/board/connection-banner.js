/**
 * The one banner shown while the server cannot be reached (the stream is reconnecting, or polls
 * fail); gone as soon as the stream delivers or a poll succeeds. The top bar shows the mode.
 */
import { html } from "../../lib/preact.js";

/** Props: status ("connecting" | "live" | "reconnecting" | "polling"), error (the last failure, "" when none). */
export function ConnectionBanner({ status, error }) {
  if (!error || status === "live") return null;
  return html`<div class="banner" role="status" data-testid="connection-banner">
    <strong>Disconnected — retrying…</strong>
    <span class="banner-detail">${error}</span>
  </div>`;
}
