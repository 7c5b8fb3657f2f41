/**
 * The conversation panel (a modal dialog) for one session: the most recent PAGE messages first,
 * "Load earlier" to fetch more (keeping the reading position), then followed over the stream
 * (lib/stream.js): `messages` events are upserted by id, and when messages may have been missed
 * (a snapshot after a reconnect, a new follow, a changed conversation_mtime_ns while polling) the
 * panel fetches `?after=<its last message>`. Messages are keyed by their stable ids, so updates
 * patch the list in place: no flicker, no lost scroll position. It opens at the end and follows
 * new messages unless the user has scrolled up.
 */
import { html, useEffect, useLayoutEffect, useRef, useState } from "../../lib/preact.js";
import { fetchConversation } from "../../lib/api.js";
import { applyAfter, applyMessages } from "../../state/conversation.js";
import { localId } from "../../state/machines.js";
import { agentLabel, paneLabel, statusLabel } from "../../state/sessions.js";
import { clean } from "../../state/text.js";
import { MessageItem } from "./message-item.js";
import { ConversationReply } from "./conversation-reply.js";
import { useScrollToMessage } from "../search/search-target.js";
import { Panel } from "../common/panel.js";
import { Timeline } from "./timeline.js";
import { UsageDetails } from "../usage/usage-details.js";

export const PAGE = 200;
const FOLLOW_SLACK_PX = 48;
const MESSAGE = '[data-testid="message"]';
const finePointer = () => !!window.matchMedia && window.matchMedia("(hover: hover) and (pointer: fine)").matches;

/** Return {id, offset} of the first message visible in the scroller (offsets need position: relative). */
function topMessage(el) {
  for (const node of el.querySelectorAll(MESSAGE)) {
    if (node.offsetTop + node.offsetHeight > el.scrollTop) {
      return { id: node.dataset.messageId, offset: node.offsetTop - el.scrollTop };
    }
  }
  return null;
}

