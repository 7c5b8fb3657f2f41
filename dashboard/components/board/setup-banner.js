/**
 * A problem with the server's setup that a person must fix, said by the server itself in
 * `setup.data_dir_problem` (e.g. the data directory cannot be written): shown until it is "".
 */
import { html } from "../../lib/preact.js";
import { clean } from "../../state/text.js";

/** Props: setup (the `setup` object of /api/state, may be missing). */
export function SetupBanner({ setup }) {
  const problem = setup && typeof setup.data_dir_problem === "string" ? clean(setup.data_dir_problem, 1000).trim() : "";
  if (!problem) return null;
  return html`<div class="banner warn" role="alert" data-testid="data-dir-problem">
    <strong>Data directory problem</strong>
    <span class="banner-detail">${problem}</span>
  </div>`;
}
