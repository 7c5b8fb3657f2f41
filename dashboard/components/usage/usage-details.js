/**
 * A session's usage in full, for the conversation panel and a past session's page: model,
 * tokens by kind, cost, context used of the window, model turns and wall time.
 */
import { html } from "../../lib/preact.js";
import { formatDuration } from "../../state/text.js";
import { costText, formatTokens, usageOf } from "../../state/usage.js";
import { ContextBar } from "./usage-context.js";

/** Props: usage (Session.usage or a history entry's; may be null). */
export function UsageDetails({ usage }) {
  const u = usageOf(usage);
  if (!u) return null;
  const item = (testid, label, value, title) => html`<span class="ud-item" data-testid=${testid} title=${title}>
    <span class="ud-label">${label}</span> <span class="ud-value">${value}</span></span>`;
  return html`<div class="usage-details" data-testid="usage-details">
    ${u.model && item("usage-model", "model", u.model)}
    ${item("usage-total-tokens", "tokens", formatTokens(u.tokens), `${u.tokens} tokens in all`)}
    ${item("usage-input", "in", formatTokens(u.input), "input that was neither read from nor written to a cache")}
    ${item("usage-output", "out", formatTokens(u.output), "output, reasoning included")}
    ${item("usage-cache", "cache", `${formatTokens(u.cacheRead)} read · ${formatTokens(u.cacheWrite)} written`)}
    ${item("usage-cost", "cost", costText(u), u.unpriced.length ? `No price known for ${u.unpriced.join(", ")}` : "at the published API prices (docs/usage.md)")}
    ${item("usage-turns", "turns", String(u.turns), "model responses")}
    ${Number.isFinite(u.wallMs) && u.wallMs > 0 && item("usage-wall", "wall time", formatDuration(u.wallMs), "from the first to the last response")}
    <${ContextBar} u=${u} />
  </div>`;
}
