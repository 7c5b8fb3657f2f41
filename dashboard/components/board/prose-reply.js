/**
 * A question the agent asked in prose (its reply ended in a question): the question and a reply
 * box. Enter sends, Shift+Enter starts a new line.
 */
import { html, useState } from "../../lib/preact.js";

/** Props: text (the question), busy, onSend(text) -> Promise<boolean>. */
export function ProseReply({ text, busy, onSend }) {
  const [reply, setReply] = useState("");
  const send = async () => {
    const value = reply.trim();
    if (!value || busy) return;
    if (await onSend(value)) setReply("");
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  };
  return html`<div class="prose" data-testid="prose-question">
    <p class="q-text">${text}</p>
    <div class="reply-row">
      <textarea data-testid="reply-input" rows="2" placeholder="Reply… (Enter sends, Shift+Enter new line)"
        aria-label="Reply" value=${reply} onInput=${(e) => setReply(e.currentTarget.value)}
        onKeyDown=${onKeyDown}></textarea>
      <button type="button" class="primary" data-testid="reply-send" disabled=${busy || !reply.trim()}
        onClick=${send}>Reply</button>
    </div>
  </div>`;
}
