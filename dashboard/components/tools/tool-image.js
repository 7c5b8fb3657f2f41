/**
 * Images of a conversation (a prompt's, a tool result's) as thumbnails fetched on demand: the
 * conversation JSON only says `{media_type, bytes}`; the picture comes from
 * `GET /api/conversation/<id>/image?message=&index=[&call=&subagent=]` (never a data: URL from
 * the transcript) once the thumbnail is scrolled into view, or when "Load image" is clicked.
 * Clicking a thumbnail shows it larger. An image the server refuses says so in its caption.
 */
import { html, useContext, useEffect, useRef, useState } from "../../lib/preact.js";
import { imageUrl } from "../../lib/api.js";
import { clean, formatBytes } from "../../state/text.js";
import { SubagentContext } from "./subagent-context.js";

/** Props: image ({media_type, bytes}), sessionId, messageId, index, callId? */
export function ToolImage({ image, sessionId, messageId, index, callId = "" }) {
  const subagent = useContext(SubagentContext);
  const box = useRef(null);
  const [state, setState] = useState("waiting"); // waiting | loading | loaded | failed
  const [big, setBig] = useState(false);
  const wanted = state !== "waiting";
  const want = () => setState((s) => (s === "waiting" ? "loading" : s));
  useEffect(() => {
    if (wanted || !box.current) return undefined;
    if (typeof IntersectionObserver !== "function") {
      want();
      return undefined;
    }
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) want();
    }, { rootMargin: "100px" });
    seen.observe(box.current);
    return () => seen.disconnect();
  }, [wanted]);
  const kind = clean(image && image.media_type, 80) || "unknown type";
  const label = `Image: ${kind}, ${formatBytes(image && image.bytes)}`;
  const src = imageUrl(sessionId, messageId, index, callId, subagent);
  return html`<figure class="image-ph thumb" data-testid="image-placeholder" data-state=${state} ref=${box}>
    ${wanted && state !== "failed" && html`<button type="button" class="thumb-button" data-testid="image-open"
        aria-pressed=${big ? "true" : "false"} title=${big ? "Show smaller" : "Show larger"} onClick=${() => setBig((b) => !b)}>
      <img data-testid="image-thumb" class=${big ? "big" : ""} src=${src} alt=${label} decoding="async"
        onLoad=${() => setState("loaded")} onError=${() => setState("failed")} />
    </button>`}
    ${!wanted && html`<button type="button" class="link-button" data-testid="image-load" onClick=${want}>Load image</button>`}
    <figcaption>${label}${state === "failed" ? html` — <span class="part-error" role="alert" data-testid="image-error">could not be shown</span>` : ""}</figcaption>
  </figure>`;
}

/** Props: images ([{media_type, bytes}]), sessionId, messageId, callId? */
export function ToolImages({ images, sessionId, messageId, callId = "" }) {
  return html`<div class="thumbs" data-testid="tool-images">
    ${images.map((img, i) => html`<${ToolImage} key=${i} image=${img} index=${i} sessionId=${sessionId}
        messageId=${messageId} callId=${callId} />`)}
  </div>`;
}
