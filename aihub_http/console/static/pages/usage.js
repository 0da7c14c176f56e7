// Usage: requests, tokens and cost per day over a chosen range, the monthly quota gauge, a gauge
// per budget in USD (the key's, the user's, the plan's: spent and held against the limit), the
// plan's rate limits (GET /usage and /quota, read with the login token), and the live quota and
// minute budget pushed by GET /quota/watch (WatchQuota as Server-Sent Events), the breakdown by
// model and by key, and the request log with its CSV export (GET /usage/logs).
import { get, watch } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd, when, toast } from "../ui.js";
import { crossing } from "./alerts_rules.js";
import { barChart, gauge } from "../chart.js";
import { breakdown } from "./usage_breakdown.js";
import { requestLog } from "./usage_log.js";

const PERIODS = ["day", "week", "month", "year", "custom"];
const state = { period: "week", start: "", end: "" };
// The window the server reported for the chosen range, as the log's filters take it (end exclusive).
let shown = { start: "", end: "" };

export async function render(view, signal) {
  const body = h("div", { id: "usage-body", "aria-live": "polite" });
  const live = h("section", { class: "card", id: "live", "aria-live": "off" });
  const period = h("select", { id: "period" }, PERIODS.map((p) => h("option", { value: p, selected: p === state.period }, t(`usage.${p}`))));
  const start = h("input", { type: "date", id: "start", value: state.start, "aria-label": t("usage.start") });
  const end = h("input", { type: "date", id: "end", value: state.end, "aria-label": t("usage.end") });
  const custom = h("span", { class: "row", hidden: state.period !== "custom" }, start, "–", end);
  const refresh = h("button", { type: "button", id: "refresh-usage" }, t("usage.refresh"));
  const keys = await get("/v1/developer/api-keys", { page_size: 100 }).then((d) => d.api_keys, () => []);
  const log = requestLog(() => shown, keys);
  const load = () => draw(body, live).then(log.reload);
  period.addEventListener("change", () => {
    state.period = period.value;
    custom.hidden = state.period !== "custom";
    if (state.period !== "custom") load();
  });
  for (const input of [start, end])
    input.addEventListener("change", () => {
      state.start = start.value;
      state.end = end.value;
      if (state.start && state.end) load();
    });
  refresh.addEventListener("click", load);
  view.append(
    h("div", { class: "row wrap between" }, h("h1", {}, t("usage.title")), h("div", { class: "row wrap" }, h("label", { for: "period" }, t("usage.range")), period, custom, refresh)),
    body,
    log.element,
  );
  follow(live, signal);
  await load();
}

