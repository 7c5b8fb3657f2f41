/** The header: name, a one-line summary of what needs you, the filters and the alert opt-ins. */
import { html } from "../lib/preact.js";
import { connectionLabel } from "../state.js";
import { FilterBar } from "./filter-bar.js";
import { AlertToggles } from "./alert-toggles.js";

const TITLES = {
  live: "Live: changes arrive as they happen",
  reconnecting: "The live connection failed: reconnecting",
  polling: "The live stream is unavailable: asking the server every 2 s (the stream is tried again)",
  connecting: "Connecting to the AMC server",
};

/** Props: counts ({needs_attention, active, ...}), status (the connection), onNewSession(), plus FilterBar and AlertToggles props. */
export function TopBar({ counts, status, projects, filters, onFilters, textRef, prefs, permission, onToggle, onNewSession }) {
  const waiting = counts.needs_attention || 0;
  return html`<header class="topbar">
    <div class="brand">
      <h1><abbr title="Agent Mission Control">AMC</abbr></h1>
      <span class=${`live ${status}`} data-testid="connection" data-state=${status} title=${TITLES[status] || status}>
        <span class="live-dot" aria-hidden="true"></span>
        <span class="live-label">${connectionLabel(status)}</span>
      </span>
      <span class=${`summary${waiting ? " hot" : ""}`}>
        ${waiting ? `${waiting} need${waiting === 1 ? "s" : ""} you` : "Nothing needs you"}
        <span class="muted"> · ${counts.active || 0} active</span>
      </span>
    </div>
    <button type="button" class="primary" data-testid="new-session" onClick=${onNewSession}>New session</button>
    <${FilterBar} projects=${projects} filters=${filters} onChange=${onFilters} textRef=${textRef} />
    <${AlertToggles} prefs=${prefs} permission=${permission} onToggle=${onToggle} />
  </header>`;
}
