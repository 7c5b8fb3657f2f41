/** The one banner shown while the server cannot be reached; gone as soon as a poll succeeds. */
import { html } from "../lib/preact.js";

/** Props: status ("connecting" | "connected" | "disconnected"), error (the last failure). */
export function ConnectionBanner({ status, error }) {
  if (status !== "disconnected") return null;
  return html`<div class="banner" role="status" data-testid="connection-banner">
    <strong>Disconnected — retrying…</strong>
    ${error && html`<span class="banner-detail">${error}</span>`}
  </div>`;
}
