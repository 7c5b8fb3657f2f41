/**
 * One tool call in a message: collapsed to its name and a one-line summary (command, file path,
 * pattern, URL...), expandable. Opened, a call whose tool has a view (TOOL_VIEWS, a table by
 * tool name) shows it as a person reads it: edits as diffs, a shell command with its coloured
 * output, files read or searched with their counts, a checklist, links, a subagent's own
 * conversation (docs/conversation-views.md); "Raw" shows what every other tool shows: the input
 * (pretty JSON) and the result. Images in a result are thumbnails fetched when seen.
 * The body is only built once opened, so hundreds of calls with big inputs stay cheap. An input
 * or result over the server's limit (64 KB) arrives as a placeholder with its size (the result
 * with its first characters): "Load" fetches the whole value (conversation/omitted-part.js).
 */
import { html, useState } from "../../lib/preact.js";
import { toolSummary } from "../../state/conversation.js";
import { LongText } from "../common/long-text.js";
import { OmittedPart, isOmitted } from "../conversation/omitted-part.js";
import { ToolDiff } from "./tool-diff.js";
import { ToolBash } from "./tool-bash.js";
import { ToolFiles } from "./tool-files.js";
import { ToolTodos } from "./tool-todos.js";
import { ToolWeb } from "./tool-web.js";
import { ToolImages } from "./tool-image.js";
import { SubagentView } from "./subagent-view.js";

const DIFF = { view: "diff", component: ToolDiff };
const BASH = { view: "bash", component: ToolBash };
const FILES = { view: "files", component: ToolFiles };
const TODOS = { view: "todos", component: ToolTodos };
const WEB = { view: "web", component: ToolWeb };
const SUBAGENT = { view: "subagent", component: SubagentView };

/** The view of each tool, by the name Claude Code or Codex gives it; others show raw JSON. */
export const TOOL_VIEWS = {
  Edit: DIFF, MultiEdit: DIFF, Write: DIFF, apply_patch: DIFF,
  Bash: BASH, shell: BASH, shell_command: BASH, exec_command: BASH, local_shell: BASH,
  Read: FILES, Grep: FILES, Glob: FILES, LS: FILES,
  TodoWrite: TODOS, TaskCreate: TODOS, TaskUpdate: TODOS, TaskList: TODOS, update_plan: TODOS,
  WebFetch: WEB, WebSearch: WEB, web_search: WEB,
  Task: SUBAGENT, Agent: SUBAGENT,
};

function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch (e) {
    return String(value);
  }
}

/** Props: call ({id, name, input, result?, is_error?, input_omitted?, result_omitted?, images?, subagent?}), sessionId, messageId. */
export function ToolCall({ call, sessionId, messageId }) {
  const [open, setOpen] = useState(false);
  const [raw, setRaw] = useState(false);
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
  const entry = Object.prototype.hasOwnProperty.call(TOOL_VIEWS, call.name) ? TOOL_VIEWS[call.name] : null;
  const showView = !!entry && !raw;
  const images = Array.isArray(call.images) ? call.images : [];
  const omitted = (what, field) => html`<${OmittedPart} what=${what} bytes=${call[field + "_omitted"]}
    field=${field} sessionId=${sessionId} messageId=${messageId} callId=${call.id}
    onLoaded=${(value) => setFull((f) => ({ ...f, [field]: { bytes: call[field + "_omitted"], value } }))} />`;
  const parts = { inputOmitted, resultOmitted, hasResult, failed, omitted };
  const View = entry && entry.component;
  return html`<details class=${`tool${failed ? " failed" : ""}`} data-testid="tool-call"
      data-view=${showView ? entry.view : "raw"} open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>
      <span class="tool-name" data-testid="tool-name">${call.name || "tool"}</span>
      <span class="tool-summary" data-testid="tool-summary">${toolSummary({ ...call, input })}</span>
      ${call.subagent && html`<span class=${`badge sub-${call.subagent.status === "running" ? "running" : "done"}`}
          data-testid="subagent-badge">${call.subagent.status === "running" ? "running" : "done"}</span>`}
      ${failed && html`<span class="badge error" data-testid="tool-error">error</span>`}
      ${!hasResult && !call.subagent && html`<span class="badge muted">no result</span>`}
    </summary>
    ${open && html`<div class="tool-body">
      ${entry && html`<div class="tool-toolbar">
        <button type="button" class="link-button" data-testid="tool-raw-toggle" aria-pressed=${raw ? "true" : "false"}
          onClick=${() => setRaw((r) => !r)}>${raw ? "Show as view" : "Raw"}</button>
      </div>`}
      ${showView ? html`<${View} call=${{ ...call, input, result }} parts=${parts} sessionId=${sessionId} messageId=${messageId} />`
        : html`<div class="tool-part" data-testid="tool-input">
        <div class="part-label">Input</div>
        ${inputOmitted ? omitted("Input", "input") : html`<${LongText} text=${pretty(input)} mono=${true} />`}
      </div>
      ${hasResult && html`<div class=${`tool-part${failed ? " failed" : ""}`} data-testid="tool-result">
        <div class="part-label">${failed ? "Error" : "Result"}</div>
        ${result !== undefined && result !== null && html`<${LongText} text=${pretty(result)} mono=${true} />`}
        ${resultOmitted && omitted("Output", "result")}
      </div>`}`}
      ${images.length > 0 && html`<${ToolImages} images=${images} sessionId=${sessionId} messageId=${messageId} callId=${call.id} />`}
    </div>`}
  </details>`;
}
