// The request log on the usage page (GET /v1/developer/usage/logs with the login token): filters
// by model, status, key and time, pages by the API's cursor, and a CSV export of every matching
// row (the same call with format=csv, fetched with the token in a header, saved from a Blob URL).
import { get, download } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd, when } from "../ui.js";

const STATUSES = ["", "ok", "error", "refused", "cancelled", "pending"];
const PAGE_SIZES = [10, 25, 50, 100];

/** The log's card. `range()` gives the usage page's window as {start, end} (`YYYY-MM-DD`,
 * end exclusive); `keys` the account's keys for the key filter. Returns {element, reload}. */
export function requestLog(range, keys) {
  const model = h("input", { id: "log-model", placeholder: t("log.anyModel"), size: 18 });
  const status = h("select", { id: "log-status" }, STATUSES.map((s) => h("option", { value: s }, s ? t(`log.status.${s}`) : t("log.anyStatus"))));
  const key = h("select", { id: "log-key" }, h("option", { value: "" }, t("log.anyKey")), keys.map((k) => h("option", { value: k.id }, k.name)));
  const size = h("select", { id: "log-size" }, PAGE_SIZES.map((n) => h("option", { value: n, selected: n === 25 }, n)));
  const rows = h("div", { id: "log-rows", "aria-live": "polite" });
  const pager = h("div", { class: "row wrap between", id: "log-pager" });
  const problem = h("div", { "aria-live": "polite" });
  // The cursors of the pages shown so far: going back pops one.
  const pages = [""];
  const query = () => ({ ...range(), model: model.value.trim(), status: status.value, key_id: key.value });
  const show = async () => {
    try {
      const data = await get("/v1/developer/usage/logs", { ...query(), page_size: size.value, page_token: pages.at(-1) });
      rows.replaceChildren(data.logs.length ? table(data.logs) : h("p", { class: "muted" }, t("log.none")));
      const back = h("button", { type: "button", id: "log-newer", disabled: pages.length === 1, onclick: () => (pages.pop(), show()) }, t("log.newer"));
      const next = h("button", { type: "button", id: "log-older", disabled: !data.next_page_token, onclick: () => (pages.push(data.next_page_token), show()) }, t("log.older"));
      pager.replaceChildren(h("span", { class: "muted small", id: "log-page" }, t("log.page", { n: pages.length })), h("span", { class: "row" }, back, next));
    } catch (err) {
      rows.replaceChildren(errorBox(err));
    }
  };
  const reload = () => {
    pages.splice(1);
    return show();
  };
  for (const input of [status, key, size]) input.addEventListener("change", reload);
  model.addEventListener("change", reload);
  const exportButton = h("button", { type: "button", id: "log-csv" }, t("log.csv"));
  exportButton.addEventListener("click", async () => {
    problem.replaceChildren();
    exportButton.disabled = true;
    try {
      const { start, end } = range();
      await download("/v1/developer/usage/logs", { ...query(), format: "csv" }, `aihub-logs-${start}-${end}.csv`);
    } catch (err) {
      problem.replaceChildren(errorBox(err));
    } finally {
      exportButton.disabled = false;
    }
  });
  const label = (id, text) => h("label", { for: id, class: "inline" }, text);
  const element = h(
    "section",
    { class: "card", id: "request-log" },
    h("div", { class: "row wrap between" }, h("h2", {}, t("log.title")), exportButton),
    h("p", { class: "muted small" }, t("log.note")),
    h("div", { class: "row wrap filters" }, label("log-model", t("log.model")), model, label("log-status", t("log.status")), status, label("log-key", t("log.key")), key, label("log-size", t("log.rows")), size),
    problem,
    rows,
    pager,
  );
  return { element, reload };
}

function table(logs) {
  const head = ["log.time", "log.model", "log.key", "log.status", "log.tokens", "usage.cost", "log.latency", "log.requestId"];
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id: "log-table" },
      h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
      h(
        "tbody",
        {},
        logs.map((log) =>
          h(
            "tr",
            {},
            h("td", { "data-label": t("log.time") }, when(log.created_at)),
            h("td", { "data-label": t("log.model") }, log.model, h("div", { class: "muted small" }, log.service)),
            h("td", { "data-label": t("log.key"), class: "nowrap" }, log.key_name || t("log.loginToken")),
            h("td", { "data-label": t("log.status") }, h("span", { class: `pill status-${log.status}` }, t(`log.status.${log.status}`))),
            h("td", { "data-label": t("log.tokens") }, `${number(log.prompt_tokens)} + ${number(log.completion_tokens)}`),
            h("td", { "data-label": t("usage.cost") }, usd(log.cost_usd)),
            h("td", { "data-label": t("log.latency") }, `${number(log.response_time_ms)} ms`),
            h("td", { "data-label": t("log.requestId") }, h("code", { class: "small" }, log.request_id)),
          ),
        ),
      ),
    ),
  );
}
