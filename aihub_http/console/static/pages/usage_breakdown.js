// The breakdown by model and by key on the usage page. GET /usage reports totals per day only,
// so the figures are summed from the request log of the same window (GET /usage/logs, read a
// thousand rows at a time, at most MAX_PAGES pages): a presentation of what the API returned.
import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd } from "../ui.js";

const MAX_PAGES = 10;

/** The two breakdown tables for the window `range` ({start, end}, end exclusive). */
export async function breakdown(range) {
  try {
    const { logs, complete } = await readLogs(range);
    const byModel = group(logs, (l) => l.model || "–");
    const byKey = group(logs, (l) => l.key_name || t("log.loginToken"));
    return h(
      "div",
      { class: "charts", id: "breakdown" },
      groupTable("breakdown-model", t("usage.byModel"), t("log.model"), byModel),
      groupTable("breakdown-key", t("usage.byKey"), t("log.key"), byKey),
      complete ? null : h("p", { class: "muted small" }, t("usage.breakdownPartial", { n: number(logs.length) })),
    );
  } catch (err) {
    return errorBox(err);
  }
}

async function readLogs(range) {
  const logs = [];
  let token = "";
  for (let page = 0; page < MAX_PAGES; page++) {
    const data = await get("/v1/developer/usage/logs", { ...range, page_size: 1000, page_token: token });
    logs.push(...data.logs);
    token = data.next_page_token;
    if (!token) return { logs, complete: true };
  }
  return { logs, complete: false };
}

/** Requests, tokens and cost per name, the most expensive first. Calls a limit refused are left
 * out, as the usage figures leave them out (never charged, never counted). */
function group(logs, name) {
  const totals = new Map();
  for (const log of logs) {
    if (log.status === "refused") continue;
    const key = name(log);
    const row = totals.get(key) || { name: key, requests: 0, tokens: 0, cost: 0 };
    row.requests += 1;
    row.tokens += Number(log.prompt_tokens || 0) + Number(log.completion_tokens || 0);
    row.cost += Number(log.cost_usd || 0);
    totals.set(key, row);
  }
  return [...totals.values()].sort((a, b) => b.cost - a.cost || b.requests - a.requests);
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
