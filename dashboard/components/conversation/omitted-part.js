/**
 * A part of a message that the server sent as a placeholder because it is over 64 KB (a message's
 * text or thinking, a tool call's input or output): "Input of 120 KB not loaded — Load". The click
 * fetches the whole value (lib/api.js fetchPart) and hands it to `onLoaded`, which shows it as
 * text like the rest; a failure is shown beside the button, which stays to try again.
 */
import { html, useContext, useEffect, useRef, useState } from "../../lib/preact.js";
import { fetchPart } from "../../lib/api.js";
import { formatBytes } from "../../state/text.js";
import { SubagentContext } from "../tools/subagent-context.js";

/** Props: what ("Input", "Output", "Text", "Thinking"), bytes, field, sessionId, messageId, callId?, onLoaded(value). */
export function OmittedPart({ what, bytes, field, sessionId, messageId, callId = "", onLoaded }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const subagent = useContext(SubagentContext); // a part of a subagent's transcript (tools/subagent-view.js)
  const alive = useRef(true);
  useEffect(() => () => { alive.current = false; }, []);
  const load = async () => {
    setBusy(true);
    setError("");
    try {
      const value = await fetchPart(sessionId, messageId, callId, field, undefined, subagent);
      if (alive.current) onLoaded(value);
    } catch (e) {
      if (alive.current) setError((e && e.message) || "Could not load it");
    } finally {
      if (alive.current) setBusy(false);
    }
  };
  return html`<div class="part-omitted" data-testid="part-omitted" data-field=${field}>
    <span>${what} of ${formatBytes(bytes)} not loaded — </span>
    <button type="button" class="link-button" data-testid="load-part" data-field=${field}
      disabled=${busy} onClick=${load}>${busy ? "Loading…" : "Load"}</button>
    ${error && html`<span class="part-error" role="alert">${error}</span>`}
  </div>`;
}

/** Tell whether a placeholder's `<field>_omitted` says bytes were left out. */
export const isOmitted = (n) => Number.isFinite(Number(n)) && Number(n) > 0;
