// API keys: list (with expiry, last rotation and last use), create (optionally expiring; the secret
// shown once), rotate (a new secret shown once, the old one kept for a chosen grace) and delete
// with confirmation.
import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { keepSecret, forgetSecret } from "../session.js";
import { h, errorBox, confirmDialog, toast, when, copy } from "../ui.js";

const PERMISSIONS = ["chat", "models", "usage"];
// The buttons of each key's row.
const ACTIONS = [
  { label: "keys.rotate", named: "keys.rotateNamed", kind: "small", run: rotate },
  { label: "keys.delete", named: "keys.deleteNamed", kind: "danger small", run: remove },
];
// How long a rotated key's old secret keeps working: the choices offered, in seconds.
const GRACES = [0, 3600, 86400, 604800];

export async function render(view) {
  const list = h("div", { id: "key-list" });
  const reveal = h("div", { id: "key-reveal" });
  list.reveal = reveal;
  view.append(h("h1", {}, t("keys.title")), createForm(list, reveal), reveal, h("h2", {}, t("keys.yours")), list);
  await refresh(list);
}

function createForm(list, reveal) {
  const name = h("input", { id: "key-name", required: true, maxlength: 100, placeholder: t("keys.namePlaceholder") });
  const boxes = PERMISSIONS.map((p) => h("input", { type: "checkbox", name: "perm", value: p, id: `perm-${p}`, checked: true }));
  const rpm = h("input", { id: "key-rpm", type: "number", min: 1, inputmode: "numeric", placeholder: t("keys.planDefault") });
  const expires = h("input", { id: "key-expires", type: "date", "aria-describedby": "key-expires-note" });
  const budget = h("input", { id: "key-budget", type: "number", min: 0.01, step: 0.01, inputmode: "decimal", placeholder: t("keys.noBudget") });
  const period = h("select", { id: "key-budget-period", "aria-label": t("keys.budgetPeriod") }, ["month", "day"].map((p) => h("option", { value: p }, t(`keys.per.${p}`))));
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
    h("div", {}, h("label", { for: "key-expires" }, t("keys.expiresOn")), expires, h("small", { class: "muted", id: "key-expires-note" }, t("keys.expiresNote"))),
    h("div", {}, h("label", { for: "key-budget" }, t("keys.budgetUsd")), h("div", { class: "row" }, budget, period)),
    h("div", { class: "end" }, h("button", { type: "submit", class: "primary" }, t("keys.create"))),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { name: name.value.trim(), permissions: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (rpm.value) body.rate_limit = { requests_per_minute: Number(rpm.value) };
    // The key works through the chosen day (UTC) and stops at its end.
    if (expires.value) body.expires_at = `${expires.value}T23:59:59Z`;
    // The gateway holds each call's worst-case cost against it and never lets settled spend pass it.
    if (budget.value) body.budget = { limit_usd: Number(budget.value), period: period.value };
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

/** The secret of a new or rotated key, shown this once; `until` is when a rotated key's old secret stops. */
function showOnce(reveal, key, until) {
  const secret = h("code", { id: "new-secret", class: "secret" }, key.key);
  const copyButton = h("button", { type: "button", id: "copy-secret", onclick: () => copy(key.key) }, t("keys.copy"));
  const done = h("button", { type: "button", class: "ghost", onclick: () => reveal.replaceChildren() }, t("keys.saved"));
  reveal.replaceChildren(
    h(
      "div",
      { class: "card warn", role: "alert" },
      h("strong", {}, t(until ? "keys.rotatedTitle" : "keys.onceTitle", { name: key.name })),
      h("p", {}, t("keys.onceWarning")),
      until ? h("p", { id: "old-secret-until" }, t("keys.oldUntil", { date: when(until) })) : null,
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
  const head = ["keys.name", "keys.prefix", "keys.permissions", "keys.rateLimit", "keys.budget", "keys.created", "keys.lastUsed", "keys.expires", "keys.rotated", ""];
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
            h("td", { "data-label": t("keys.budget") }, key.budget && key.budget.limit_usd ? t("keys.budgetOf", { usd: key.budget.limit_usd, per: t(`keys.per.${key.budget.period}`) }) : t("keys.noBudget")),
            h("td", { "data-label": t("keys.created") }, when(key.created_at)),
            h("td", { "data-label": t("keys.lastUsed") }, when(key.last_used)),
            h("td", { "data-label": t("keys.expires") }, key.expires_at ? when(key.expires_at) : t("keys.noExpiry")),
            h("td", { "data-label": t("keys.rotated") }, when(key.rotated_at)),
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

async function rotate(key, list) {
  const grace = await graceDialog(key);
  if (grace === null) return;
  try {
    const rotated = await call("POST", `/v1/developer/api-keys/${encodeURIComponent(key.id)}/rotate`, { body: { grace_seconds: grace } });
    keepSecret(rotated.id, rotated.name, rotated.key);
    showOnce(list.reveal, rotated, rotated.previous_key_expires_at);
    await refresh(list);
  } catch (err) {
    list.prepend(errorBox(err));
  }
}

/** Ask how long the old secret keeps working; resolves to seconds, or null when cancelled. */
function graceDialog(key) {
  return new Promise((resolve) => {
    const choice = h("select", { id: "rotate-grace" }, GRACES.map((g) => h("option", { value: g, selected: g === 86400 }, t(`keys.grace.${g}`))));
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": t("keys.rotateNamed", { name: key.name }) },
      h("p", {}, t("keys.confirmRotate", { name: key.name, prefix: key.prefix })),
      h("label", { for: "rotate-grace" }, t("keys.grace")),
      choice,
      h(
        "form",
        { method: "dialog", class: "row" },
        h("button", { value: "no", class: "ghost", autofocus: true }, t("common.cancel")),
        h("button", { value: "yes", class: "primary" }, t("keys.rotate")),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes" ? Number(choice.value) : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
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
