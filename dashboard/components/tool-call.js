/**
 * One tool call in a message: collapsed to its name and a one-line summary (command, file path,
 * pattern, URL...), expandable to the input (pretty JSON) and the result; failures are marked.
 * The body is only built once opened, so hundreds of calls with big inputs stay cheap.
 */
import { html, useState } from "../lib/preact.js";
import { toolSummary } from "../state.js";
import { LongText } from "./long-text.js";

function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch (e) {
    return String(value);
  }
}

/** Props: call ({id, name, input, result?, is_error?}). */
export function ToolCall({ call }) {
  const [open, setOpen] = useState(false);
  const hasResult = call.result !== undefined && call.result !== null;
  const failed = !!call.is_error;
  return html`<details class=${`tool${failed ? " failed" : ""}`} data-testid="tool-call" open=${open}
      onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>
      <span class="tool-name" data-testid="tool-name">${call.name || "tool"}</span>
      <span class="tool-summary" data-testid="tool-summary">${toolSummary(call)}</span>
      ${failed && html`<span class="badge error" data-testid="tool-error">error</span>`}
      ${!hasResult && html`<span class="badge muted">no result</span>`}
    </summary>
    ${open && html`<div class="tool-body">
      <div class="tool-part" data-testid="tool-input">
        <div class="part-label">Input</div>
        <${LongText} text=${pretty(call.input)} mono=${true} />
      </div>
      ${hasResult && html`<div class=${`tool-part${failed ? " failed" : ""}`} data-testid="tool-result">
        <div class="part-label">${failed ? "Error" : "Result"}</div>
        <${LongText} text=${pretty(call.result)} mono=${true} />
      </div>`}
    </div>`}
  </details>`;
}
