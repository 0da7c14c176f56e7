// The breakdown by model and by key on the usage page: GET /usage/breakdown for the window the
// usage figures reported, shown as the API returned it (its groups add up to those figures).
import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd } from "../ui.js";

/** The two breakdown tables for the window `days` ({start_date, end_date}, both inclusive). */
export async function breakdown(days) {
  try {
    const data = await get("/v1/developer/usage/breakdown", days);
    const rows = (groups, name) => (groups || []).map((g) => ({ name: name(g), requests: g.requests, tokens: g.total_tokens, cost: g.cost_usd }));
    return h(
      "div",
      { class: "charts", id: "breakdown" },
      groupTable("breakdown-model", t("usage.byModel"), t("log.model"), rows(data.by_model, (g) => g.model || "–")),
      groupTable("breakdown-key", t("usage.byKey"), t("log.key"), rows(data.by_key, (g) => (g.key_id ? g.key_name || g.key_id : t("log.loginToken")))),
    );
  } catch (err) {
    return errorBox(err);
  }
}

function groupTable(id, title, column, rows) {
  return h(
    "section",
    { class: "card", id },
    h("h2", {}, title),
    rows.length
      ? h(
          "div",
          { class: "scroll" },
          h(
            "table",
            {},
            h("thead", {}, h("tr", {}, [column, t("usage.requests"), t("usage.tokens"), t("usage.cost")].map((c) => h("th", { scope: "col" }, c)))),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  {},
                  h("td", { "data-label": column }, r.name),
                  h("td", { "data-label": t("usage.requests") }, number(r.requests)),
                  h("td", { "data-label": t("usage.tokens") }, number(r.tokens)),
                  h("td", { "data-label": t("usage.cost") }, usd(r.cost)),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("log.none")),
  );
}
