/**
 * The Activity view (a modal panel opened from the top bar): every hook event of every session and
 * machine, and every prompt typed into Claude Code (its history.jsonl), newest first. The backlog
 * comes from GET /api/activity?limit=200, then the stream's `activity` events
 * (`stream.follow(ACTIVITY_TOPIC)`, lib/stream.js); after a reconnect (onGap) the backlog is
 * fetched again and merged by id (state.applyBacklog). Live events are collected and rendered in
 * batches, at most every FLUSH_MS and on an animation frame, so a burst of hundreds of events
 * costs a few renders, not hundreds; the rows are memoised and only the first `shown` are built.
 */
import { html, useEffect, useLayoutEffect, useMemo, useRef, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import {
  ACTIVITY_MAX, ACTIVITY_TOPIC, applyActivity, applyBacklog, sessionTitles,
} from "../../state/activity.js";
import { ActivityRow } from "./activity-row.js";

const BACKLOG = 200;
const PAGE = 200;
const FLUSH_MS = 100;

/** Props: stream ({follow}) from lib/stream.js, onClose(). */
export function ActivityView({ stream, onClose }) {
  const [events, setEvents] = useState(null); // newest first; null until the backlog came
  const [error, setError] = useState("");
  const [shown, setShown] = useState(PAGE);
  const dialog = useRef(null);
  const pending = useRef([]);
  const timer = useRef(null);
  const frame = useRef(0);
  const lastFlush = useRef(0);
  const loading = useRef(null);

  const flush = () => {
    timer.current = null;
    frame.current = 0;
    lastFlush.current = performance.now();
    const batch = pending.current;
    pending.current = [];
    if (batch.length) setEvents((list) => applyActivity(list || [], batch));
  };
  const schedule = () => {
    if (timer.current || frame.current) return;
    const wait = Math.max(0, FLUSH_MS - (performance.now() - lastFlush.current));
    timer.current = setTimeout(() => {
      timer.current = null;
      frame.current = requestAnimationFrame(flush);
    }, wait);
  };
  const load = () => {
    if (loading.current) return;
    const ctrl = new AbortController();
    loading.current = ctrl;
    getJSON(`/api/activity?limit=${BACKLOG}`, { signal: ctrl.signal }).then((d) => {
      loading.current = null;
      setEvents((list) => applyBacklog(list || [], d && d.events));
      setError("");
    }, (e) => {
      loading.current = null;
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not load the activity");
      setEvents((list) => list || []);
    });
  };

  useEffect(() => {
    load();
    return () => {
      if (loading.current) loading.current.abort();
      clearTimeout(timer.current);
      cancelAnimationFrame(frame.current);
    };
  }, []);
  useEffect(() => {
    if (!stream) return undefined;
    return stream.follow(ACTIVITY_TOPIC, {
      onActivity: (ev) => {
        const list = pending.current;
        list.push(ev);
        if (list.length > ACTIVITY_MAX) list.splice(0, list.length - ACTIVITY_MAX);
        schedule();
      },
      onGap: load,
    });
  }, [stream]);

  useLayoutEffect(() => {
    if (dialog.current) dialog.current.focus({ preventScroll: true });
    // Closing gives the focus back to the top bar's button, unless the user moved it elsewhere;
    // in a microtask: once this render is committed, the page is no longer inert.
    const own = dialog.current;
    return () => Promise.resolve().then(() => {
      const active = document.activeElement;
      const opener = document.querySelector('button[data-testid="open-activity"]');
      if (opener && (!active || active === document.body || (own && own.contains(active)))) {
        opener.focus();
      }
    });
  }, []);

  const onKeyDown = (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  };
  const list = events || [];
  const rows = list.slice(0, shown);
  const titles = useMemo(() => sessionTitles(list), [list]);
  return html`<div class="backdrop" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <section class="conversation activity" role="dialog" aria-modal="true" aria-labelledby="activity-title"
        data-testid="activity" tabindex="-1" ref=${dialog} onKeyDown=${onKeyDown}>
      <header class="conv-head">
        <div class="conv-title">
          <h2 id="activity-title">Activity</h2>
          <div class="conv-meta">
            <span data-testid="activity-count" data-count=${list.length}>${events ? `${list.length} events` : "Loading…"}</span>
            <span>every hook event and typed prompt, newest first</span>
          </div>
        </div>
        <button type="button" class="icon-button close" data-testid="close-activity"
          aria-label="Close activity" title="Close (Esc)" onClick=${onClose}>×</button>
      </header>
      <div class="conv-scroll">
        ${error && html`<p class="conv-error" role="alert">${error}</p>`}
        ${events && !list.length && !error && html`<p class="muted conv-note">No activity yet: hook events and typed prompts show here as they happen.</p>`}
        <ol class="activity-list" data-testid="activity-list">
          ${rows.map((ev) => html`<${ActivityRow} key=${ev.id} event=${ev}
            title=${titles.get(ev.session_id) || ev.title || ""} />`)}
        </ol>
        ${list.length > rows.length && html`<button type="button" class="load-earlier" data-testid="activity-more"
            onClick=${() => setShown(shown + PAGE)}>Show older (${list.length - rows.length} more)</button>`}
      </div>
    </section>
  </div>`;
}
