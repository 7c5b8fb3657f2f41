/**
 * The login page of an AMC server reachable from the network (dashboard/login.html; the server
 * serves it at "/" until the browser holds the session cookie, docs/security.md).
 *
 * The typed token goes once, in the body of POST /api/login; the server answers with an HttpOnly,
 * SameSite=Strict cookie that this script never sees, and "/" then serves the dashboard. The token
 * never goes into a URL. A wrong token, or too many of them, is shown in the form's alert.
 */
const form = document.getElementById("login-form");
const input = document.getElementById("token");
const button = form.querySelector('button[type="submit"]');
const alertBox = document.getElementById("login-error");

/** Show `message` in the alert (empty: clear it) and mark the field invalid while there is one. */
function say(message) {
  alertBox.textContent = message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/** POST the token; return "" when logged in, else what went wrong, for a person. */
async function logIn(token) {
  let res;
  try {
    res = await fetch("/api/login", {
      method: "POST", cache: "no-store", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch (e) {
    return "Cannot reach the AMC server: " + ((e && e.message) || "network error");
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (res.ok && data && data.ok === true) return "";
  const said = data && typeof data.error === "string" && data.error;
  return said ? said.charAt(0).toUpperCase() + said.slice(1) : `The server answered ${res.status}`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = input.value.trim();
  if (!token) {
    say("Enter the token.");
    input.focus();
    return;
  }
  button.disabled = true;
  say("");
  const problem = await logIn(token);
  if (!problem) {
    window.location.assign("/");
    return;
  }
  button.disabled = false;
  say(problem);
  input.focus();
  input.select();
});

input.focus();
