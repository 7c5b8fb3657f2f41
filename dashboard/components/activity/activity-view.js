/**
 * The Activity view (a modal panel opened from the top bar): every hook event of every session and
 * machine, and every prompt typed into Claude Code (its history.jsonl), newest first. The backlog
 * comes from GET /api/activity?limit=200, then the stream's `activity` events
 * (`stream.follow(ACTIVITY_TOPIC)`, lib/stream.js); after a reconnect (onGap) the backlog is
 * fetched again and merged by id (state.applyBacklog). Live events are collected and rendered in
 * batches, at most every FLUSH_MS and on an animation frame, so a burst of hundreds of events
 * costs a few renders, not hundreds; the rows are memoised and only the first `shown` are built.
 */
import { html, useEffect, useMemo, useRef, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import {
  ACTIVITY_MAX, ACTIVITY_TOPIC, applyActivity, applyBacklog, sessionTitles,
} from "../../state/activity.js";
import { Panel } from "../common/panel.js";
import { ActivityRow } from "./activity-row.js";

const BACKLOG = 200;
const PAGE = 200;
const FLUSH_MS = 100;

/** Props: stream ({follow}) from lib/stream.js, onClose(). */
export function ActivityView({ stream, onClose }) {
  const [events, setEvents] = useState(null); // newest first; null until the backlog came
  const [error, setError] = useState("");
  const [shown, setShown] = useState(PAGE);
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

  const list = events || [];
  const rows = list.slice(0, shown);
  const titles = useMemo(() => sessionTitles(list), [list]);
  return html`<${Panel} testid="activity" className="activity" titleId="activity-title" title="Activity"
      meta=${html`<span data-testid="activity-count" data-count=${list.length}>${events ? `${list.length} events` : "Loading…"}</span>
        <span>every hook event and typed prompt, newest first</span>`}
      closeName="activity" onClose=${onClose} opener='button[data-testid="open-activity"]'>
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
  </${Panel}>`;
}
