// API keys: list, create (the secret shown once), delete with confirmation. Rotation plugs in
// as one more row action once POST /v1/developer/api-keys/{id}/rotate exists.
import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { keepSecret, forgetSecret } from "../session.js";
import { h, errorBox, confirmDialog, toast, when, copy } from "../ui.js";

const PERMISSIONS = ["chat", "models", "usage"];
// The buttons of each key's row; rotation is one more entry once its endpoint exists.
const ACTIONS = [{ label: "keys.delete", named: "keys.deleteNamed", kind: "danger small", run: remove }];

export async function render(view) {
  const list = h("div", { id: "key-list" });
  const reveal = h("div", { id: "key-reveal" });
  view.append(h("h1", {}, t("keys.title")), createForm(list, reveal), reveal, h("h2", {}, t("keys.yours")), list);
  await refresh(list);
}

function createForm(list, reveal) {
  const name = h("input", { id: "key-name", required: true, maxlength: 100, placeholder: t("keys.namePlaceholder") });
  const boxes = PERMISSIONS.map((p) => h("input", { type: "checkbox", name: "perm", value: p, id: `perm-${p}`, checked: true }));
  const rpm = h("input", { id: "key-rpm", type: "number", min: 1, inputmode: "numeric", placeholder: t("keys.planDefault") });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card grid" },
    h("div", {}, h("label", { for: "key-name" }, t("keys.name")), name),
    h(
      "fieldset",
      {},
      h("legend", {}, t("keys.permissions")),
      PERMISSIONS.map((p, i) => h("label", { class: "check", for: `perm-${p}` }, boxes[i], ` ${p}`)),
    ),
    h("div", {}, h("label", { for: "key-rpm" }, t("keys.rateLimit")), rpm),
    h("div", { class: "end" }, h("button", { type: "submit", class: "primary" }, t("keys.create"))),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { name: name.value.trim(), permissions: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (rpm.value) body.rate_limit = { requests_per_minute: Number(rpm.value) };
    try {
      const key = await call("POST", "/v1/developer/api-keys", { body });
      keepSecret(key.id, key.name, key.key);
      showOnce(reveal, key);
      form.reset();
      boxes.forEach((b) => (b.checked = true));
      await refresh(list);
    } catch (err) {
      status.replaceChildren(errorBox(err));
    }
  });
  return form;
}

function showOnce(reveal, key) {
  const secret = h("code", { id: "new-secret", class: "secret" }, key.key);
  const copyButton = h("button", { type: "button", id: "copy-secret", onclick: () => copy(key.key) }, t("keys.copy"));
  const done = h("button", { type: "button", class: "ghost", onclick: () => reveal.replaceChildren() }, t("keys.saved"));
  reveal.replaceChildren(
    h(
      "div",
      { class: "card warn", role: "alert" },
      h("strong", {}, t("keys.onceTitle", { name: key.name })),
      h("p", {}, t("keys.onceWarning")),
      h("div", { class: "row wrap" }, secret, copyButton, done),
    ),
  );
  copyButton.focus();
}

async function refresh(list) {
  try {
    const data = await get("/v1/developer/api-keys", { page_size: 100 });
    list.replaceChildren(data.api_keys.length ? table(data.api_keys, list) : h("p", { class: "muted" }, t("keys.none")));
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

function table(keys, list) {
  const head = ["keys.name", "keys.prefix", "keys.permissions", "keys.rateLimit", "keys.created", "keys.lastUsed", ""];
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, k ? t(k) : h("span", { class: "sr" }, t("keys.actions")))))),
      h(
        "tbody",
        {},
        keys.map((key) =>
          h(
            "tr",
            { "data-key-id": key.id },
            h("td", { "data-label": t("keys.name") }, key.name),
            h("td", { "data-label": t("keys.prefix") }, h("code", {}, `${key.prefix}…`)),
            h("td", { "data-label": t("keys.permissions") }, (key.permissions || []).join(", ")),
            h("td", { "data-label": t("keys.rateLimit") }, key.rate_limit && key.rate_limit.requests_per_minute ? t("keys.perMinute", { n: key.rate_limit.requests_per_minute }) : t("keys.planDefault")),
            h("td", { "data-label": t("keys.created") }, when(key.created_at)),
            h("td", { "data-label": t("keys.lastUsed") }, when(key.last_used)),
            h(
              "td",
              { class: "row" },
              ACTIONS.map((a) => h("button", { type: "button", class: a.kind, "aria-label": t(a.named, { name: key.name }), onclick: () => a.run(key, list) }, t(a.label))),
            ),
          ),
        ),
      ),
    ),
  );
}

async function remove(key, list) {
  if (!(await confirmDialog(t("keys.confirmDelete", { name: key.name, prefix: key.prefix }), t("keys.delete")))) return;
  try {
    await call("DELETE", `/v1/developer/api-keys/${encodeURIComponent(key.id)}`);
    forgetSecret(key.id);
    toast(t("keys.deleted", { name: key.name }));
    await refresh(list);
  } catch (err) {
    list.prepend(errorBox(err));
  }
}
