// AuthService, KeyService, ModelService and UsageService through the generated client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

import { bearer, newAccount, useCore } from "../test-support/clients.js";

const hub = useCore();

test("register, then log in with the same password (AuthService)", async () => {
  const { email, password, jwt } = await newAccount(hub.clients);
  assert.match(jwt, /^ey/);
  const login = await hub.clients.auth.login({ email, password });
  assert.equal(login.email, email);
  assert.match(login.userId, /\S/);
  assert.ok(timestampDate(login.expiresAt) > new Date());
  const refused = await hub.clients.auth.login({ email, password: "not the password" }).catch((e) => e);
  assert.ok(refused instanceof ConnectError, String(refused));
  assert.equal(refused.code, Code.Unauthenticated);
});

test("create, list and delete API keys; a deleted key stops working (KeyService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const created = await hub.clients.keys.createApiKey(
    {
      name: "reporting",
      permissions: ["usage"],
      permissionsPresent: true,
      rateLimit: { requestsPerMinute: 5 },
    },
    bearer(jwt),
  );
  assert.match(created.key, /^ai-hub-/);
  assert.deepEqual(created.permissions, ["usage"]);
  assert.equal(created.rateLimit?.requestsPerMinute, 5);

  const listed = await hub.clients.keys.listApiKeys({}, bearer(jwt));
  assert.equal(listed.totalCount, 1);
  assert.equal(listed.apiKeys[0].id, created.id);
  assert.ok(created.key.startsWith(listed.apiKeys[0].prefix));

  const quota = await hub.clients.usage.getQuota({}, bearer(created.key));
  assert.equal(quota.plan, "free");
  await hub.clients.keys.deleteApiKey({ keyId: created.id }, bearer(jwt));
  assert.equal((await hub.clients.keys.listApiKeys({}, bearer(jwt))).totalCount, 0);
  await assert.rejects(hub.clients.usage.getQuota({}, bearer(created.key)), { code: Code.Unauthenticated });
});

test("list services and models (ModelService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const { key } = await hub.clients.keys.createApiKey({ name: "models" }, bearer(jwt));
  const services = await hub.clients.models.listServices({}, bearer(key));
  assert.ok(services.services.includes("openrouter") && services.services.includes("gemini"));
  assert.ok(services.services.includes(services.default));
  assert.equal(services.simulated.gemini, true);
  assert.equal(services.capabilities.gemini.streaming, true);

  const gemini = await hub.clients.models.listModels({ service: "gemini" }, bearer(key));
  assert.ok(gemini.models.length > 0);
  assert.equal(gemini.totalCount, gemini.models.length);
  assert.ok(gemini.models.every((m) => m.service === "gemini"));
  const page = await hub.clients.models.listModels({ pageSize: 1 }, bearer(key));
  assert.equal(page.models.length, 1);
  assert.notEqual(page.nextPageToken, "");
});

test("usage and quota of a new account (UsageService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const { key } = await hub.clients.keys.createApiKey({ name: "usage" }, bearer(jwt));
  const quota = await hub.clients.usage.getQuota({}, bearer(key));
  assert.equal(quota.plan, "free");
  assert.equal(quota.rateLimit?.requestsPerMinute, 20);
  assert.ok(quota.quotaLimit > 0n);
  assert.equal(quota.quotaRemaining, quota.quotaLimit - quota.quotaUsed);
  assert.equal(timestampDate(quota.resetDate).getUTCDate(), 1);

  const usage = await hub.clients.usage.getUsage({ period: "month" }, bearer(key));
  assert.equal(usage.period, "month");
  assert.equal(usage.totalRequests, 0n);
  assert.equal(usage.totalTokens, 0n);
  assert.equal(usage.quotaLimit, quota.quotaLimit);
});
