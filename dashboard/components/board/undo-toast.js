/** "Dismissed <project>. Undo": shown while a dismissal waits its few seconds before being sent. */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";

/** Props: toast ({id, project} or null), onUndo. */
export function UndoToast({ toast, onUndo }) {
  if (!toast) return null;
  return html`<div class="toast" role="status" data-testid="undo-toast">
    <span>Dismissed <strong>${clean(toast.project, 200) || "session"}</strong>.</span>
    <button type="button" data-testid="undo" onClick=${onUndo}>Undo</button>
  </div>`;
}
