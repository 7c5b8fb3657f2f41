/**
 * The one module that keeps the dashboard's copy of the server's state fresh over time (and the
 * only one that fetches over time): a server-sent-events stream, with polling as its fallback.
 *
 * Stream: one EventSource on GET /api/stream. Its first event is a `snapshot` (what /api/state
 * says); then `session`, `removed`, `setup` and, for the followed sessions, `messages`, each
 * applied through the pure functions of state/server.js (and state/machines.js). The browser
 * reconnects by itself, sending the last event id, and the server replays exactly what was
 * missed (or sends a fresh snapshot).
 * Following a conversation (`follow(id, listener)`) reopens the stream with the new follow set and
 * `last_event_id`, so nothing is missed or seen twice.
 *
 * Fallback: two stream errors without a delivered event between them mean the stream does not
 * work here (a proxy, an older server, the server gone; a connection that does not get going in
 * 10 s counts as an error too): poll /api/state instead, every `interval` ms (2 s), one request at
 * a time, with If-None-Match (a 304 keeps the last body), paused while the page is hidden, at
 * once after a confirmed answer (CHANGED_EVENT), 4, 8, 16, 30 s apart after failures. While
 * polling, the stream is tried again after 5 s, then 10, 20 and every 30 s, and at once when a
 * poll succeeds after failed ones; its first event ends polling.
 *
 * It reports the connection as "connecting" | "live" | "reconnecting" | "polling", with an error
 * while the server cannot be reached (the banner), and tells followers when messages may have
 * been missed (`onGap`: a snapshot after a reconnect, a follow the server starts reading only now,
 * a changed conversation_mtime_ns while polling) so they fetch `?after=` their last message.
 */
import { CHANGED_EVENT, fetchState } from "./api.js";
import { applyMachines } from "../state/machines.js";
import {
  applyRemoved, applySession, applySetup, applySnapshot, changedConversations,
} from "../state/server.js";
import { ACTIVITY_TOPIC } from "../state/activity.js";

export const STREAM_PATH = "/api/stream";
const EVENTS = ["snapshot", "session", "removed", "setup", "machine", "messages", "activity"];
const FAILURES_TO_POLL = 2;
const REOPEN_MS = 2000;        // when the browser gave up on a stream itself (as the server's retry:)
const ESTABLISH_MS = 10000;    // a connection that has not opened (or, fresh, not delivered) by then failed
const PROBE_FIRST_MS = 5000;   // while polling: first try of the stream, doubling...
const PROBE_MAX_MS = 30000;    // ...up to every 30 s
const REQUEST_TIMEOUT_MS = 10000;
const HIDDEN_DELIVERY_MS = 100; // a hidden page gets the state this often at most (no frames)
const CLOSED = 2;              // EventSource.CLOSED

/**
 * Return the stream's URL for a follow set and, when resuming, the last event id seen. Never a
 * token: where reads need one, EventSource sends the login's same-origin session cookie.
 */
export function streamUrl(follows, lastEventId) {
  const query = new URLSearchParams();
  for (const id of follows) query.append("follow", id);
  if (lastEventId) query.set("last_event_id", lastEventId);
  const q = query.toString();
  return q ? `${STREAM_PATH}?${q}` : STREAM_PATH;
}

/**
 * Start watching the server; return {stop, follow, unfollow}. `onState(state)` gets the state
 * after every change ({sessions, server_time, setup}; server_time changes only with snapshots and
 * polls); `onConnection(status, error)` every change of status or error (error: an Error while
 * the server cannot be reached, else null). `follow(sessionId, {onMessages, onGap})` returns the
 * function that unfollows.
 */
