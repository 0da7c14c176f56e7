// The model catalog (GET /models, filtered by the server by service and category), with prices
// per million tokens, context length, capabilities and the service that answers.
import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, perMillion } from "../ui.js";

const CATEGORIES = ["", "chat", "completion", "embedding"];
const filters = { service: "", category: "" };

export async function render(view) {
  const body = h("div", { id: "models-body", "aria-live": "polite" });
  const service = h("select", { id: "filter-service" }, h("option", { value: "" }, t("models.allServices")));
  const category = h("select", { id: "filter-category" }, CATEGORIES.map((c) => h("option", { value: c, selected: c === filters.category }, c ? c : t("models.allCategories"))));
  const onChange = () => {
    filters.service = service.value;
    filters.category = category.value;
    draw(body);
  };
  service.addEventListener("change", onChange);
  category.addEventListener("change", onChange);
  view.append(
    h("div", { class: "row wrap between" }, h("h1", {}, t("models.title")), h("div", { class: "row wrap" }, h("label", { for: "filter-service" }, t("models.service")), service, h("label", { for: "filter-category" }, t("models.category")), category)),
    body,
  );
  try {
    const services = await get("/v1/developer/services");
    for (const name of services.services) service.append(h("option", { value: name, selected: name === filters.service }, services.simulated && services.simulated[name] ? `${name} (${t("models.simulated")})` : name));
  } catch (err) {
    body.append(errorBox(err));
  }
  await draw(body);
}

async function draw(body) {
  try {
    const models = await collect();
    body.replaceChildren(
      h("p", { class: "muted" }, t("models.count", { n: models.length })),
      h(
        "div",
        { class: "scroll" },
        h(
          "table",
          { id: "models-table" },
          h("thead", {}, h("tr", {}, ["models.model", "models.service", "models.category", "models.context", "models.prompt", "models.completion", "models.capabilities"].map((k) => h("th", { scope: "col" }, t(k))))),
          h(
            "tbody",
            {},
            models.map((m) =>
              h(
                "tr",
                { "data-model": m.id },
                h("td", { "data-label": t("models.model") }, h("strong", {}, m.name || m.id), h("br"), h("code", {}, m.id), m.description ? h("div", { class: "muted small" }, m.description) : null),
                h("td", { "data-label": t("models.service") }, m.service),
                h("td", { "data-label": t("models.category") }, m.category),
                h("td", { "data-label": t("models.context") }, number(m.context_length)),
                h("td", { "data-label": t("models.prompt") }, perMillion(m.pricing && m.pricing.prompt)),
                h("td", { "data-label": t("models.completion") }, perMillion(m.pricing && m.pricing.completion)),
                h("td", { "data-label": t("models.capabilities") }, (m.capabilities || []).map((c) => h("span", { class: "pill" }, c))),
              ),
            ),
          ),
        ),
      ),
      h("p", { class: "muted small" }, t("models.priceNote")),
    );
  } catch (err) {
    body.replaceChildren(errorBox(err));
  }
}

/** Every page of the filtered catalog. */
async function collect() {
  const out = [];
  let token = "";
  do {
    const page = await get("/v1/developer/models", { ...filters, page_size: 200, page_token: token });
    out.push(...page.models);
    token = page.next_page_token || "";
  } while (token);
  return out;
}