/** Keep the live card current until the page is left; reconnect after a dropped stream. */
async function follow(live, signal) {
  const status = h("span", { class: "muted small", id: "live-status" }, t("usage.connecting"));
  const figures = h("dl", { id: "live-figures" });
  const fired = h("ul", { class: "plain", id: "live-alerts", hidden: true, "aria-live": "polite" });
  live.replaceChildren(h("div", { class: "row between" }, h("h2", {}, t("usage.live")), status), fired, figures);
  while (!signal.aborted) {
    try {
      await watch("/v1/developer/quota/watch", (e) => {
        if (e.type === "alert") {
          const text = crossing(e, t);
          fired.prepend(h("li", { "data-alert-id": e.alert_id }, text));
          fired.hidden = false;
          toast(text, "warn");
          return;
        }
        if (e.type !== "quota") return;
        status.textContent = `● ${t("usage.liveOn")}`;
        figures.replaceChildren(...liveFigures(e));
        const meter = document.querySelector("#quota [role=meter]");
        if (meter) meter.replaceWith(quotaGauge(e));
        const budgets = document.querySelector("#budgets");
        if (budgets) budgets.replaceWith(budgetCard(e.budgets || []));
      }, signal);
    } catch (err) {
      if (signal.aborted) return;
      status.textContent = err.message;
    }
    if (signal.aborted) return;
    status.textContent = t("usage.reconnecting");
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function liveFigures(e) {
  const r = e.rate_limit || {};
  const ofLimit = (left, limit) => (limit ? `${number(left)} / ${number(limit)}` : t("usage.unlimited"));
  return [
    h("dt", {}, t("usage.liveRequests")),
    h("dd", { id: "live-requests" }, ofLimit(r.requests_remaining, r.requests_per_minute)),
    h("dt", {}, t("usage.liveTokens")),
    h("dd", { id: "live-tokens" }, ofLimit(r.tokens_remaining, r.tokens_per_minute)),
    h("dt", {}, t("usage.liveInFlight")),
    h("dd", { id: "live-in-flight" }, r.concurrent_requests ? `${number(r.concurrent_in_flight)} / ${number(r.concurrent_requests)}` : number(r.concurrent_in_flight)),
    h("dt", {}, t("usage.quota")),
    h("dd", { id: "live-quota" }, e.quota_limit ? `${number(e.quota_used)} / ${number(e.quota_limit)}` : number(e.quota_used)),
    h("dt", {}, t("usage.windowReset")),
    h("dd", {}, r.window_reset ? new Date(r.window_reset).toLocaleTimeString() : "–"),
  ];
}

function quotaGauge(q) {
  return gauge(t("usage.quotaLabel"), q.quota_used, q.quota_limit, q.quota_limit ? `${number(q.quota_used)} / ${number(q.quota_limit)}` : number(q.quota_used));
}

/** One gauge per budget the account's calls count against: settled spend plus what calls in
 * flight hold, against the limit, with when it starts afresh. */
function budgetCard(budgets) {
  const gauges = budgets.map((b) => {
    const used = Number(b.spent_usd || 0) + Number(b.reserved_usd || 0);
    const label = t("usage.budgetLabel", { scope: t(`usage.scope.${b.scope}`), period: t(`usage.per.${b.period}`) });
    return h(
      "div",
      { class: "budget", "data-scope": b.scope },
      gauge(label, used, Number(b.limit_usd), `${usd(used)} / ${usd(b.limit_usd)}`),
      h("p", { class: "muted small" }, t("usage.budgetHeld", { spent: usd(b.spent_usd || 0), held: usd(b.reserved_usd || 0) })),
      h("p", { class: "muted small" }, t("usage.resets", { date: when(b.resets_at) })),
    );
  });
  return h(
    "section",
    { class: "card", id: "budgets" },
    h("h2", {}, t("usage.budgets")),
    ...(gauges.length ? gauges : [h("p", { class: "muted" }, t("usage.noBudget"))]),
  );
}

/** The figures of the range; the live card (kept across redraws) joins the quota and limits. */
async function draw(body, live) {
  const query = state.period === "custom" ? { start_date: state.start, end_date: state.end } : { period: state.period };
  try {
    const [usage, quota] = await Promise.all([get("/v1/developer/usage", query), get("/v1/developer/quota")]);
    shown = { start: usage.start_date, end: dayAfter(usage.end_date) };
    const days = { start_date: usage.start_date, end_date: usage.end_date };
    body.replaceChildren(...summary(usage, quota), ...charts(usage), await breakdown(days));
    body.querySelector(".cards").append(live);
  } catch (err) {
    body.replaceChildren(errorBox(err));
  }
}

/** The day after `YYYY-MM-DD`, the same way: the window's last day is inclusive, a log's end is not. */
function dayAfter(date) {
  const day = new Date(`${date}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

function summary(usage, quota) {
  const limits = quota.rate_limit || {};
  const limitText = (n) => (n ? number(n) : t("usage.unlimited"));
  return [
    h(
      "div",
      { class: "tiles" },
      tile(t("usage.requests"), number(usage.total_requests), "total-requests"),
      tile(t("usage.tokens"), number(usage.total_tokens), "total-tokens"),
      tile(t("usage.cost"), usd(usage.total_cost_usd), "total-cost"),
    ),
    h(
      "div",
      { class: "row wrap cards" },
      h(
        "section",
        { class: "card", id: "quota" },
        h("h2", {}, t("usage.quota")),
        quotaGauge(quota),
        h("p", { class: "muted" }, t("usage.resets", { date: when(quota.reset_date) })),
      ),
      budgetCard(quota.budgets || []),
      h(
        "section",
        { class: "card", id: "limits" },
        h("h2", {}, t("usage.plan", { plan: quota.plan })),
        h(
          "dl",
          {},
          h("dt", {}, t("usage.rpm")),
          h("dd", {}, limitText(limits.requests_per_minute)),
          h("dt", {}, t("usage.tpm")),
          h("dd", {}, limitText(limits.tokens_per_minute)),
          h("dt", {}, t("usage.concurrent")),
          h("dd", {}, limitText(limits.concurrent_requests)),
        ),
      ),
    ),
  ];
}

function tile(label, value, id) {
  return h("div", { class: "tile card", id }, h("span", { class: "muted" }, label), h("strong", {}, value));
}

function charts(usage) {
  const days = usage.daily_breakdown || [];
  const series = (field) => days.map((d) => ({ date: d.date, value: Number(d[field] || 0) }));
  return [
    h("p", { class: "muted" }, t("usage.between", { start: usage.start_date, end: usage.end_date })),
    h(
      "div",
      { class: "charts" },
      barChart(t("usage.requests"), series("requests"), number, "chart-requests"),
      barChart(t("usage.tokens"), series("tokens"), number, "chart-tokens"),
      barChart(t("usage.cost"), series("cost_usd"), usd, "chart-cost"),
    ),
  ];
}
