/** The overview's filters: a project select (projects present) and a free-text filter. */
import { html } from "../lib/preact.js";
import { clean } from "../state.js";

/** Props: projects, filters ({project, text}), onChange(filters), textRef (for the "/" shortcut). */
export function FilterBar({ projects, filters, onChange, textRef }) {
  const onTextKey = (e) => {
    if (e.key === "Escape" && filters.text) {
      e.preventDefault();
      e.stopPropagation();
      onChange({ ...filters, text: "" });
    }
  };
  // Keep a filtered-on project in the list even when it has no sessions left.
  const names = filters.project && !projects.includes(filters.project) ? [...projects, filters.project] : projects;
  return html`<div class="filters" role="search">
    <label class="visually-hidden" for="project-filter">Project</label>
    <select id="project-filter" data-testid="project-filter" value=${filters.project}
        onChange=${(e) => onChange({ ...filters, project: e.currentTarget.value })}>
      <option value="">All projects</option>
      ${names.map((p) => html`<option key=${p} value=${p}>${clean(p, 200)}</option>`)}
    </select>
    <label class="visually-hidden" for="text-filter">Filter sessions</label>
    <input id="text-filter" type="search" data-testid="text-filter" ref=${textRef} value=${filters.text}
      placeholder="Filter  ( / )" autocomplete="off" spellcheck="false" onKeyDown=${onTextKey}
      onInput=${(e) => onChange({ ...filters, text: e.currentTarget.value })} />
  </div>`;
}
