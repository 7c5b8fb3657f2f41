/** An assistant's thinking, collapsed by default; the text is only built once opened. */
import { html, useState } from "../lib/preact.js";
import { LongText } from "./long-text.js";

/** Props: text. */
export function ThinkingBlock({ text }) {
  const [open, setOpen] = useState(false);
  return html`<details class="thinking" data-testid="thinking" open=${open}
      onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Thinking</summary>
    ${open && html`<${LongText} text=${text} />`}
  </details>`;
}
