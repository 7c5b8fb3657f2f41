/**
 * The top bar's controls for the Usage and History views (the App mounts the views).
 */
import { html } from "../../lib/preact.js";

/**
 * Give the focus back to the top bar's button once a view closed (the page behind it was inert
 * while it was open, so the button lost the focus when the view opened); never steal a focus the
 * user moved elsewhere meanwhile.
 */
export function returnFocus(selector) {
  requestAnimationFrame(() => {
    const active = document.activeElement;
    const button = document.querySelector(selector);
    if (button && (!active || active === document.body)) button.focus();
  });
}

/** Props: onView("usage" | "history"). */
export function ViewButtons({ onView }) {
  return html`<span class="view-buttons">
    <button type="button" data-testid="open-usage" title="Tokens and cost per project and per day"
      onClick=${() => onView("usage")}>Usage</button>
    <button type="button" data-testid="open-history" title="Every past session, with the command to resume it"
      onClick=${() => onView("history")}>History</button>
  </span>`;
}
