/**
 * One tool call in a message: collapsed to its name and a one-line summary (command, file path,
 * pattern, URL...), expandable to the input (pretty JSON) and the result; failures are marked.
 * The body is only built once opened, so hundreds of calls with big inputs stay cheap. An input
 * or result over the server's limit (64 KB) arrives as a placeholder with its size (the result
 * with its first characters): "Load" fetches the whole value (components/omitted-part.js).
 */
import { html, useState } from "../lib/preact.js";
import { toolSummary } from "../state.js";
import { LongText } from "./long-text.js";
import { OmittedPart, isOmitted } from "./omitted-part.js";

function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch (e) {
    return String(value);
  }
}

/** Props: call ({id, name, input, result?, is_error?, input_omitted?, result_omitted?}), sessionId, messageId. */
export function ToolCall({ call, sessionId, messageId }) {
  const [open, setOpen] = useState(false);
  // field -> {bytes, value}: the whole value, loaded for the placeholder of that size (a newer
  // placeholder, say a longer output, is loaded again).
  const [full, setFull] = useState({});
  const loaded = (field) => !!full[field] && full[field].bytes === call[field + "_omitted"];
  const inputOmitted = isOmitted(call.input_omitted) && !loaded("input");
  const resultOmitted = isOmitted(call.result_omitted) && !loaded("result");
  const input = loaded("input") ? full.input.value : call.input;
  const result = loaded("result") ? full.result.value : call.result;
  const hasResult = (result !== undefined && result !== null) || resultOmitted;
  const failed = !!call.is_error;
  const omitted = (what, field) => html`<${OmittedPart} what=${what} bytes=${call[field + "_omitted"]}
    field=${field} sessionId=${sessionId} messageId=${messageId} callId=${call.id}
    onLoaded=${(value) => setFull((f) => ({ ...f, [field]: { bytes: call[field + "_omitted"], value } }))} />`;
  return html`<details class=${`tool${failed ? " failed" : ""}`} data-testid="tool-call" open=${open}
      onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>
      <span class="tool-name" data-testid="tool-name">${call.name || "tool"}</span>
      <span class="tool-summary" data-testid="tool-summary">${toolSummary({ ...call, input })}</span>
      ${failed && html`<span class="badge error" data-testid="tool-error">error</span>`}
      ${!hasResult && html`<span class="badge muted">no result</span>`}
    </summary>
    ${open && html`<div class="tool-body">
      <div class="tool-part" data-testid="tool-input">
        <div class="part-label">Input</div>
        ${inputOmitted ? omitted("Input", "input") : html`<${LongText} text=${pretty(input)} mono=${true} />`}
      </div>
      ${hasResult && html`<div class=${`tool-part${failed ? " failed" : ""}`} data-testid="tool-result">
        <div class="part-label">${failed ? "Error" : "Result"}</div>
        ${result !== undefined && result !== null && html`<${LongText} text=${pretty(result)} mono=${true} />`}
        ${resultOmitted && omitted("Output", "result")}
      </div>`}
    </div>`}
  </details>`;
}
