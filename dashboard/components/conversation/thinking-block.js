/**
 * An assistant's thinking, collapsed by default; the text is only built once opened. Thinking
 * over 64 KB arrives as its start plus `thinking_omitted` bytes, with "Load" for the whole.
 */
import { html, useState } from "../../lib/preact.js";
import { LongText } from "../common/long-text.js";
import { OmittedPart, isOmitted } from "./omitted-part.js";

/** Props: text, omitted (bytes left out, or 0), sessionId, messageId. */
export function ThinkingBlock({ text, omitted = 0, sessionId, messageId }) {
  const [open, setOpen] = useState(false);
  const [full, setFull] = useState(null);
  const missing = isOmitted(omitted) && full === null;
  return html`<details class="thinking" data-testid="thinking" open=${open}
      onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Thinking</summary>
    ${open && html`<${LongText} text=${full === null ? text : full} />`}
    ${open && missing && html`<${OmittedPart} what="Thinking" bytes=${omitted} field="thinking"
        sessionId=${sessionId} messageId=${messageId} onLoaded=${(v) => setFull(String(v == null ? "" : v))} />`}
  </details>`;
}
