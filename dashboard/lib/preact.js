/**
 * The seam between the dashboard and Preact: every component imports Preact, its hooks and the
 * `html` template tag from here and nowhere else, so the vendored library can be swapped or
 * upgraded in one place. The bare specifiers resolve through the import map in index.html to the
 * unmodified files in /vendor/ (see vendor/README.md).
 */
import { h, render, Fragment, createContext } from "preact";
import htm from "htm";

export { h, render, Fragment, createContext };
export {
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useReducer, useContext,
} from "preact/hooks";

/** Tagged template that builds Preact elements: html`<p>${text}</p>` (text is never parsed as HTML). */
export const html = htm.bind(h);
