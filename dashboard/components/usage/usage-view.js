/**
 * The Usage view (a panel opened from the top bar): tokens and cost of every session this
 * machine has (live and past), totals for a period, per day as an SVG bar chart
 * (usage-chart.js) and per project, from GET /api/usage?days=N. A cost that includes tokens of a
 * model without a known price says so ("+ unknown price", and which models), never a guess.
 */
import { html, useEffect, useState } from "../../lib/preact.js";
import { getJSON } from "../../lib/api.js";
import { clean } from "../../state/text.js";
import { costText, formatTokens, usageOf } from "../../state/usage.js";
import { Panel } from "../common/panel.js";
import { UsageChart } from "./usage-chart.js";

const PERIODS = [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"], ["0", "All time"]];

/** Props: onClose(). */
export function UsageView({ onClose }) {
  const [days, setDays] = useState("30");
  const [metric, setMetric] = useState("cost");
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    setError("");
    getJSON(`/api/usage?days=${encodeURIComponent(days)}`, { signal: ctrl.signal }).then(setData, (e) => {
      if (e && e.name === "AbortError") return;
      setError(e.message || "Could not load the usage");
    });
    return () => ctrl.abort();
  }, [days, reloads]);

  const total = data && usageOf(data.total);
  const unpriced = data && data.total && Array.isArray(data.total.unpriced_models) ? data.total.unpriced_models : [];
  const projects = data && Array.isArray(data.projects) ? data.projects : [];
  return html`<${Panel} testid="usage-view" className="usage-view" titleId="usage-title" title="Usage"
      meta=${html`<span>tokens and cost of this machine's sessions, at the published API prices</span>`}
      closeName="usage" onClose=${onClose} opener='[data-testid="open-usage"]'>
      <div class="conv-scroll">
        <div class="view-controls">
          <label>Period <select data-testid="usage-days" value=${days} onChange=${(e) => setDays(e.currentTarget.value)}>
            ${PERIODS.map(([v, label]) => html`<option key=${v} value=${v}>${label}</option>`)}</select></label>
          <label>Chart <select data-testid="usage-metric" value=${metric} onChange=${(e) => setMetric(e.currentTarget.value)}>
            <option value="cost">Cost per day</option><option value="tokens">Tokens per day</option></select></label>
        </div>
        ${error && html`<p class="conv-error" role="alert">${error}</p>`}
        ${!data && !error && html`<p class="muted conv-note">Reading the sessions…</p>`}
        ${data && data.complete === false && html`<p class="note" data-testid="usage-incomplete">
          Still reading older sessions: these totals are not complete yet.
          <button type="button" data-testid="usage-refresh" onClick=${() => setReloads((n) => n + 1)}>Refresh</button></p>`}
        ${total && html`<p class="usage-total" data-testid="usage-total" data-cost=${String(data.total.cost_usd)}
            data-tokens=${total.tokens}>
          <strong>${formatTokens(total.tokens)} tokens</strong>
          <span> · </span><strong data-testid="usage-total-cost">${costText(total)}</strong>
          <span class="muted"> · ${data.total.sessions || 0} sessions · ${total.turns} turns</span></p>`}
        ${unpriced.length > 0 && html`<p class="note" data-testid="usage-unpriced">Unknown price: ${`${unpriced.map((m) => clean(m, 80)).join(", ")} `}
          (${formatTokens(data.total.unpriced_tokens)} tokens are not in the cost; docs/usage.md lists the prices AMC knows)</p>`}
        ${data && html`<${UsageChart} days=${data.per_day} metric=${metric} />`}
        ${data && html`<table class="usage-projects" data-testid="usage-projects">
          <thead><tr><th scope="col">Project</th><th scope="col">Sessions</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
          <tbody>${projects.map((p) => {
            const u = usageOf(p);
            return html`<tr key=${p.project_dir || p.project} data-testid="usage-project" data-project-dir=${clean(p.project_dir, 500)}>
              <th scope="row" title=${clean(p.project_dir, 500)}>${clean(p.project, 200) || clean(p.project_dir, 200) || "(unknown project)"}</th>
              <td>${p.sessions || 0}</td><td data-testid="usage-project-tokens">${formatTokens(u.tokens)}</td>
              <td data-testid="usage-project-cost">${costText(u)}</td></tr>`;
          })}</tbody></table>`}
        ${data && !projects.length && html`<p class="muted conv-note">No sessions with usage in this period.</p>`}
      </div>
  </${Panel}>`;
}
