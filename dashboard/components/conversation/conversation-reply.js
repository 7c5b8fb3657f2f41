/**
 * The composer under a conversation: Enter sends, Shift+Enter starts a new line (Esc closes the
 * panel, handled by the app). The text goes to POST /api/respond, which picks the way in (AMC's
 * channel, a waiting hook, or keys typed into the pane); the composer says which before and after
 * sending. A message sent while the agent works is taken into its current turn: it shows as sent.
 * Failures show here (role=alert).
 */
import { html, useState } from "../../lib/preact.js";
import { useAction } from "../../lib/hooks.js";
import { respond } from "../../lib/api.js";
import { composerVia, sentNote } from "../../state/conversation.js";
import { ActionError } from "../common/action-error.js";

/** Props: sessionId, session (for how a message gets there), inputRef (focused when the panel opens). */
export function ConversationReply({ sessionId, session, inputRef }) {
  const [text, setText] = useState("");
  const [sent, setSent] = useState("");
  const action = useAction();
  const send = async () => {
    const value = text.replace(/\s+$/, "");
    if (!value.trim() || action.busy) return;
    const busy = session && session.status === "active";
    let answer = null;
    if (await action.run(async () => { answer = await respond(sessionId, { text: value }); })) {
      setText("");
      setSent(sentNote(answer, busy));
    }
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };
  return html`<div class="conv-reply">
    <${ActionError} message=${action.error} onDismiss=${action.clearError} />
    <p class="muted reply-via" data-testid="reply-via" data-via=${session && session.channel ? "channel" : "pane"}>
      ${sent || composerVia(session || {})}</p>
    <div class="reply-row">
      <textarea data-testid="conversation-input" ref=${inputRef} rows="2" value=${text}
        placeholder="Message… (Enter sends, Shift+Enter new line, Esc closes)" aria-label="Message to the session"
        onInput=${(e) => setText(e.currentTarget.value)} onKeyDown=${onKeyDown}></textarea>
      <button type="button" class="primary" data-testid="conversation-send"
        disabled=${action.busy || !text.trim()} onClick=${send}>Send</button>
    </div>
  </div>`;
}
