/**
 * The opt-in buttons for desktop notifications and sound. Permission is requested only here, on
 * the user's click, never on load.
 */
import { html } from "../../lib/preact.js";

/** Props: prefs ({notify, sound}), permission (Notification.permission or "unsupported"), onToggle(kind). */
export function AlertToggles({ prefs, permission, onToggle }) {
  const notifyOn = prefs.notify && permission === "granted";
  const notifyTitle = permission === "unsupported" ? "This browser cannot show notifications"
    : permission === "denied" ? "Notifications are blocked for this page in the browser's settings"
    : "Show a desktop notification when a session starts needing attention";
  return html`<div class="toggles">
    <button type="button" class=${`toggle${notifyOn ? " on" : ""}`} data-testid="enable-notifications"
        aria-pressed=${String(notifyOn)} title=${notifyTitle} disabled=${permission === "unsupported"}
        onClick=${() => onToggle("notify")}>
      ${notifyOn ? "Notifications on" : permission === "denied" ? "Notifications blocked" : "Notify me"}
    </button>
    <button type="button" class=${`toggle${prefs.sound ? " on" : ""}`} data-testid="enable-sound"
        aria-pressed=${String(prefs.sound)} title="Beep when a session starts needing attention"
        onClick=${() => onToggle("sound")}>${prefs.sound ? "Sound on" : "Sound"}</button>
  </div>`;
}
