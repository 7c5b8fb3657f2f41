/** What the overview says when no session is running, and how to get AMC to see them. */
import { html } from "../../lib/preact.js";

function hookLine(name, installed) {
  if (installed === undefined) return `${name} hooks: unknown`;
  return `${name} hooks: ${installed ? "installed" : "not installed"}`;
}

/** Props: setup (the `setup` object of /api/state, may be missing). */
export function EmptyState({ setup }) {
  const s = setup || {};
  const claude = typeof s.claude_hooks === "boolean" ? s.claude_hooks : undefined;
  const codex = typeof s.codex_hooks === "boolean" ? s.codex_hooks : undefined;
  return html`<section class="empty" data-testid="empty-state" aria-labelledby="empty-title">
    <h2 id="empty-title">No sessions are running</h2>
    <p>Start Claude Code or Codex in a terminal and it shows up here within a few seconds. AMC learns
      what each session is doing from the agents' hooks; install them once with</p>
    <pre class="command"><code>bin/amc hooks install</code></pre>
    <ul class="setup">
      <li class=${claude ? "ok" : "warn"}><span data-testid="hooks-status">${hookLine("Claude Code", claude)}</span>
        ${s.claude_settings && html` <span class="muted">(<code>${s.claude_settings}</code>)</span>`}</li>
      ${codex !== undefined && html`<li class=${codex ? "ok" : "muted"}>${hookLine("Codex", codex)}
        ${!codex && html` <span class="muted">(optional: <code>bin/amc hooks install --codex</code>)</span>`}</li>`}
    </ul>
  </section>`;
}
