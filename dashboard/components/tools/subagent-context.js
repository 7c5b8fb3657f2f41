/**
 * Which subagent's transcript a part of the page shows ("" for the session's own): the
 * subagent view (subagent-view.js) provides it around the messages it renders, so that their
 * "Load" buttons and image thumbnails ask for that transcript's parts (`&subagent=<agent id>`).
 */
import { createContext } from "../../lib/preact.js";

export const SubagentContext = createContext("");