export function watchServer({ onState, onConnection, interval = 2000, maxDelay = 30000,
                              EventSourceImpl = typeof EventSource === "function" ? EventSource : null }) {
  let stopped = false;
  let state = null;
  let lastId = "";             // id of the last event seen (for reopening without a gap)
  let status = "connecting";
  let lastError = null;
  const listeners = new Map(); // session id -> Set of {onMessages, onGap}

  let source = null;           // {es, follows, probe}: the one EventSource
  let failures = 0;            // stream errors since the last delivered event
  let streamed = new Set();    // followed sessions whose messages the current stream delivers
  let reopenTimer = null;
  let followTimer = null;

  let polling = false;
  let pollTimer = null;
  let inflight = null;
  let pollFailures = 0;
  let lastStart = -Infinity;
  let etag = "";
  let probeTimer = null;
  let probeDelay = PROBE_FIRST_MS;

  const report = (next, error = null) => {
    if (next === status && !error && !lastError) return;
    status = next;
    lastError = error;
    onConnection(next, error);
  };
  // One onState (one render of the board) per animation frame however many events arrive: a
  // cold start sends one `session` event per session as its usage is read (5,000 in a few
  // seconds), and one render each froze the page. A hidden page has no frames: a short timer.
  let scheduled = false;
  const deliver = () => {
    scheduled = false;
    if (!stopped) onState(state);
  };
  const publish = (next) => {
    if (next === state) return;
    state = next;
    if (scheduled) return;
    scheduled = true;
    if (typeof requestAnimationFrame === "function" && !document.hidden) requestAnimationFrame(deliver);
    else setTimeout(deliver, HIDDEN_DELIVERY_MS);
  };
  const each = (ids, fn) => {
    for (const id of ids) for (const l of [...(listeners.get(id) || [])]) fn(l);
  };
  const gap = (ids) => each(ids, (l) => l.onGap && l.onGap());

  // -- the stream -----------------------------------------------------------------------------

  function openStream(resume) {
    closeStream();
    const follows = new Set(listeners.keys());
    const resumed = resume && !!lastId;
    const es = new EventSourceImpl(streamUrl(follows, resumed ? lastId : ""));
    const conn = { es, follows, resumed, probe: polling, got: false, timer: null };
    source = conn;
    es.onopen = () => source === conn && onOpen(conn);
    es.onerror = () => source === conn && onError(conn);
    for (const type of EVENTS) es.addEventListener(type, (e) => source === conn && onEvent(conn, type, e));
    deadline(conn);
  }

  /**
   * A connection must get going in time: a fresh one delivers its snapshot at once, a resumed one
   * opens (and may have nothing to say yet). One that hangs, or a proxy that buffers the stream
   * and never delivers, counts as a failed attempt.
   */
  function deadline(conn) {
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      if (source !== conn) return;
      conn.es.close();
      onError(conn);
    }, ESTABLISH_MS);
  }

  function closeStream() {
    clearTimeout(reopenTimer);
    reopenTimer = null;
    if (source) {
      clearTimeout(source.timer);
      source.es.close();
    }
    source = null;
  }

  function onOpen(conn) {
    const established = conn.resumed || conn.got; // else the snapshot must follow: wait for it
    if (!established) return;
    clearTimeout(conn.timer);
    if (conn.probe) return; // from polling: live once it delivers
    report("live");
    // The server starts reading a newly followed transcript now: whatever was appended since the
    // panel fetched it would be missed. (A fresh connection sends a snapshot: a gap for all.)
    const fresh = [...conn.follows].filter((id) => !streamed.has(id));
    streamed = new Set(conn.follows);
    gap(fresh);
  }

  function onError(conn) {
    clearTimeout(conn.timer);
    if (conn.probe) {
      closeStream();
      scheduleProbe();
      return;
    }
    failures += 1;
    if (failures >= FAILURES_TO_POLL) {
      startPolling();
      return;
    }
    report("reconnecting", new Error("The live connection to the AMC server failed"));
    // The browser retries by itself (in time, too) unless the answer was not a stream.
    if (conn.es.readyState === CLOSED) reopenTimer = setTimeout(() => openStream(true), REOPEN_MS);
    else deadline(conn);
  }

  function onEvent(conn, type, e) {
    if (e.lastEventId) lastId = e.lastEventId;
    conn.got = true;
    clearTimeout(conn.timer);
    failures = 0;
    if (conn.probe) {
      conn.probe = false;
      stopPolling();
      streamed = new Set(conn.follows);
    }
    report("live");
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      console.warn(`AMC: ignored a ${type} event that is not JSON`);
      return;
    }
    if (type === "snapshot") {
      streamed = new Set(conn.follows);
      publish(applySnapshot(state, data));
      gap(listeners.keys());
    } else if (type === "session") {
      publish(applySession(state, data));
    } else if (type === "removed") {
      publish(applyRemoved(state, data));
    } else if (type === "setup") {
      publish(applySetup(state, data));
    } else if (type === "machine") {
      publish(applyMachines(state, data && data.machines));
    } else if (type === "messages" && data && data.session_id) {
      each([data.session_id], (l) => l.onMessages && l.onMessages(data));
    } else if (type === "activity" && data) {
      each([ACTIVITY_TOPIC], (l) => l.onActivity && l.onActivity(data)); // follow(ACTIVITY_TOPIC, ...)
    }
  }

  // -- following conversations ------------------------------------------------------------------

  function follow(sessionId, listener = {}) {
    let set = listeners.get(sessionId);
    if (!set) {
      set = new Set();
      listeners.set(sessionId, set);
      followsChanged();
    }
    set.add(listener);
    return () => unfollow(sessionId, listener);
  }

  function unfollow(sessionId, listener) {
    const set = listeners.get(sessionId);
    if (!set) return;
    if (listener) set.delete(listener);
    else set.clear();
    if (!set.size) {
      listeners.delete(sessionId);
      followsChanged();
    }
  }

  function followsChanged() {
    // Coalesced: opening a panel and closing another in one render reopens the stream once.
    if (stopped || followTimer) return;
    followTimer = setTimeout(() => {
      followTimer = null;
      // While polling (or waiting to reopen) the next stream opens with the current set anyway.
      if (stopped || polling || !source) return;
      const now = [...listeners.keys()];
      if (now.length === source.follows.size && now.every((id) => source.follows.has(id))) return;
      openStream(true);
    }, 0);
  }

  // -- polling ----------------------------------------------------------------------------------

  function startPolling() {
    closeStream();
    polling = true;
    failures = 0;
    etag = ""; // the first poll gets a whole body, whatever the stream delivered before
    probeDelay = PROBE_FIRST_MS;
    report("polling", lastError); // the banner stays until a poll succeeds
    schedulePoll(0);
    scheduleProbe();
  }

  function stopPolling() {
    polling = false;
    pollFailures = 0;
    clearTimeout(pollTimer);
    clearTimeout(probeTimer);
    pollTimer = probeTimer = null;
    if (inflight) inflight.abort();
    inflight = null;
  }

  function schedulePoll(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(tick, Math.max(0, ms));
  }

  function scheduleProbe(ms = probeDelay) {
    clearTimeout(probeTimer);
    probeTimer = setTimeout(() => {
      probeTimer = null;
      if (!stopped && polling && !source) openStream(false);
    }, ms);
    if (ms) probeDelay = Math.min(probeDelay * 2, PROBE_MAX_MS);
  }

  async function tick() {
    pollTimer = null;
    if (stopped || !polling || inflight || document.hidden) return; // visibilitychange resumes us
    lastStart = Date.now();
    const ctrl = new AbortController();
    inflight = ctrl;
    const timeout = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    try {
      const answer = await fetchState({ etag, signal: ctrl.signal });
      if (inflight !== ctrl) return; // stopped, or the stream came back
      const recovered = pollFailures > 0;
      pollFailures = 0;
      if (!answer.notModified) {
        etag = answer.etag;
        const next = applySnapshot(state, answer.state);
        const changed = changedConversations(state && state.sessions, next.sessions, listeners.keys());
        publish(next);
        gap(changed);
      }
      report("polling");
      if (recovered && !source) scheduleProbe(0); // the server is back: maybe its stream too
    } catch (e) {
      if (inflight !== ctrl) return;
      pollFailures += 1;
      const timedOut = e && e.name === "AbortError";
      report("polling", timedOut ? new Error("The AMC server did not answer in time") : e);
    } finally {
      clearTimeout(timeout);
      if (inflight === ctrl) inflight = null;
    }
    if (!stopped && polling) {
      schedulePoll(pollFailures ? Math.min(interval * 2 ** pollFailures, maxDelay) : interval);
    }
  }

  function onVisibility() {
    if (stopped || !polling || document.hidden || inflight) return;
    // Back in view: poll now, but never sooner than `interval` after the previous poll.
    schedulePoll(interval - (Date.now() - lastStart));
  }

  function onChanged() {
    // An answer was just confirmed. Live, the change arrives by itself; polling, ask at once.
    if (!stopped && polling && !document.hidden && !inflight && !pollFailures) schedulePoll(0);
  }

  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener(CHANGED_EVENT, onChanged);
  if (EventSourceImpl) openStream(false);
  else startPolling();

  function stop() {
    stopped = true;
    closeStream();
    stopPolling();
    clearTimeout(followTimer);
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener(CHANGED_EVENT, onChanged);
  }

  return { stop, follow, unfollow };
}
