// Operators (an admin's login token): every account with its plan, role and this month's
// requests and cost (GET /v1/admin/users), a plan changed in place (POST .../plan), and the
// services with whether each is simulated (GET /v1/developer/services).
import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd, when, toast } from "../ui.js";

const PLANS = ["free", "professional", "enterprise"];

export async function render(view) {
  const users = h("div", { id: "admin-users", "aria-live": "polite" });
  const services = h("section", { class: "card", id: "admin-services" });
  view.append(h("h1", {}, t("admin.title")), h("h2", {}, t("admin.users")), users, services);
  await Promise.all([drawUsers(users), drawServices(services)]);
}

async function drawUsers(box) {
  try {
    const data = await get("/v1/admin/users", { page_size: 0 });
    box.replaceChildren(h("p", { class: "muted" }, t("admin.count", { n: data.total_count || 0 })), table(data.users || [], box));
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

function table(users, box) {
  const head = ["admin.email", "admin.role", "admin.plan", "admin.monthRequests", "admin.monthCost", "keys.created"];
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { id: "admin-table" },
      h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
      h(
        "tbody",
        {},
        users.map((user) =>
          h(
            "tr",
            { "data-user-id": user.id },
            h("td", { "data-label": t("admin.email") }, user.email),
            h("td", { "data-label": t("admin.role") }, user.role === "admin" ? t("admin.roleAdmin") : t("admin.roleUser")),
            h("td", { "data-label": t("admin.plan") }, planPicker(user, box)),
            h("td", { "data-label": t("admin.monthRequests") }, number(user.month_requests)),
            h("td", { "data-label": t("admin.monthCost") }, usd(user.month_cost_usd)),
            h("td", { "data-label": t("keys.created") }, when(user.created_at)),
          ),
        ),
      ),
    ),
  );
}

/** The account's plan as a picker: choosing another moves the account at once. */
function planPicker(user, box) {
  const names = PLANS.includes(user.plan) ? PLANS : [...PLANS, user.plan];
  const picker = h("select", { "aria-label": t("admin.planOf", { email: user.email }) }, names.map((p) => h("option", { value: p, selected: p === user.plan }, p)));
  picker.addEventListener("change", async () => {
    picker.disabled = true;
    try {
      const { user: moved } = await call("POST", `/v1/admin/users/${encodeURIComponent(user.id)}/plan`, { body: { plan: picker.value } });
      toast(t("admin.planChanged", { email: moved.email, plan: moved.plan }));
      await drawUsers(box);
    } catch (err) {
      picker.value = user.plan;
      picker.disabled = false;
      box.prepend(errorBox(err));
    }
  });
  return picker;
}

async function drawServices(card) {
  try {
    const data = await get("/v1/developer/services");
    card.replaceChildren(
      h("h2", {}, t("admin.services")),
      h(
        "ul",
        { class: "plain", id: "admin-service-list" },
        data.services.map((name) =>
          h(
            "li",
            {},
            h("strong", {}, name),
            " ",
            h("span", { class: "pill" }, data.simulated && data.simulated[name] ? t("models.simulated") : t("admin.live")),
            name === data.default ? h("span", { class: "pill" }, t("admin.default")) : null,
          ),
        ),
      ),
    );
  } catch (err) {
    card.replaceChildren(errorBox(err));
  }
}
