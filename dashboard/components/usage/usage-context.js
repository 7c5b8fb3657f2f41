/**
 * How much of the model's context window the last turn used: a bar and the percentage in words
 * (never colour alone). Shared by the card (usage-card.js) and the panels (usage-details.js).
 */
import { html } from "../../lib/preact.js";
import { formatTokens } from "../../state/usage.js";

/** Props: u (state.usageOf of a usage), label (text before the percentage). */
export function ContextBar({ u, label = "context" }) {
  if (!u || u.contextPct === null) return null;
  const pct = u.contextPct;
  const words = u.context && pct === 0 ? "<1%" : `${pct}%`;
  const level = pct >= 90 ? " full" : pct >= 70 ? " high" : "";
  return html`<span class=${`ctx${level}`} data-testid="usage-context" role="meter" aria-valuemin="0"
      aria-valuemax="100" aria-valuenow=${pct} aria-label="Context window used"
      title=${`${formatTokens(u.context)} of ${formatTokens(u.window)} tokens of context (the last turn)`}>
    <span class="ctx-label">${label}</span>
    <span class="ctx-bar" aria-hidden="true"><span class="ctx-fill" style=${{ width: `${pct}%` }}></span></span>
    <span class="ctx-pct" data-testid="usage-context-pct">${words}</span>
  </span>`;
}
