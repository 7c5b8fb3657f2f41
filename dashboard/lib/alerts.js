/**
 * Opt-in alerts when a session starts needing attention: a desktop notification and a short
 * WebAudio beep (no audio file). Both are off until the user turns them on with a click; the
 * choices persist in localStorage. Permission is only ever requested from a click handler.
 */

const PREFS_KEY = "amc.alerts.v1";

/** Return the stored opt-ins: {notify: bool, sound: bool}. */
export function loadPrefs() {
  try {
    const p = JSON.parse(localStorage.getItem(PREFS_KEY) || "{}");
    return { notify: p.notify === true, sound: p.sound === true };
  } catch (e) {
    return { notify: false, sound: false };
  }
}

/** Store the opt-ins (quietly does nothing when storage is unavailable). */
export function savePrefs(prefs) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify({ notify: !!prefs.notify, sound: !!prefs.sound }));
  } catch (e) {
    /* private mode or storage full: the choice lasts for this page only */
  }
}

/** Tell whether this browser can show desktop notifications at all. */
export const notificationsSupported = () => typeof window.Notification === "function";

/** Return the notification permission: "granted" | "denied" | "default" | "unsupported". */
export const notificationPermission = () =>
  notificationsSupported() ? window.Notification.permission : "unsupported";

/** Ask for notification permission (call from a click); resolve to the resulting permission. */
export async function requestNotifications() {
  if (!notificationsSupported()) return "unsupported";
  if (window.Notification.permission !== "default") return window.Notification.permission;
  try {
    return await window.Notification.requestPermission();
  } catch (e) {
    return window.Notification.permission;
  }
}

/** Show a desktop notification (only with permission); clicking it focuses the page. */
export function notify(title, body, tag) {
  if (notificationPermission() !== "granted") return;
  try {
    const n = new window.Notification(title, { body, tag, renotify: false });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch (e) {
    /* some platforms only allow notifications from a service worker: stay quiet */
  }
}

let audio = null;

/** Create or resume the AudioContext (call from a click so browsers let it play later). */
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/** Play a short two-tone beep. */
export function beep() {
  const ctx = audio || unlockAudio();
  if (!ctx || ctx.state === "closed") return;
  const start = ctx.currentTime + 0.01;
  [880, 660].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    const t = start + i * 0.16;
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.14);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.15);
  });
}
