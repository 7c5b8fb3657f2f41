/** Entry point: mounts the dashboard. Everything else lives in components/, lib/ and state/. */
import { html, render } from "./lib/preact.js";
import { App } from "./components/app.js";

const root = document.getElementById("app");
root.textContent = ""; // drop the "Loading" placeholder
render(html`<${App} />`, root);
