/**
 * The one module that keeps the dashboard's copy of /api/state fresh over time.
 *
 * It polls at most every `interval` ms (2 s), never overlaps requests, pauses while the page is
 * hidden (and polls at once when it comes back), polls at once after a confirmed answer (the
 * CHANGED_EVENT of lib/api.js), and after a failure waits twice as long each time up to
 * `maxDelay` (30 s). It reports the connection as "connecting" | "connected" | "disconnected".
 * A future server-sent-events transport replaces this module alone: keep the signature.
 */
import { CHANGED_EVENT, getJSON } from "./api.js";

const REQUEST_TIMEOUT_MS = 10000;

/**
 * Start watching the server's state; return a function that stops (and aborts any request).
 * `onState(state)` gets every successful answer; `onConnection(status, error?)` every change.
 */
export function watchState({ onState, onConnection, interval = 2000, maxDelay = 30000,
                             fetchState = (signal) => getJSON("/api/state", { signal }) }) {
  let stopped = false;
  let timer = null;
  let inflight = null;
  let failures = 0;
  let lastStart = -Infinity;
  let connection = "connecting";

  const report = (status, error) => {
    if (status !== connection || error) onConnection(status, error);
    connection = status;
  };
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(0, ms));
  };

  async function tick() {
    timer = null;
    if (stopped || inflight || document.hidden) return; // visibilitychange resumes us
    lastStart = Date.now();
    const ctrl = new AbortController();
    inflight = ctrl;
    const timeout = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    try {
      const state = await fetchState(ctrl.signal);
      if (stopped) return;
      failures = 0;
      report("connected");
      onState(state);
    } catch (e) {
      if (stopped) return;
      failures += 1;
      const timedOut = e && e.name === "AbortError";
      report("disconnected", timedOut ? new Error("The AMC server did not answer in time") : e);
    } finally {
      clearTimeout(timeout);
      inflight = null;
    }
    if (!stopped) schedule(failures ? Math.min(interval * 2 ** failures, maxDelay) : interval);
  }

  function onVisibility() {
    if (stopped || document.hidden || inflight) return;
    // Back in view: poll now, but never sooner than `interval` after the previous poll.
    schedule(interval - (Date.now() - lastStart));
  }

  function onChanged() {
    // An answer was just confirmed: show where the session went without waiting for the tick.
    if (!stopped && !document.hidden && !inflight && !failures) schedule(0);
  }

  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener(CHANGED_EVENT, onChanged);
  schedule(0);
  return function stop() {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener(CHANGED_EVENT, onChanged);
    if (inflight) inflight.abort();
  };
}
