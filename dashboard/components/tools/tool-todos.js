/**
 * The agent's task list as a checklist: TodoWrite's `todos` (Claude Code to 2.0.x), the task
 * tools of 2.1.x (TaskCreate adds one, TaskUpdate moves one, TaskList answers with the list),
 * and Codex's update_plan (`plan: [{step, status}]`). Each item says its state in words as well
 * as with its box, so it reads without colour.
 */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";
import { LongText } from "../common/long-text.js";

const MARK = { completed: "☑", in_progress: "◐", pending: "☐", deleted: "☒" };
const WORD = { completed: "done", in_progress: "in progress", pending: "to do", deleted: "deleted" };
const str = (v) => (typeof v === "string" ? v : v == null ? "" : String(v));

/** Return a call's checklist: {items: [{text, status, note}], title}. */
export function todoItems(name, input) {
  const a = input && typeof input === "object" ? input : {};
  if (Array.isArray(a.todos)) {
    return { title: "", items: a.todos.filter((t) => t && typeof t === "object").map((t) => ({
      text: str(t.content || t.subject), status: str(t.status) || "pending",
      note: t.status === "in_progress" && t.activeForm ? str(t.activeForm) : "" })) };
  }
  if (Array.isArray(a.plan)) {
    return { title: str(a.explanation), items: a.plan.filter((t) => t && typeof t === "object").map((t) => ({
      text: str(t.step), status: str(t.status) || "pending", note: "" })) };
  }
  if (name === "TaskCreate") {
    return { title: "New task", items: [{ text: str(a.subject), status: "pending", note: str(a.description) }] };
  }
  if (name === "TaskUpdate") {
    const what = a.subject ? str(a.subject) : `Task #${str(a.taskId)}`;
    const owner = a.owner ? `owner ${str(a.owner)}` : "";
    return { title: "Task changed", items: [{ text: what, status: str(a.status) || "pending", note: owner }] };
  }
  return { title: "", items: [] };
}

/** Props: call ({name, input, result, is_error}), parts ({inputOmitted, resultOmitted, hasResult, failed, omitted}). */
export function ToolTodos({ call, parts }) {
  const { title, items } = parts.inputOmitted ? { title: "", items: [] } : todoItems(call.name, call.input);
  const done = items.filter((t) => t.status === "completed").length;
  const showResult = parts.hasResult && (parts.failed || !items.length);
  return html`<div class="todos-view" data-testid="tool-todos">
    ${parts.inputOmitted && html`<div data-testid="tool-input">${parts.omitted("Input", "input")}</div>`}
    ${(title || items.length > 1) && html`<div class="part-label">${clean(title, 300)}${title && items.length > 1 ? " · " : ""}${
      items.length > 1 ? `${done} of ${items.length} done` : ""}</div>`}
    ${items.length > 0 && html`<ul class="checklist" data-testid="todo-list">
      ${items.map((t, i) => html`<li class=${`todo st-${t.status.replace(/[^a-z_]/g, "")}`} data-testid="todo-item"
          data-status=${t.status} key=${i}>
        <span class="todo-box" aria-hidden="true">${MARK[t.status] || "☐"}</span>
        <span class="todo-text">${clean(t.text, 1000)}</span>
        <span class="todo-state">${WORD[t.status] || clean(t.status, 40)}</span>
        ${t.note && html`<span class="todo-note muted">${clean(t.note, 1000)}</span>`}
      </li>`)}
    </ul>`}
    ${showResult && html`<div class=${`tool-part${parts.failed ? " failed" : ""}`} data-testid="tool-result">
      ${parts.failed && html`<div class="part-label">Error</div>`}
      ${call.result != null && html`<${LongText} text=${str(call.result)} mono=${true} />`}
      ${parts.resultOmitted && parts.omitted("Output", "result")}
    </div>`}
  </div>`;
}
