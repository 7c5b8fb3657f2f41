/** A pending tool permission: which tool, what it wants to run, and Allow / Deny buttons. */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";

/** Props: attention ({tool, summary, text}), busy, onAllow(), onDeny(). */
export function PermissionPrompt({ attention, busy, onAllow, onDeny }) {
  const detail = clean(attention.summary || attention.text);
  return html`<div class="permission">
    <div class="permission-detail" data-testid="permission-detail">
      <span class="tool-name">${clean(attention.tool, 200) || "Tool"}</span>
      ${detail && html`<code class="command-line">${detail}</code>`}
    </div>
    <div class="permission-actions">
      <button type="button" class="primary" data-testid="allow" disabled=${busy} onClick=${onAllow}>Allow</button>
      <button type="button" class="danger" data-testid="deny" disabled=${busy} onClick=${onDeny}>Deny</button>
    </div>
  </div>`;
}
