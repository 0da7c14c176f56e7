// Operators (an admin's login token): the gateway's usage over a range with its top models and
// the services' health (admin_overview.js); every account with its plan, role, this month's
// requests and cost and its budget (GET /v1/admin/users); a plan changed in place from the plans
// the gateway knows (GET /v1/admin/plans, POST .../plan) and a budget set or removed in a dialog
// (POST .../budget).
import { call, get } from "../api.js";
import { t } from "../i18n.js";
import { h, errorBox, number, usd, when, toast } from "../ui.js";
import { overview, services } from "./admin_overview.js";

const BUILTIN_PLANS = ["free", "professional", "enterprise"];
const PERIODS = ["month", "day"];

export async function render(view) {
  const summary = h("section", { id: "admin-overview", "aria-live": "polite" });
  const users = h("div", { id: "admin-users", "aria-live": "polite" });
  const health = h("section", { class: "card", id: "admin-services" });
  view.append(h("h1", {}, t("admin.title")), summary, h("h2", {}, t("admin.users")), users, health);
  const plans = await get("/v1/admin/plans").then((d) => d.plans || [], () => BUILTIN_PLANS.map((name) => ({ name })));
  users.plans = plans;
  await Promise.all([overview(summary), drawUsers(users), services(health)]);
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
  const head = ["admin.email", "admin.role", "admin.plan", "admin.monthRequests", "admin.monthCost", "admin.budget", "keys.created"];
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
            h("td", { "data-label": t("admin.budget") }, budgetCell(user, box)),
            h("td", { "data-label": t("keys.created") }, when(user.created_at)),
          ),
        ),
      ),
    ),
  );
}

/** The account's plan as a picker of every plan the gateway knows: choosing one moves it at once. */
function planPicker(user, box) {
  const names = box.plans.map((p) => p.name);
  if (!names.includes(user.plan)) names.push(user.plan);
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

const budgetText = (b) => t("keys.budgetOf", { usd: Number(b.limit_usd).toLocaleString("en-US", { maximumFractionDigits: 6 }), per: t(`keys.per.${b.period}`) });

/** The account's own budget (or none), its plan's monthly one if any, and the button to change it. */
function budgetCell(user, box) {
  const own = user.budget ? budgetText(user.budget) : t("keys.noBudget");
  const plan = user.plan_monthly_budget_usd ? h("small", { class: "muted" }, ` ${t("admin.planBudget", { usd: usd(user.plan_monthly_budget_usd) })}`) : null;
  const edit = h("button", { type: "button", class: "small", "aria-label": t("admin.budgetOf", { email: user.email }) }, t("admin.editBudget"));
  edit.addEventListener("click", () => editBudget(user, box));
  return h("span", { class: "budget" }, h("span", { class: "budget-value" }, own), plan, " ", edit);
}

async function editBudget(user, box) {
  const choice = await budgetDialog(user);
  if (choice === null) return;
  try {
    const { user: changed } = await call("POST", `/v1/admin/users/${encodeURIComponent(user.id)}/budget`, { body: choice });
    toast(changed.budget ? t("admin.budgetSet", { email: changed.email, budget: budgetText(changed.budget) }) : t("admin.budgetRemoved", { email: changed.email }));
    await drawUsers(box);
  } catch (err) {
    box.prepend(errorBox(err));
  }
}

/** Ask for the budget: resolves to {limit_usd, period} ({limit_usd: 0} removes it), or null. */
function budgetDialog(user) {
  return new Promise((resolve) => {
    const amount = h("input", { id: "budget-usd", type: "number", min: 0.01, step: 0.01, inputmode: "decimal", value: user.budget ? user.budget.limit_usd : "" });
    const period = h("select", { id: "budget-period" }, PERIODS.map((p) => h("option", { value: p, selected: user.budget ? p === user.budget.period : p === "month" }, t(`keys.per.${p}`))));
    const problem = h("p", { class: "error", role: "alert", hidden: true });
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": t("admin.budgetOf", { email: user.email }) },
      h("p", {}, t("admin.budgetQuestion", { email: user.email })),
      h("label", { for: "budget-usd" }, t("admin.budgetUsd")),
      amount,
      h("label", { for: "budget-period" }, t("keys.budgetPeriod")),
      period,
      problem,
      h(
        "form",
        { method: "dialog", class: "row" },
        h("button", { value: "no", class: "ghost", autofocus: true }, t("common.cancel")),
        user.budget ? h("button", { value: "remove", class: "danger" }, t("admin.removeBudget")) : null,
        h("button", { value: "yes", class: "primary" }, t("admin.saveBudget")),
      ),
    );
    dialog.querySelector("button[value=yes]").addEventListener("click", (event) => {
      if (Number(amount.value) > 0) return;
      event.preventDefault(); // stay open: a budget needs an amount
      problem.textContent = t("admin.budgetNeeded");
      problem.hidden = false;
      amount.focus();
    });
    dialog.addEventListener("close", () => {
      const answer = dialog.returnValue;
      resolve(answer === "yes" ? { limit_usd: Number(amount.value), period: period.value } : answer === "remove" ? { limit_usd: 0 } : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
