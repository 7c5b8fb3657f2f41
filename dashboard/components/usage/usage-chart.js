/**
 * The per-day bar chart of the Usage view, drawn by the page as SVG (no chart library): one bar
 * per day (days without usage stay empty), the largest value on the axis, the first and last
 * day below, and each bar's numbers in its tooltip and its data- attributes.
 */
import { html } from "../../lib/preact.js";
import { dayBars, formatCost, formatTokens } from "../../state/usage.js";

const W = 720;
const H = 160;
const PAD_TOP = 14;
const PAD_BOTTOM = 18;

/** Props: days (GET /api/usage `per_day`), metric ("cost" | "tokens"). */
export function UsageChart({ days, metric }) {
  const { bars, max } = dayBars(days, metric, W, H - PAD_TOP - PAD_BOTTOM);
  if (!bars.length) return html`<p class="muted" data-testid="usage-chart-empty">No usage in this period.</p>`;
  const fmt = (v) => (metric === "cost" ? formatCost(v) : `${formatTokens(v)} tokens`);
  return html`<svg class="usage-chart" data-testid="usage-chart" viewBox=${`0 0 ${W} ${H}`} role="img"
      aria-label=${`${metric === "cost" ? "Cost" : "Tokens"} per day, ${bars[0].day} to ${bars[bars.length - 1].day}; most ${fmt(max)}`}
      preserveAspectRatio="none">
    <line class="axis" x1="0" x2=${W} y1=${H - PAD_BOTTOM} y2=${H - PAD_BOTTOM} />
    <text class="axis-label" x="2" y="10">${fmt(max)}</text>
    ${bars.map((b) => html`<rect key=${b.day} class="bar" data-testid="usage-bar" data-day=${b.day}
        data-value=${String(b.value)} x=${b.x} y=${PAD_TOP + b.y} width=${b.w} height=${Math.max(b.h, b.value > 0 ? 1 : 0)}>
      <title>${b.day}: ${fmt(b.value)}</title></rect>`)}
    <text class="axis-label" x="2" y=${H - 4}>${bars[0].day}</text>
    ${bars.length > 1 && html`<text class="axis-label end" x=${W - 2} y=${H - 4} text-anchor="end">${bars[bars.length - 1].day}</text>`}
  </svg>`;
}