/** Props: sessionId, session (latest known record, may be stale once gone), stream ({follow}), onClose(), scrollTo (a message id to show, from a search hit). */
export function Conversation({ sessionId, session, stream, onClose, scrollTo = "" }) {
  const agent = session.agent || "claude";
  const [want, setWant] = useState(PAGE); // the full fetch asks for the last `want` messages
  const [reloads, setReloads] = useState(0); // bumped to fetch the window again
  const [data, setData] = useState(null); // {messages, total}
  const [error, setError] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  const scroller = useRef(null);
  const input = useRef(null);
  const stick = useRef(true); // follow new messages at the end
  const anchor = useRef(null); // {id, offset}: the message at the top of the view, kept in place
  // What the fetches and the stream share: the shown data, the fetches in flight and the
  // messages events received meanwhile (re-applied on top of an answer that may predate them).
  const sync = useRef({ data: null, loading: false, after: null, pending: [], gapWanted: false });

  const show = (next) => {
    sync.current.data = next;
    setData(next);
  };
  const settle = (next) => {
    const s = sync.current;
    for (const ev of s.pending) next = applyMessages(next, ev);
    if (!s.loading && !s.after) s.pending = [];
    show(next);
    setError("");
  };

  useEffect(() => {
    const s = sync.current;
    const ctrl = new AbortController();
    s.loading = true;
    fetchConversation(sessionId, { agent, limit: want }, { signal: ctrl.signal }).then((d) => {
      s.loading = false;
      settle(applyMessages(null, { ...d, reset: true }));
      setLoadingMore(false);
      if (s.gapWanted) fillGap();
    }, (e) => {
      if (e && e.name === "AbortError") return;
      s.loading = false;
      setError(e.message || "Could not load the conversation");
      setLoadingMore(false);
    });
    return () => ctrl.abort();
  }, [sessionId, agent, want, reloads]);

  /** Messages may have been missed: fetch what came after the last one shown. */
  function fillGap() {
    const s = sync.current;
    if (s.loading || s.after) {
      s.gapWanted = true; // once the fetch in flight is done
      return;
    }
    s.gapWanted = false;
    const cur = s.data;
    if (!cur || !cur.messages.length) {
      setReloads((n) => n + 1);
      return;
    }
    const last = cur.messages[cur.messages.length - 1].id;
    const ctrl = new AbortController();
    s.after = ctrl;
    fetchConversation(sessionId, { agent, after: last }, { signal: ctrl.signal }).then((d) => {
      s.after = null;
      settle(applyAfter(s.data, d, last));
      if (s.gapWanted) fillGap();
    }, (e) => {
      if (s.after === ctrl) s.after = null;
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not refresh the conversation");
    });
  }

  function onMessages(ev) {
    const s = sync.current;
    if (s.loading || s.after) s.pending.push(ev);
    if (s.data) show(applyMessages(s.data, ev));
  }

  const handlers = useRef(null);
  handlers.current = { onMessages, onGap: fillGap };
  useEffect(() => {
    if (!stream) return undefined;
    return stream.follow(sessionId, {
      onMessages: (ev) => handlers.current.onMessages(ev),
      onGap: () => handlers.current.onGap(),
    });
  }, [stream, sessionId]);
  useEffect(() => () => {
    const s = sync.current;
    if (s.after) s.after.abort();
  }, []);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !data) return;
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      // Messages were added above or dropped off the top: keep the one the user reads where it was.
      const { id, offset } = anchor.current;
      const node = [...el.querySelectorAll(MESSAGE)].find((n) => n.dataset.messageId === id);
      if (node) el.scrollTop = node.offsetTop - offset;
    }
  }, [data]);

  // Opened from a search hit: show that message (after the effect above placed the view).
  useScrollToMessage(scrollTo, { data, scroller, stick, anchor, want, setWant });

  // The reply box gets the focus on a fine pointer; on touch the panel does (no keyboard pops up).
  const focusFirst = () => (finePointer() && input.current) || null;

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return; // a scroll event queued before the panel closed
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK_PX;
    anchor.current = stick.current ? null : topMessage(el);
  };
  const loadEarlier = () => {
    stick.current = false;
    anchor.current = topMessage(scroller.current);
    setLoadingMore(true);
    setWant(Math.max(want, data ? data.messages.length : 0) + PAGE);
  };

  const messages = data ? data.messages : [];
  const earlier = data ? Math.max(0, data.total - messages.length) : 0;
  const name = agentLabel(agent);
  return html`<${Panel} testid="conversation" titleId="conv-title" closeName="conversation" onClose=${onClose}
      initialFocus=${focusFirst}
      title=${clean(session.project, 200) || clean(localId(session), 200) || sessionId}
      meta=${html`<span>${name}</span>
        <span class=${`status-pill small st-${session.status}`}>${statusLabel(session.status)}</span>
        <code class="pane">${paneLabel(session)}</code>
        ${data && html`<span class="muted">${messages.length} of ${data.total} messages</span>`}`}>
      <${UsageDetails} usage=${session.usage} />
      <${Timeline} sessionId=${sessionId} session=${session} />
      <div class="conv-scroll" ref=${scroller} onScroll=${onScroll}>
        ${error && html`<p class="conv-error" role="alert">${data ? "Could not refresh: " : ""}${error}</p>`}
        ${earlier > 0 && html`<button type="button" class="load-earlier" data-testid="load-earlier"
            disabled=${loadingMore} onClick=${loadEarlier}>
          ${loadingMore ? "Loading…" : `Load earlier messages (${earlier} more)`}</button>`}
        ${!data && !error && html`<p class="muted conv-note">Loading conversation…</p>`}
        ${data && !messages.length && html`<p class="muted conv-note">No messages yet.</p>`}
        ${messages.map((m) => html`<${MessageItem} key=${m.id} message=${m} agentName=${name} sessionId=${sessionId} />`)}
      </div>
      <${ConversationReply} sessionId=${sessionId} session=${session} inputRef=${input} />
  </${Panel}>`;
}
