/**
 * The compact usage line on a session card: tokens so far, cost (or "unknown price") and the
 * context bar. Live: the server sends a new `usage` with the session as its transcript grows.
 */
import { html } from "../../lib/preact.js";
import { costText, formatTokens, usageOf } from "../../state/usage.js";
import { ContextBar } from "./usage-context.js";

/** Props: usage (Session.usage, may be null or from another machine). */
export function CardUsage({ usage }) {
  const u = usageOf(usage);
  if (!u || !(u.tokens || u.turns)) return null;
  const detail = `input ${u.input} · output ${u.output} · cache read ${u.cacheRead} · cache write ${u.cacheWrite}`;
  return html`<p class="card-usage" data-testid="card-usage" data-tokens=${u.tokens}
      data-cost=${u.cost === null ? "unknown" : String(u.cost)}>
    <span data-testid="usage-tokens" title=${detail}>${formatTokens(u.tokens)} tokens</span>
    <span class=${`usage-cost${u.cost === null ? " unknown" : ""}`} data-testid="usage-cost"
      title=${u.unpriced.length ? `No price known for ${u.unpriced.join(", ")}` : undefined}>${costText(u)}</span>
    <${ContextBar} u=${u} />
  </p>`;
}
