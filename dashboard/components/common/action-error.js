/**
 * The error of a failed action, next to what failed. The message itself is the role=alert element
 * (announced, and its text is exactly the server's words); the close button sits beside it.
 */
import { html } from "../../lib/preact.js";

/** Props: message ("" renders nothing), onDismiss (optional: shows a close button). */
export function ActionError({ message, onDismiss }) {
  if (!message) return null;
  return html`<div class="action-error">
    <span role="alert" data-testid="action-error">${message}</span>
    ${onDismiss && html`<button type="button" class="icon-button" aria-label="Dismiss error" onClick=${onDismiss}>×</button>`}
  </div>`;
}
