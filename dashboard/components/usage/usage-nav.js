/**
 * The top bar's buttons for the Usage and History views (the App mounts the views; closing one
 * gives the focus back to its button: common/panel.js, `opener`).
 */
import { html } from "../../lib/preact.js";

/** Props: onView("usage" | "history"). */
export function ViewButtons({ onView }) {
  return html`<span class="view-buttons">
    <button type="button" data-testid="open-usage" title="Tokens and cost per project and per day"
      onClick=${() => onView("usage")}>Usage</button>
    <button type="button" data-testid="open-history" title="Every past session, with the command to resume it"
      onClick=${() => onView("history")}>History</button>
  </span>`;
}
