// Alerts (the login token): thresholds on the account's usage, listed with the figure they watch
// (GET /v1/developer/alerts), created as a share of the budget or quota or as an amount per day
// or month (POST), and removed after a confirmation (DELETE). A crossing reaches the live figures'
// stream and the operator's webhook; the gateway decides, the page only shows.
import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, confirmDialog, toast, when } from "../ui.js";
import { alertBody, describe, figure, relativeOf, METRICS } from "./alerts_rules.js";

export async function render(view) {
  const list = h("div", { id: "alert-list", "aria-live": "polite" });
  view.append(h("h1", {}, t("alerts.title")), h("p", { class: "muted" }, t("alerts.intro")), createForm(list), h("h2", {}, t("alerts.yours")), list);
  await refresh(list);
}

function createForm(list) {
  const name = h("input", { id: "alert-name", maxlength: 100, placeholder: t("alerts.namePlaceholder") });
  const metric = h("select", { id: "alert-metric" }, METRICS.map((m) => h("option", { value: m }, t(`alerts.metric.${m}`))));
  const kinds = ["relative", "absolute"].map((k) => h("input", { type: "radio", name: "alert-kind", value: k, id: `alert-kind-${k}`, checked: k === "relative" }));
  const percent = h("input", { id: "alert-percent", type: "number", min: 1, max: 100, step: 1, value: 80, inputmode: "numeric" });
  const of = h("select", { id: "alert-of", "aria-label": t("alerts.of") });
  const value = h("input", { id: "alert-value", type: "number", min: 0, step: "any", inputmode: "decimal" });
  const period = h("select", { id: "alert-period", "aria-label": t("alerts.period") }, ["day", "month"].map((p) => h("option", { value: p }, t(`alerts.per.${p}`))));
  const relative = h("div", { class: "row wrap", id: "alert-relative" }, h("label", { for: "alert-percent", class: "inline" }, t("alerts.percent")), percent, h("span", {}, "%"), of);
  const valueLabel = h("label", { for: "alert-value", class: "inline" }, t("alerts.value"));
  const absolute = h("div", { class: "row wrap", id: "alert-absolute", hidden: true }, valueLabel, value, period);
  const status = h("div", { "aria-live": "polite" });
  const kind = () => kinds.find((k) => k.checked).value;
  const sync = () => {
    const allowed = relativeOf(metric.value);
    of.replaceChildren(...allowed.map((o) => h("option", { value: o }, t(`alerts.of.${o}`))));
    kinds[0].disabled = allowed.length === 0;
    if (kinds[0].disabled) kinds[1].checked = true;
    relative.hidden = kind() !== "relative";
    absolute.hidden = kind() !== "absolute";
    valueLabel.textContent = t(metric.value === "cost_usd" ? "alerts.valueUsd" : "alerts.value");
  };
  metric.addEventListener("change", sync);
  for (const k of kinds) k.addEventListener("change", sync);
  sync();
  const form = h(
    "form",
    { class: "card", id: "alert-form" },
    h("div", { class: "row wrap" }, h("div", {}, h("label", { for: "alert-name" }, t("alerts.name")), name), h("div", {}, h("label", { for: "alert-metric" }, t("alerts.metric")), metric)),
    h(
      "fieldset",
      {},
      h("legend", {}, t("alerts.when")),
      h("div", { class: "row wrap" }, kinds.map((k) => h("label", { class: "check", for: k.id }, k, ` ${t(`alerts.kind.${k.value}`)}`))),
      relative,
      absolute,
    ),
    h("div", {}, h("button", { type: "submit", class: "primary" }, t("alerts.create"))),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = alertBody({ name: name.value, metric: metric.value, kind: kind(), percent: percent.value, of: of.value, value: value.value, period: period.value });
    if (body.error) {
      status.replaceChildren(h("p", { class: "error", role: "alert" }, t(body.error)));
      return;
    }
    try {
      const { alert } = await call("POST", "/v1/developer/alerts", { body });
      status.replaceChildren();
      name.value = "";
      toast(t("alerts.created", { what: describe(alert, t) }));
      await refresh(list);
    } catch (err) {
      status.replaceChildren(errorBox(err));
    }
  });
  return form;
}

async function refresh(list) {
  try {
    const data = await get("/v1/developer/alerts");
    const alerts = data.alerts || [];
    list.replaceChildren(alerts.length ? table(alerts, list) : h("p", { class: "muted", id: "no-alerts" }, t("alerts.none")));
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

function table(alerts, list) {
  const head = ["alerts.name", "alerts.condition", "alerts.now", "alerts.lastFired", "keys.created", "alerts.actions"];
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id: "alerts-table" },
      h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
      h(
        "tbody",
        {},
        alerts.map((alert) =>
          h(
            "tr",
            { "data-alert-id": alert.id },
            h("td", { "data-label": t("alerts.name") }, alert.name || "–"),
            h("td", { "data-label": t("alerts.condition") }, describe(alert, t)),
            h("td", { "data-label": t("alerts.now") }, figure(alert, t)),
            h("td", { "data-label": t("alerts.lastFired") }, when(alert.last_fired_at)),
            h("td", { "data-label": t("keys.created") }, when(alert.created_at)),
            h(
              "td",
              {},
              h("button", { type: "button", class: "danger small", "aria-label": t("alerts.deleteNamed", { what: describe(alert, t) }), onclick: () => remove(alert, list) }, t("keys.delete")),
            ),
          ),
        ),
      ),
    ),
  );
}

async function remove(alert, list) {
  if (!(await confirmDialog(t("alerts.confirmDelete", { what: describe(alert, t) }), t("keys.delete")))) return;
  try {
    await call("DELETE", `/v1/developer/alerts/${encodeURIComponent(alert.id)}`);
    toast(t("alerts.deleted", { what: describe(alert, t) }));
    await refresh(list);
  } catch (err) {
    list.prepend(errorBox(err));
  }
}
