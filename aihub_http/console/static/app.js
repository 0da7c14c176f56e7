// The console's shell: language, theme, navigation and the page router (#/name). A page is a
// module with `render(view, signal)` (the signal aborts when the page is left); adding one is one
// row of PAGES (`admin`: shown to admins only).
import { t, setLocale, language, translate } from "./i18n.js";
import * as session from "./session.js";
import { h } from "./ui.js";
import { call } from "./api.js";

export const PAGES = [
  { path: "usage", label: "nav.usage", load: () => import("./pages/usage.js") },
  { path: "keys", label: "nav.keys", load: () => import("./pages/keys.js") },
  { path: "models", label: "nav.models", load: () => import("./pages/models.js") },
  { path: "playground", label: "nav.playground", load: () => import("./pages/playground.js") },
  { path: "alerts", label: "nav.alerts", load: () => import("./pages/alerts.js") },
  { path: "admin", label: "nav.admin", admin: true, load: () => import("./pages/admin.js") },
];
const shown = () => PAGES.filter((p) => !p.admin || session.isAdmin());
const AUTH_PAGE = { path: "login", load: () => import("./pages/auth.js") };

let rendering = 0;
let leaving = null; // aborted when the page is left: its streams and timers stop

function current() {
  const path = location.hash.replace(/^#\/?/, "").split("?")[0];
  if (!session.signedIn()) return AUTH_PAGE;
  return shown().find((p) => p.path === path) || PAGES[0];
}

function drawNav(active) {
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    ...(session.signedIn()
      ? shown().map((p) =>
          h("a", { href: `#/${p.path}`, "aria-current": p === active ? "page" : null }, t(p.label)),
        )
      : []),
  );
  const out = document.getElementById("logout");
  out.hidden = !session.signedIn();
  out.textContent = t("nav.logout");
  out.title = session.email() || "";
}

async function route() {
  const page = current();
  const ticket = ++rendering;
  drawNav(page);
  const view = document.getElementById("view");
  if (leaving) leaving.abort();
  leaving = new AbortController();
  const signal = leaving.signal;
  const module = await page.load();
  if (ticket !== rendering) return; // a later navigation won
  // Each render gets a container of its own: a page left while its render still awaits (a login
  // followed at once by another navigation) goes on drawing into a detached one, not beside the next.
  const container = document.createElement("div");
  view.replaceChildren(container);
  document.title = `${page.label ? t(page.label) : t("auth.title")} · AI Hub`;
  await module.render(container, signal);
}

/** Forget the session at once, then have the gateway end its login token (POST /v1/auth/logout),
 * so a copy of it (a proxy log, another tab's devtools) stops working before it would expire. */
async function logOut() {
  const held = session.token();
  session.signOut();
  if (held) await call("POST", "/v1/auth/logout", { auth: held, body: {} }).catch(() => {});
}

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById("theme");
  button.textContent = theme === "dark" ? "☀" : "☾";
  button.setAttribute("aria-label", t(theme === "dark" ? "theme.light" : "theme.dark"));
  button.title = button.getAttribute("aria-label");
}

function boot() {
  // Language and theme are preferences, not secrets: they may persist. The token never does.
  const browser = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
  setLocale(localStorage.getItem("aihub.lang") || browser);
  const select = document.getElementById("lang");
  select.value = language();
  select.addEventListener("change", () => {
    localStorage.setItem("aihub.lang", select.value);
    setLocale(select.value);
    translate(document);
    applyTheme(document.documentElement.dataset.theme);
    route();
  });
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  applyTheme(localStorage.getItem("aihub.theme") || (dark ? "dark" : "light"));
  document.getElementById("theme").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem("aihub.theme", next);
    applyTheme(next);
  });
  document.getElementById("logout").addEventListener("click", logOut);
  translate(document);
  // Signing out (or a refused token) shows the login form; signing in navigates by itself.
  session.onChange(() => {
    if (session.signedIn()) return;
    if (location.hash === "#/login") route();
    else location.hash = "#/login";
  });
  window.addEventListener("hashchange", route);
  // A fresh page never has a session (the token lives in memory only): start at the login form.
  history.replaceState(null, "", "#/login");
  route();
}

boot();
