/**
 * One transcript message: who and when, then thinking (collapsed), the text (assistant text as
 * safe Markdown, user text plain), image placeholders and tool calls. Marks failed API turns,
 * interrupted ones, and a prompt asked again after a rewind. A text over 64 KB arrives as its start, with "Load" for the whole.
 */
import { html, useState } from "../../lib/preact.js";
import { formatClock } from "../../state/text.js";
import { LongText } from "../common/long-text.js";
import { ToolCall } from "../tools/tool-call.js";
import { ThinkingBlock } from "./thinking-block.js";
import { OmittedPart, isOmitted } from "./omitted-part.js";
import { ToolImage } from "../tools/tool-image.js";

const KIND_LABELS = { command: "command", bash: "shell", queued: "queued", channel: "from AMC" };

/** Props: message (see docs/api.md Message), agentName ("Claude" | "Codex"), sessionId (for loading big tool parts). */
export function MessageItem({ message: m, agentName, sessionId }) {
  const isUser = m.role === "user";
  const images = Array.isArray(m.images) ? m.images : [];
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  const kind = isUser && KIND_LABELS[m.kind];
  const failed = m.is_error || m.api_error;
  const [full, setFull] = useState(null); // {bytes, text}: the whole text of that placeholder, once loaded
  const loaded = !!full && full.bytes === m.content_omitted;
  const content = loaded ? full.text : m.content;
  const textOmitted = isOmitted(m.content_omitted) && !loaded;
  const reply = !isUser && typeof m.channel_reply === "string" ? m.channel_reply : "";
  return html`<article class=${`msg ${isUser ? "from-user" : "from-agent"}${failed ? " failed" : ""}${m.kind === "channel" || reply ? " chat" : ""}`}
      data-testid="message" data-role=${m.role} data-message-id=${m.id} data-kind=${m.kind || (reply ? "channel_reply" : undefined)}>
    <header class="msg-head">
      <span class="who">${isUser ? "You" : agentName}</span>
      ${kind && html`<span class="badge">${kind}</span>`}
      ${failed && html`<span class="badge error">API error</span>`}
      ${m.interrupted && html`<span class="badge warn">interrupted</span>`}
      ${isUser && m.rewound > 0 && html`<span class="badge" data-testid="rewound"
          title=${`You went back to here and asked again: the ${m.rewound} messages of the earlier branch are hidden (they stay in the transcript file)`}>rewound</span>`}
      <span class="spacer"></span>
      <time data-testid="message-time" datetime=${m.timestamp || undefined} title=${m.timestamp || undefined}>
        ${formatClock(m.timestamp)}</time>
    </header>
    <div class="msg-body" data-testid="message-body">
      ${m.thinking && html`<${ThinkingBlock} text=${m.thinking} omitted=${m.thinking_omitted}
          sessionId=${sessionId} messageId=${m.id} />`}
      ${content && html`<${LongText} text=${content} markdown=${!isUser} />`}
      ${reply && html`<div class="channel-reply" data-testid="channel-reply">
          <span class="badge">reply to AMC</span><${LongText} text=${reply} markdown=${true} /></div>`}
      ${textOmitted && html`<${OmittedPart} what="Text" bytes=${m.content_omitted} field="content"
          sessionId=${sessionId} messageId=${m.id} onLoaded=${(v) => setFull({ bytes: m.content_omitted, text: String(v == null ? "" : v) })} />`}
      ${images.map((img, i) => html`<${ToolImage} key=${i} image=${img} index=${i} sessionId=${sessionId}
          messageId=${m.id} />`)}
      ${calls.map((c, i) => html`<${ToolCall} key=${c.id || i} call=${c} sessionId=${sessionId} messageId=${m.id} />`)}
    </div>
  </article>`;
}
