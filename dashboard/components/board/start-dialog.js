/**
 * A dialog the CLI shows at start (folder trust, the development-channels warning), read off the
 * pane of a session AMC launched: its text and one button per option. AMC never picks one itself.
 */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";

/** Props: attention ({text, options, selected}), busy, onChoose(n) (1-based). */
export function StartDialog({ attention, busy, onChoose }) {
  return html`<div class="start-dialog" data-testid="start-dialog">
    <p class="dialog-text">${clean(attention.text, 500)}</p>
    <div class="permission-actions">
      ${(attention.options || []).map((label, i) => html`<button type="button" key=${i}
          data-testid="dialog-option" data-option=${i + 1} disabled=${busy}
          onClick=${() => onChoose(i + 1)}>${clean(label, 200)}</button>`)}
    </div>
  </div>`;
}
