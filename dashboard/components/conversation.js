/**
 * The conversation panel (a modal dialog) for one session: the most recent PAGE messages first,
 * "Load earlier" to fetch more (keeping the reading position), refetched whenever the session's
 * conversation_mtime_ns changes. Messages are keyed by their stable ids, so a refresh patches the
 * list in place: no flicker, no lost scroll position. It opens at the end and follows new messages
 * unless the user has scrolled up.
 */
import { html, useEffect, useLayoutEffect, useRef, useState } from "../lib/preact.js";
import { fetchConversation } from "../lib/api.js";
import { agentLabel, clean, paneLabel, statusLabel } from "../state.js";
import { MessageItem } from "./message-item.js";
import { ConversationReply } from "./conversation-reply.js";

export const PAGE = 200;
const FOLLOW_SLACK_PX = 48;
const MESSAGE = '[data-testid="message"]';

/** Return {id, offset} of the first message visible in the scroller (offsets need position: relative). */
function topMessage(el) {
  for (const node of el.querySelectorAll(MESSAGE)) {
    if (node.offsetTop + node.offsetHeight > el.scrollTop) {
      return { id: node.dataset.messageId, offset: node.offsetTop - el.scrollTop };
    }
  }
  return null;
}

/** Props: sessionId, session (latest known record, may be stale once gone), onClose(). */
export function Conversation({ sessionId, session, onClose }) {
  const agent = session.agent || "claude";
  const mtime = session.conversation_mtime_ns;
  const [limit, setLimit] = useState(PAGE);
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  const scroller = useRef(null);
  const dialog = useRef(null);
  const input = useRef(null);
  const follow = useRef(true);
  const anchor = useRef(null); // {id, offset}: the message at the top of the view, kept in place

  useEffect(() => {
    const ctrl = new AbortController();
    fetchConversation(sessionId, agent, limit, { signal: ctrl.signal }).then((d) => {
      const messages = Array.isArray(d.messages) ? d.messages : [];
      setData({ messages, total: Number.isFinite(d.total) ? d.total : messages.length });
      setError("");
      setLoadingMore(false);
    }, (e) => {
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not load the conversation");
      setLoadingMore(false);
    });
    return () => ctrl.abort();
  }, [sessionId, agent, limit, mtime]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !data) return;
    if (follow.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      // Messages were added above or dropped off the top: keep the one the user reads where it was.
      const { id, offset } = anchor.current;
      const node = [...el.querySelectorAll(MESSAGE)].find((n) => n.dataset.messageId === id);
      if (node) el.scrollTop = node.offsetTop - offset;
    }
  }, [data]);

  useLayoutEffect(() => {
    const fine = window.matchMedia && window.matchMedia("(hover: hover) and (pointer: fine)").matches;
    const target = fine && input.current ? input.current : dialog.current;
    if (target) target.focus({ preventScroll: true });
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK_PX;
    anchor.current = follow.current ? null : topMessage(el);
  };
  const loadEarlier = () => {
    follow.current = false;
    anchor.current = topMessage(scroller.current);
    setLoadingMore(true);
    setLimit((n) => n + PAGE);
  };

  const messages = data ? data.messages : [];
  const earlier = data ? Math.max(0, data.total - messages.length) : 0;
  const name = agentLabel(agent);
  return html`<div class="backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <section class="conversation" role="dialog" aria-modal="true" aria-labelledby="conv-title"
        data-testid="conversation" tabindex="-1" ref=${dialog}>
      <header class="conv-head">
        <div class="conv-title">
          <h2 id="conv-title">${clean(session.project, 200) || sessionId}</h2>
          <div class="conv-meta">
            <span>${name}</span>
            <span class=${`status-pill small st-${session.status}`}>${statusLabel(session.status)}</span>
            <code class="pane">${paneLabel(session)}</code>
            ${data && html`<span class="muted">${messages.length} of ${data.total} messages</span>`}
          </div>
        </div>
        <button type="button" class="icon-button close" data-testid="close-conversation"
          aria-label="Close conversation" title="Close (Esc)" onClick=${onClose}>×</button>
      </header>
      <div class="conv-scroll" ref=${scroller} onScroll=${onScroll}>
        ${error && html`<p class="conv-error" role="alert">${data ? "Could not refresh: " : ""}${error}</p>`}
        ${earlier > 0 && html`<button type="button" class="load-earlier" data-testid="load-earlier"
            disabled=${loadingMore} onClick=${loadEarlier}>
          ${loadingMore ? "Loading…" : `Load earlier messages (${earlier} more)`}</button>`}
        ${!data && !error && html`<p class="muted conv-note">Loading conversation…</p>`}
        ${data && !messages.length && html`<p class="muted conv-note">No messages yet.</p>`}
        ${messages.map((m) => html`<${MessageItem} key=${m.id} message=${m} agentName=${name} />`)}
      </div>
      <${ConversationReply} sessionId=${sessionId} inputRef=${input} />
    </section>
  </div>`;
}
