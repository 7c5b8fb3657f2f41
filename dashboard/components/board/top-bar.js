/**
 * The header: name, a one-line summary of what needs you, the filters, the alert opt-ins and, when
 * the page came after a login (a non-loopback bind, docs/security.md), "Log out".
 */
import { html } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { logout } from "../../lib/api.js";
import { connectionLabel } from "../../state/server.js";
import { FilterBar } from "./filter-bar.js";
import { AlertToggles } from "./alert-toggles.js";
import { ViewButtons } from "../usage/usage-nav.js";
import { ActionError } from "../common/action-error.js";
import { SearchButton } from "../search/search-button.js";

const TITLES = {
  live: "Live: changes arrive as they happen",
  reconnecting: "The live connection failed: reconnecting",
  polling: "The live stream is unavailable: asking the server every 2 s (the stream is tried again)",
  connecting: "Connecting to the AMC server",
};

/** Tell whether the server served this page after a login: it fills <meta name="amc-login"> with "1". */
function cameThroughLogin() {
  const meta = document.querySelector('meta[name="amc-login"]');
  return Boolean(meta) && meta.getAttribute("content") === "1";
}

/** "Log out": forget the login's cookie, then the login form. Nothing on loopback (no login there). */
function LogOut() {
  const action = useAction();
  if (!cameThroughLogin()) return null;
  return html`<span class="logout">
    <button type="button" class="quiet" data-testid="logout" disabled=${action.busy}
      title="Forget this browser's login (the token stays valid)" onClick=${() => action.run(logout)}>Log out</button>
    <${ActionError} message=${action.error} onDismiss=${action.clearError} />
  </span>`;
}

/** Props: counts ({needs_attention, active, ...}), status (the connection), onNewSession(), onActivity() (the Activity view), onView("usage" | "history"), plus FilterBar and AlertToggles props. */
export function TopBar({ counts, status, projects, filters, onFilters, textRef, prefs, permission, onToggle, onNewSession, onActivity, onView, onSearch }) {
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
    ${onSearch && html`<${SearchButton} onClick=${onSearch} />`}
    ${onActivity && html`<button type="button" data-testid="open-activity" title="Every hook event and typed prompt, live"
      onClick=${onActivity}>Activity</button>`}
    ${onView && html`<${ViewButtons} onView=${onView} />`}
    <${FilterBar} projects=${projects} filters=${filters} onChange=${onFilters} textRef=${textRef} />
    <${AlertToggles} prefs=${prefs} permission=${permission} onToggle=${onToggle} />
    <${LogOut} />
  </header>`;
}
