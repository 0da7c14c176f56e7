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
