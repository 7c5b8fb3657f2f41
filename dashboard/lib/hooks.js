/**
 * Small shared hooks: `useAction` runs one request at a time for a card or panel and keeps the
 * error to show (never fail silently); `useNow` is a clock that re-renders only its users, all
 * driven by one shared timer.
 */
import { useState, useEffect, useRef, useCallback } from "./preact.js";

/**
 * Return {busy, error, run, clearError}: `run(fn)` awaits fn() unless a run is already in flight,
 * keeping `busy` true meanwhile and `error` set to the thrown message; it resolves true on success.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const inflight = useRef(false);
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);
  const run = useCallback(async (fn) => {
    if (inflight.current) return false;
    inflight.current = true;
    setBusy(true);
    setError("");
    try {
      await fn();
      return true;
    } catch (e) {
      if (alive.current) setError((e && e.message) || "Something went wrong");
      return false;
    } finally {
      inflight.current = false;
      if (alive.current) setBusy(false);
    }
  }, []);
  const clearError = useCallback(() => setError(""), []);
  return { busy, error, run, clearError };
}

const listeners = new Set();
let ticker = null;

function subscribe(fn) {
  listeners.add(fn);
  if (!ticker) ticker = setInterval(() => listeners.forEach((l) => l(Date.now())), 1000);
  return () => {
    listeners.delete(fn);
    if (!listeners.size) {
      clearInterval(ticker);
      ticker = null;
    }
  };
}

/** Return the local time in ms, updated every second (one shared interval for all users). */
export function useNow() {
  const [now, setNow] = useState(Date.now);
  useEffect(() => subscribe(setNow), []);
  return now;
}
