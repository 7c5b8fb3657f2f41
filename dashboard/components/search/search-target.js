/**
 * useScrollToMessage: the conversation panel opened from a search hit shows that message.
 *
 * Once the panel's messages are in, the message with `messageId` is scrolled to the middle of the
 * view and marked (`data-search-hit="true"` on its element, outlined by search-style.js), and the
 * panel stops following the end. A message older than the window the panel fetched (the last 200)
 * makes it fetch enough more (`setWant`, as "Load earlier" does), from the position in its id
 * (`<agent>-<session>-<n>`). An id the transcript no longer has is given up quietly.
 */
import { useLayoutEffect, useRef } from "../../lib/preact.js";
import { messagePosition } from "../../state/conversation.js";

const MESSAGE = '[data-testid="message"]';
const CONTEXT = 10; // messages fetched above the one searched for

/** Args: messageId ("" = none), and the panel's {data, scroller, stick, anchor, want, setWant}. */
export function useScrollToMessage(messageId, { data, scroller, stick, anchor, want, setWant }) {
  const done = useRef("");
  useLayoutEffect(() => {
    if (!messageId || done.current === messageId || !data) return;
    const el = scroller.current;
    if (!el) return;
    const node = [...el.querySelectorAll(MESSAGE)].find((n) => n.dataset.messageId === messageId);
    if (node) {
      done.current = messageId;
      for (const old of el.querySelectorAll("[data-search-hit]")) old.removeAttribute("data-search-hit");
      node.setAttribute("data-search-hit", "true");
      stick.current = false;
      el.scrollTop = Math.max(0, node.offsetTop - Math.max(0, (el.clientHeight - node.offsetHeight) / 2));
      anchor.current = { id: messageId, offset: node.offsetTop - el.scrollTop };
      return;
    }
    const n = messagePosition(messageId);
    const need = data.total - n + CONTEXT;
    if (Number.isFinite(n) && n < data.total - data.messages.length && need > want) {
      setWant(Math.min(data.total, need));
    } else {
      done.current = messageId; // not in this transcript (it was replaced since the search)
    }
  }, [data, messageId]);
}
