/**
 * Tokens, cost and context (docs/usage.md) on cards, in the panel and in the Usage view. The
 * numbers may come from another machine, so every one is checked (finite, non-negative); a cost
 * is never guessed: an unknown price says so. Also the per-day chart's bars as SVG geometry.
 */

import { clean, parseTime } from "./text.js";

const tokenCount = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * Return a session's or history entry's `usage` as checked numbers, or null when there is none:
 * {model, input, output, cacheRead, cacheWrite, tokens, cost (USD or null: unknown price),
 * unpriced (model names), context, window, contextPct (0-100, or null), turns, wallMs}.
 */
export function usageOf(u) {
  if (!u || typeof u !== "object") return null;
  const input = tokenCount(u.input_tokens);
  const output = tokenCount(u.output_tokens);
  const cacheRead = tokenCount(u.cache_read_tokens);
  const cacheWrite = tokenCount(u.cache_write_tokens);
  const cost = typeof u.cost_usd === "number" && Number.isFinite(u.cost_usd) && u.cost_usd >= 0 ? u.cost_usd : null;
  const context = tokenCount(u.context_tokens);
  const ctxWindow = tokenCount(u.context_window);
  const wall = parseTime(u.last_at) - parseTime(u.first_at);
  return {
    model: clean(u.model, 80), input, output, cacheRead, cacheWrite,
    tokens: input + output + cacheRead + cacheWrite, cost,
    unpriced: Array.isArray(u.unpriced_models) ? u.unpriced_models.slice(0, 5).map((m) => clean(m, 80)) : [],
    context, window: ctxWindow, contextPct: ctxWindow ? Math.min(100, Math.round((100 * context) / ctxWindow)) : null,
    turns: tokenCount(u.turns), wallMs: Number.isFinite(wall) && wall >= 0 ? wall : NaN,
  };
}

/** Format a token count: 950, "12.3k", "4.56M" (never negative, never NaN). */
export function formatTokens(n) {
  const v = tokenCount(n);
  if (v < 1000) return String(v);
  if (v < 1e6) return `${(v / 1000).toFixed(v < 1e4 ? 2 : 1).replace(/\.?0+$/, "")}k`;
  if (v < 1e9) return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1).replace(/\.?0+$/, "")}M`;
  return `${(v / 1e9).toFixed(2).replace(/\.?0+$/, "")}B`;
}

/** Format USD: "$12.34", "$0.42", "$0.00056" (two significant digits under a cent), "unknown price" for null. */
export function formatCost(usd) {
  if (typeof usd !== "number" || !Number.isFinite(usd) || usd < 0) return "unknown price";
  if (usd === 0) return "$0.00";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2).replace(/0+$/, "")}`;
}

/** Return the cost text of a usage: "$0.42", "unknown price", or "$0.42 + unknown price" when part is unpriced. */
export function costText(u) {
  if (!u) return "";
  if (u.cost === null || (u.cost === 0 && u.unpriced && u.unpriced.length)) return "unknown price";
  return u.unpriced && u.unpriced.length ? `${formatCost(u.cost)} + unknown price` : formatCost(u.cost);
}

/**
 * Return the bars of the per-day chart: one per day from the first to the last day in `days`
 * (days without usage are 0), `value` the day's cost (USD) or tokens, and the SVG geometry in a
 * `width` x `height` box: [{day, value, x, y, w, h}], plus the largest value.
 */
export function dayBars(days, metric, width, height) {
  const byDay = new Map();
  for (const d of days || []) {
    if (typeof d.day === "string" && /^\d{4}-\d\d-\d\d$/.test(d.day)) byDay.set(d.day, d);
  }
  const names = [...byDay.keys()].sort();
  if (!names.length) return { bars: [], max: 0 };
  const all = [];
  const end = Date.parse(`${names[names.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${names[0]}T00:00:00Z`); t <= end && all.length < 3700; t += 86400000) {
    all.push(new Date(t).toISOString().slice(0, 10));
  }
  const valueOf = (d) => {
    if (!d) return 0;
    if (metric === "cost") return typeof d.cost_usd === "number" && d.cost_usd > 0 ? d.cost_usd : 0;
    return tokenCount(d.input_tokens) + tokenCount(d.output_tokens) + tokenCount(d.cache_read_tokens) + tokenCount(d.cache_write_tokens);
  };
  const values = all.map((day) => valueOf(byDay.get(day)));
  const max = Math.max(0, ...values);
  const slot = width / all.length;
  const bars = all.map((day, i) => {
    const h = max > 0 ? (values[i] / max) * height : 0;
    return { day, value: values[i], x: i * slot + slot * 0.1, y: height - h, w: Math.max(1, slot * 0.8), h };
  });
  return { bars, max };
}
