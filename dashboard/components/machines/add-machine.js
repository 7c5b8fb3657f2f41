/**
 * "Add machine": a button that opens a small inline form (name, optional ssh target) and posts
 * `POST /api/machines`, which connects once over the user's own ssh, as `bin/amc remote add NAME
 * [TARGET]` does (docs/remote.md). That can take seconds (up to 30 s for a host that does not
 * answer): the button says "Connecting…" meanwhile. The server's error (unknown host key, no
 * python3, ...) is shown in the form (role=alert) and the form stays; on success it closes and
 * the App focuses the new machine in the strip.
 */
import { html, useEffect, useLayoutEffect, useRef, useState } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { CHANGED_EVENT, postJSON } from "../../lib/api.js";
import { ActionError } from "../common/action-error.js";

/** Props: onAdded(name), label (the button's text). */
export function AddMachine({ onAdded, label = "Add machine" }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: "", target: "" });
  const action = useAction();
  const button = useRef(null);
  const first = useRef(null);
  const refocus = useRef(false);
  useEffect(() => { if (open && first.current) first.current.focus(); }, [open]);
  useLayoutEffect(() => {
    if (!open && refocus.current && button.current) button.current.focus();
    refocus.current = false;
  }, [open]);

  const close = () => {
    refocus.current = true;
    action.clearError();
    setOpen(false);
  };
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = async (e) => {
    e.preventDefault();
    const name = form.name.trim();
    const body = { name };
    if (form.target.trim()) body.target = form.target.trim();
    const ok = await action.run(async () => {
      await postJSON("/api/machines", body);
      window.dispatchEvent(new Event(CHANGED_EVENT)); // polling: ask for the new list at once
    });
    if (!ok) return;
    setForm({ name: "", target: "" });
    setOpen(false);
    onAdded(name);
  };
  const onKeyDown = (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation();
    close();
  };

  if (!open) {
    return html`<button type="button" class="quiet add-machine" data-testid="add-machine" ref=${button}
      aria-expanded="false" onClick=${() => setOpen(true)}>+ ${label}</button>`;
  }
  return html`<form class="add-machine-form" data-testid="add-machine-form" aria-labelledby="add-machine-title"
      onSubmit=${submit} onKeyDown=${onKeyDown}>
    <h2 id="add-machine-title">Add a machine</h2>
    <p class="muted hint">AMC connects with your own <code>ssh</code> (your keys, agent, <code>~/.ssh/config</code>),
      without prompts: run <code>ssh TARGET</code> once yourself first to check its host key.</p>
    <div class="add-machine-fields">
      <label>Name
        <input ref=${first} name="name" data-testid="add-machine-name" required autocomplete="off"
          spellcheck="false" maxlength="64" placeholder="m1" value=${form.name} onInput=${set("name")} />
      </label>
      <label>SSH target <span class="muted">(optional)</span>
        <input name="target" data-testid="add-machine-target" autocomplete="off" spellcheck="false"
          placeholder="the name, or user@host, a Host alias" value=${form.target} onInput=${set("target")} />
      </label>
    </div>
    <${ActionError} message=${action.error} onDismiss=${action.clearError} />
    <div class="form-actions">
      <button type="button" data-testid="add-machine-cancel" onClick=${close}>Cancel</button>
      <button type="submit" class="primary" data-testid="add-machine-submit" disabled=${action.busy}>
        ${action.busy ? "Connecting…" : "Add"}</button>
    </div>
  </form>`;
}
