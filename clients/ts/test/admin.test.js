// AdminService through the generated client: an operator's login token lists the accounts and
// moves one to another plan; anyone else is refused with ADMIN_ONLY.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";

import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { bearer, newAccount, newKey, useCore } from "../test-support/clients.js";
import { operator } from "../test-support/core.js";

const hub = useCore();

test("an admin lists the accounts and moves one to another plan (AdminService)", async () => {
  const ops = await newAccount(hub.clients);
  const dev = await newKey(hub.clients);
  await hub.clients.chat.chat({ message: "hello" }, bearer(dev.key));

  const refused = await hub.clients.admin.listUsers({}, bearer(ops.jwt)).catch((e) => e);
  assert.ok(refused instanceof ConnectError, String(refused));
  assert.equal(refused.code, Code.PermissionDenied);
  assert.equal(refused.findDetails(ErrorInfoSchema)[0]?.reason, "ADMIN_ONLY");

  await operator(hub.db, "users", "set-role", ops.email, "admin");
  const listed = await hub.clients.admin.listUsers({ pageSize: 10 }, bearer(ops.jwt));
  const byEmail = Object.fromEntries(listed.users.map((u) => [u.email, u]));
  assert.equal(byEmail[ops.email].role, "admin");
  assert.equal(byEmail[dev.email].plan, "free");
  assert.equal(byEmail[dev.email].monthRequests, 1n);

  const moved = await hub.clients.admin.setUserPlan(
    { userId: byEmail[dev.email].id, plan: "professional" },
    bearer(ops.jwt),
  );
  assert.equal(moved.user?.plan, "professional");
  assert.equal((await hub.clients.usage.getQuota({}, bearer(dev.key))).plan, "professional");
  await assert.rejects(
    hub.clients.admin.setUserPlan({ userId: byEmail[ops.email].id, plan: "enterprise" }, bearer(dev.jwt)),
    { code: Code.PermissionDenied },
  );
});

test("an admin sets a budget, lists the plans, the overview and the services (AdminService)", async () => {
  const ops = await newAccount(hub.clients);
  const dev = await newKey(hub.clients);
  await hub.clients.chat.chat({ message: "hello" }, bearer(dev.key));
  await operator(hub.db, "users", "set-role", ops.email, "admin");
  const auth = bearer(ops.jwt);
  const listed = await hub.clients.admin.listUsers({}, auth);
  const devId = listed.users.find((u) => u.email === dev.email).id;

  const budgeted = await hub.clients.admin.setUserBudget({ userId: devId, limitUsd: 3, period: "day" }, auth);
  assert.deepEqual([budgeted.user?.budget?.limitUsd, budgeted.user?.budget?.period], [3, "day"]);
  const removed = await hub.clients.admin.setUserBudget({ userId: devId, limitUsd: 0 }, auth);
  assert.equal(removed.user?.budget, undefined);

  const plans = await hub.clients.admin.listPlans({}, auth);
  assert.deepEqual(plans.plans.slice(0, 3).map((p) => p.name), ["free", "professional", "enterprise"]);
  assert.ok(plans.plans.every((p) => p.builtin));

  const overview = await hub.clients.admin.getOverview({ topModels: 5 }, auth);
  // The core is shared by this file's tests: the gateway's calls so far, all of them today.
  assert.equal(overview.daily.length, 1);
  assert.ok(overview.totalRequests >= 1n);
  assert.equal(overview.daily[0].requests, overview.totalRequests);
  assert.equal(overview.topModels.reduce((n, m) => n + m.requests, 0n), overview.totalRequests);
  assert.ok(overview.totalCostUsd > 0);

  const health = await hub.clients.admin.getServiceHealth({}, auth);
  const openrouter = health.services.find((s) => s.name === "openrouter");
  assert.equal(openrouter?.simulated, true);
  assert.equal(openrouter?.status, "healthy");
  assert.ok(health.process.includes(":"));
  await assert.rejects(hub.clients.admin.getServiceHealth({}, bearer(dev.jwt)), { code: Code.PermissionDenied });
});
