// The operators' overview: the whole gateway's cost and requests per day over a chosen range with
// its most costly models (GET /v1/admin/overview), and the services, simulated or live, with
// each model's circuit breaker as the answering core process sees it (GET /v1/admin/services).
import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd } from "../ui.js";
import { barChart } from "../chart.js";

const RANGES = [7, 30, 90];
let days = 30;

/** The range picker and the figures of the chosen range, drawn into `box`. */
export async function overview(box) {
  const picker = h("select", { id: "admin-range" }, RANGES.map((n) => h("option", { value: n, selected: n === days }, t("admin.lastDays", { n }))));
  const figures = h("div", { id: "admin-figures" });
  picker.addEventListener("change", () => {
    days = Number(picker.value);
    draw(figures);
  });
  box.replaceChildren(h("div", { class: "row wrap between" }, h("h2", {}, t("admin.overview")), h("div", { class: "row" }, h("label", { for: "admin-range" }, t("usage.range")), picker)), figures);
  await draw(figures);
}

async function draw(figures) {
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86_400_000);
  const iso = (d) => d.toISOString().slice(0, 10);
  try {
    const data = await get("/v1/admin/overview", { start_date: iso(start), end_date: iso(end) });
    figures.replaceChildren(
      h("p", { class: "muted" }, t("usage.between", { start: data.start_date, end: data.end_date })),
      h(
        "div",
        { class: "tiles" },
        tile(t("usage.requests"), number(data.total_requests), "admin-total-requests"),
        tile(t("usage.tokens"), number(data.total_tokens), "admin-total-tokens"),
        tile(t("usage.cost"), usd(data.total_cost_usd), "admin-total-cost"),
      ),
      h(
        "div",
        { class: "charts" },
        barChart(t("admin.spend"), series(data, "cost_usd"), usd, "admin-chart-cost"),
        barChart(t("usage.requests"), series(data, "requests"), number, "admin-chart-requests"),
      ),
      topModels(data.top_models || []),
    );
  } catch (err) {
    figures.replaceChildren(errorBox(err));
  }
}

function tile(label, value, id) {
  return h("div", { class: "tile card", id }, h("span", { class: "muted" }, label), h("strong", {}, value));
}

/** Every day of the range, a day without calls as 0: spend over time reads as time. */
function series(data, field) {
  const found = new Map((data.daily || []).map((d) => [d.date, Number(d[field] || 0)]));
  const rows = [];
  for (let day = new Date(`${data.start_date}T00:00:00Z`); day.toISOString().slice(0, 10) <= data.end_date; day.setUTCDate(day.getUTCDate() + 1)) {
    const date = day.toISOString().slice(0, 10);
    rows.push({ date, value: found.get(date) || 0 });
  }
  return rows;
}

function topModels(models) {
  const head = ["log.model", "admin.service", "usage.requests", "usage.tokens", "usage.cost"];
  return h(
    "section",
    { class: "card", id: "admin-top-models" },
    h("h3", {}, t("admin.topModels")),
    models.length
      ? h(
          "table",
          {},
          h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
          h(
            "tbody",
            {},
            models.map((m) =>
              h(
                "tr",
                {},
                h("td", { "data-label": t("log.model") }, m.model),
                h("td", { "data-label": t("admin.service") }, m.service),
                h("td", { "data-label": t("usage.requests") }, number(m.requests)),
                h("td", { "data-label": t("usage.tokens") }, number(m.tokens)),
                h("td", { "data-label": t("usage.cost") }, usd(m.cost_usd)),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("admin.noCalls")),
  );
}

/** The services and their breakers, as this core process sees them. */
export async function services(card) {
  try {
    const data = await get("/v1/admin/services");
    card.replaceChildren(
      h("h2", {}, t("admin.services")),
      h("p", { class: "muted small" }, t("admin.perProcess", { process: data.process })),
      h("ul", { class: "plain", id: "admin-service-list" }, data.services.map(service)),
    );
  } catch (err) {
    card.replaceChildren(errorBox(err));
  }
}

function service(s) {
  const breakers = s.breakers || [];
  return h(
    "li",
    { "data-service": s.name },
    h("strong", {}, s.name),
    " ",
    h("span", { class: "pill" }, s.simulated ? t("models.simulated") : t("admin.live")),
    s.is_default ? h("span", { class: "pill" }, t("admin.default")) : null,
    h("span", { class: `pill health-${s.status}` }, t(`admin.health.${s.status}`)),
    breakers.length
      ? h(
          "ul",
          { class: "plain breakers" },
          breakers.map((b) =>
            h(
              "li",
              { "data-model": b.model },
              h("code", {}, b.model),
              " ",
              h("span", { class: `pill breaker-${b.state}` }, t(`admin.breaker.${b.state}`)),
              b.state === "open" ? h("small", { class: "muted" }, t("admin.retryIn", { s: Math.ceil(b.retry_in_seconds) })) : null,
            ),
          ),
        )
      : h("small", { class: "muted" }, ` ${t("admin.noBreakers")}`),
  );
}
