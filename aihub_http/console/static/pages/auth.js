// Sign up and log in: the same accounts as the API (POST /v1/auth/register and /login).
import { call } from "../api.js";
import { t } from "../i18n.js";
import { signIn, takeNotice } from "../session.js";
import { h, errorBox } from "../ui.js";

export async function render(view) {
  let mode = "login";
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { "aria-live": "polite" });
  const notice = takeNotice();
  if (notice) status.append(h("p", { class: "error", role: "alert", id: "session-ended" }, t("auth.expired"), " ", notice));
  const submit = h("button", { type: "submit", class: "primary" });
  const heading = h("h1", {});
  const toggle = h("button", { type: "button", class: "link" });
  const draw = () => {
    heading.textContent = t(mode === "login" ? "auth.login" : "auth.signup");
    submit.textContent = t(mode === "login" ? "auth.login" : "auth.signup");
    toggle.textContent = t(mode === "login" ? "auth.toSignup" : "auth.toLogin");
    password.autocomplete = mode === "login" ? "current-password" : "new-password";
  };
  toggle.addEventListener("click", () => {
    mode = mode === "login" ? "signup" : "login";
    status.replaceChildren();
    draw();
  });
  const form = h(
    "form",
    { class: "card auth", novalidate: false },
    heading,
    h("p", { class: "muted" }, t("auth.intro")),
    h("label", { for: "email" }, t("auth.email")),
    email,
    h("label", { for: "password" }, t("auth.password")),
    password,
    status,
    h("div", { class: "row" }, submit, toggle),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.replaceChildren();
    try {
      const path = mode === "login" ? "/v1/auth/login" : "/v1/auth/register";
      const answer = await call("POST", path, { body: { email: email.value, password: password.value }, auth: null });
      signIn(answer);
      location.hash = mode === "login" ? "#/usage" : "#/keys";
    } catch (err) {
      status.replaceChildren(errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  draw();
  view.append(form);
  email.focus();
}
