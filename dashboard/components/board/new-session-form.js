/**
 * "New session": the dialog that starts an agent from the page (POST /api/sessions).
 *
 * Project directory (suggestions: the project_dir of every known session, a datalist), agent,
 * first prompt, Claude Code's permission mode and AMC's channel. The server's error is shown in
 * the form (role=alert) and the dialog stays open; on success it closes and the App focuses the
 * new card, which the server lists at once as `starting` under the returned id.
 */
import { html, useEffect, useRef, useState } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { startSession } from "../../lib/api.js";
import { ActionError } from "../common/action-error.js";

const MODES = [
  ["", "The CLI's default"], ["default", "default (ask)"], ["acceptEdits", "acceptEdits"],
  ["plan", "plan"], ["auto", "auto"], ["bypassPermissions", "bypassPermissions"],
];

/** Props: dirs (known project directories), onClose(), onStarted(session_id). */
export function NewSessionForm({ dirs, onClose, onStarted }) {
  const action = useAction();
  const [form, setForm] = useState({ project_dir: dirs[0] || "", agent: "claude", prompt: "",
    permission_mode: "", channel: false });
  const first = useRef(null);
  useEffect(() => { if (first.current) first.current.focus(); }, []);
  useEffect(() => {
    // Esc closes the dialog wherever focus is (a disabled button drops it to the body)
    const onKey = (e) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      e.preventDefault();
      onClose();
    };
    document.addEventListener("keydown", onKey, true);
    return () => document.removeEventListener("keydown", onKey, true);
  }, [onClose]);
  const set = (key) => (e) => setForm({ ...form,
    [key]: e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value });
  const claude = form.agent === "claude";

  const submit = async (e) => {
    e.preventDefault();
    const body = { agent: form.agent, project_dir: form.project_dir.trim() };
    if (form.prompt.trim()) body.prompt = form.prompt;
    if (claude && form.permission_mode) body.permission_mode = form.permission_mode;
    if (claude && form.channel) body.channel = true;
    let answer = null;
    const ok = await action.run(async () => { answer = await startSession(body); });
    if (ok && answer) onStarted(answer.session_id);
  };

  return html`<div class="backdrop modal" onClick=${(e) => { if (e.target === e.currentTarget) onClose(); }}>
    <form class="new-session" role="dialog" aria-modal="true" aria-labelledby="new-session-title"
        data-testid="new-session-form" onSubmit=${submit}>
      <h2 id="new-session-title">New session</h2>
      <label>Project directory
        <input ref=${first} name="project_dir" data-testid="new-project-dir" list="known-project-dirs"
          required placeholder="/home/you/work/project" value=${form.project_dir} onInput=${set("project_dir")} />
      </label>
      <datalist id="known-project-dirs">${dirs.map((d) => html`<option key=${d} value=${d} />`)}</datalist>
      <label>Agent
        <select name="agent" data-testid="new-agent" value=${form.agent} onChange=${set("agent")}>
          <option value="claude">Claude Code</option>
          <option value="codex">Codex</option>
        </select>
      </label>
      <label>First prompt <span class="muted">(optional)</span>
        <textarea name="prompt" data-testid="new-prompt" rows="4" value=${form.prompt} onInput=${set("prompt")}></textarea>
      </label>
      ${claude && html`<label>Permission mode
        <select name="permission_mode" data-testid="new-permission-mode" value=${form.permission_mode}
            onChange=${set("permission_mode")}>
          ${MODES.map(([value, label]) => html`<option key=${value} value=${value}>${label}</option>`)}
        </select>
      </label>
      <label class="check"><input type="checkbox" name="channel" data-testid="new-channel"
          checked=${form.channel} onChange=${set("channel")} />
        Load AMC's channel (messages from this page go in without keystrokes)</label>`}
      <${ActionError} message=${action.error} onDismiss=${action.clearError} />
      <div class="form-actions">
        <button type="button" data-testid="new-cancel" onClick=${onClose}>Cancel</button>
        <button type="submit" class="primary" data-testid="new-submit" disabled=${action.busy}>
          ${action.busy ? "Starting…" : "Start"}</button>
      </div>
    </form>
  </div>`;
}
