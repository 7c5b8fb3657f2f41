/**
 * The overview's filters: a project select (projects present), a machine select (only when there
 * are remotes: all, this machine, each remote) and a free-text filter. They compose: a card is
 * shown when it passes all three (state.filterSessions).
 */
import { html, useContext } from "../../lib/preact.js";
import { clean } from "../../state/text.js";
import { MachinesContext } from "../machines/machine-context.js";

// The machine select's values: "" = all machines, LOCAL = this machine (no remote name can start
// with "."), else the remote's name. The filter itself says null, "" and the name.
const LOCAL = ".";
const machineValue = (machine) => (machine == null ? "" : machine === "" ? LOCAL : machine);
const machineFilter = (value) => (value === "" ? null : value === LOCAL ? "" : value);

/** Props: projects, filters ({project, text, machine}), onChange(filters), textRef (for the "/" shortcut). */
export function FilterBar({ projects, filters, onChange, textRef }) {
  const { remotes, names: machines } = useContext(MachinesContext);
  const onTextKey = (e) => {
    if (e.key === "Escape" && filters.text) {
      e.preventDefault();
      e.stopPropagation();
      onChange({ ...filters, text: "" });
    }
  };
  // Keep a filtered-on project (machine) in the list even when it has no sessions left.
  const names = filters.project && !projects.includes(filters.project) ? [...projects, filters.project] : projects;
  const picked = filters.machine;
  const remoteNames = picked && !machines.includes(picked) ? [...machines, picked] : machines;
  return html`<div class="filters" role="search">
    <label class="visually-hidden" for="project-filter">Project</label>
    <select id="project-filter" data-testid="project-filter" value=${filters.project}
        onChange=${(e) => onChange({ ...filters, project: e.currentTarget.value })}>
      <option value="">All projects</option>
      ${names.map((p) => html`<option key=${p} value=${p}>${clean(p, 200)}</option>`)}
    </select>
    ${remotes && html`<label class="visually-hidden" for="machine-filter">Machine</label>
    <select id="machine-filter" data-testid="machine-filter" value=${machineValue(picked)}
        onChange=${(e) => onChange({ ...filters, machine: machineFilter(e.currentTarget.value) })}>
      <option value="">All machines</option>
      <option value=${LOCAL}>local</option>
      ${remoteNames.map((m) => html`<option key=${m} value=${m}>${clean(m, 64)}</option>`)}
    </select>`}
    <label class="visually-hidden" for="text-filter">Filter sessions</label>
    <input id="text-filter" type="search" data-testid="text-filter" ref=${textRef} value=${filters.text}
      placeholder="Filter  ( / )" autocomplete="off" spellcheck="false" onKeyDown=${onTextKey}
      onInput=${(e) => onChange({ ...filters, text: e.currentTarget.value })} />
  </div>`;
}
