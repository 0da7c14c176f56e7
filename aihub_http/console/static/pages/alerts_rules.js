// The alerts' wording and request bodies as plain functions of data (no DOM), so they follow the
// contract (docs: /v1/developer/alerts) in one place: which metric may be a share of what, the
// body a form's values make, and how an alert and its current figure read.

export const METRICS = ["cost_usd", "requests", "tokens"];
// What each metric may be a share of: cost of the budget, requests of the monthly quota; tokens
// have neither, so only an amount per period.
const RELATIVE = { cost_usd: ["budget"], requests: ["quota"], tokens: [] };

export const relativeOf = (metric) => RELATIVE[metric] || [];

/** The POST body for the form's values, or {error: message key} when they cannot make one. */
export function alertBody({ name, metric, kind, percent, of, value, period }) {
  const body = { metric };
  if (name && name.trim()) body.name = name.trim();
  if (kind === "relative") {
    const share = Number(percent);
    if (!(share > 0 && share <= 100)) return { error: "alerts.badPercent" };
    if (!relativeOf(metric).includes(of)) return { error: "alerts.badOf" };
    return { ...body, threshold: Math.round(share * 100) / 10000, of };
  }
  const amount = Number(value);
  if (!(amount > 0) || !Number.isFinite(amount)) return { error: "alerts.badValue" };
  if (metric !== "cost_usd" && !Number.isInteger(amount)) return { error: "alerts.badCount" };
  return { ...body, value: amount, period };
}

/** A figure of `metric` as text: USD for cost, a count otherwise. */
export const amount = (metric, n) =>
  metric === "cost_usd"
    ? `$${Number(n || 0).toLocaleString("en-US", { maximumFractionDigits: 6 })}`
    : Number(n || 0).toLocaleString("en-US");

/** "80% of the budget (cost)" or "$25 of cost a day", in the page's language (`t`). */
export function describe(alert, t) {
  const metric = t(`alerts.metric.${alert.metric}`);
  if (alert.of) {
    const percent = Math.round(Number(alert.threshold) * 10000) / 100;
    return t("alerts.describeRelative", { percent, of: t(`alerts.of.${alert.of}`), metric, period: t(`alerts.per.${alert.period}`) });
  }
  return t("alerts.describeAbsolute", { value: amount(alert.metric, alert.value), metric, period: t(`alerts.per.${alert.period}`) });
}

/** The figure now against what the threshold is measured by, e.g. "$1.2 of $10 (12%)". */
export function figure(alert, t) {
  const now = alert.current || {};
  const limit = Number(now.limit || 0);
  const observed = amount(alert.metric, now.observed);
  if (!limit) return observed;
  const share = Math.round((Number(now.observed || 0) / limit) * 1000) / 10;
  return t("alerts.figure", { observed, limit: amount(alert.metric, limit), share });
}

/** A crossing pushed on the live stream (`{"type": "alert", ...}`), in the page's language. */
export function crossing(event, t) {
  return t("alerts.fired", {
    observed: amount(event.metric, event.observed),
    limit: amount(event.metric, event.limit),
    metric: t(`alerts.metric.${event.metric}`),
    period: t(`alerts.per.${event.period}`),
  });
}
