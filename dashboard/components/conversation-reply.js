/**
 * The reply box under a conversation: Enter sends, Shift+Enter starts a new line (Esc closes the
 * panel, handled by the app). The text goes to POST /api/respond; failures show here (role=alert).
 */
import { html, useState } from "../lib/preact.js";
import { useAction } from "../lib/hooks.js";
import { respond } from "../lib/api.js";
import { ActionError } from "./action-error.js";

/** Props: sessionId, inputRef (focused when the panel opens). */
export function ConversationReply({ sessionId, inputRef }) {
  const [text, setText] = useState("");
  const action = useAction();
  const send = async () => {
    const value = text.replace(/\s+$/, "");
    if (!value.trim() || action.busy) return;
    if (await action.run(() => respond(sessionId, { text: value }))) setText("");
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };
  return html`<div class="conv-reply">
    <${ActionError} message=${action.error} onDismiss=${action.clearError} />
    <div class="reply-row">
      <textarea data-testid="conversation-input" ref=${inputRef} rows="2" value=${text}
        placeholder="Message… (Enter sends, Shift+Enter new line, Esc closes)" aria-label="Message to the session"
        onInput=${(e) => setText(e.currentTarget.value)} onKeyDown=${onKeyDown}></textarea>
      <button type="button" class="primary" data-testid="conversation-send"
        disabled=${action.busy || !text.trim()} onClick=${send}>Send</button>
    </div>
  </div>`;
}
