// AuthService, KeyService, ModelService and UsageService through the generated client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
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

test("log out: the token is refused from then on, another login token goes on (AuthService)", async () => {
  const { email, password, jwt } = await newAccount(hub.clients);
  const other = await hub.clients.auth.login({ email, password });
  const out = await hub.clients.auth.logout({}, bearer(jwt));
  assert.match(out.userId, /^user_/);
  assert.ok(timestampDate(out.expiresAt) > new Date());
  const refused = await hub.clients.keys.listApiKeys({}, bearer(jwt)).catch((e) => e);
  assert.ok(refused instanceof ConnectError, String(refused));
  assert.equal(refused.code, Code.Unauthenticated);
  assert.equal(refused.findDetails(ErrorInfoSchema)[0]?.reason, "TOKEN_REVOKED");
  await hub.clients.keys.listApiKeys({}, bearer(other.token));
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

test("rotate a key: the new secret works and, with no grace, the old one is expired (KeyService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const created = await hub.clients.keys.createApiKey({ name: "rotating" }, bearer(jwt));
  await hub.clients.usage.getQuota({}, bearer(created.key));
  const rotated = await hub.clients.keys.rotateApiKey({ keyId: created.id, graceSeconds: 0 }, bearer(jwt));
  assert.equal(rotated.id, created.id);
  assert.notEqual(rotated.key, created.key);
  assert.equal(timestampDate(rotated.previousKeyExpiresAt).getTime(), timestampDate(rotated.rotatedAt).getTime());
  await hub.clients.usage.getQuota({}, bearer(rotated.key));
  const refused = await hub.clients.usage.getQuota({}, bearer(created.key)).catch((e) => e);
  assert.ok(refused instanceof ConnectError, String(refused));
  assert.equal(refused.code, Code.Unauthenticated);
  assert.match(refused.rawMessage, /rotated/);
});

test("request logs: a page and the export of a new account's calls (UsageService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const { key } = await hub.clients.keys.createApiKey({ name: "logs" }, bearer(jwt));
  await hub.clients.chat.chat({ message: "hello" }, bearer(key));
  const page = await hub.clients.usage.listUsageLogs({ pageSize: 10 }, bearer(key));
  assert.equal(page.logs.length, 1);
  assert.equal(page.logs[0].keyName, "logs");
  assert.equal(page.logs[0].status, "ok");
  assert.equal(page.nextPageToken, "");
  const exported = [];
  for await (const batch of hub.clients.usage.exportUsageLogs({ status: "ok" }, bearer(key))) {
    exported.push(...batch.logs.map((log) => log.requestId));
  }
  assert.deepEqual(exported, [page.logs[0].requestId]);
});

test("usage breakdown: by model and by key, adding up to the usage totals (UsageService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const { key, id } = await hub.clients.keys.createApiKey({ name: "split" }, bearer(jwt));
  await hub.clients.chat.chat({ message: "hello" }, bearer(key));
  await hub.clients.chat.chat({ message: "again" }, bearer(key));
  const usage = await hub.clients.usage.getUsage({ period: "day" }, bearer(key));
  const split = await hub.clients.usage.getUsageBreakdown({ period: "day" }, bearer(jwt));
  assert.equal(split.startDate, usage.startDate);
  assert.equal(split.byModel.length, 1);
  assert.equal(split.byModel[0].requests, 2n);
  assert.equal(split.byModel[0].totalTokens, usage.totalTokens);
  assert.equal(split.byModel[0].costUsd, usage.totalCostUsd);
  assert.deepEqual(
    split.byKey.map((g) => [g.keyId, g.keyName, g.requests]),
    [[id, "split", 2n]],
  );
});

test("usage alerts: set, listed with their figures, refused naming the field, deleted (UsageService)", async () => {
  const { jwt } = await newAccount(hub.clients);
  const { alert } = await hub.clients.usage.createAlert(
    { metric: "requests", threshold: 0.5, of: "quota", name: "half" },
    bearer(jwt),
  );
  assert.match(alert.id, /^alert_/);
  assert.equal(alert.period, "month");
  assert.equal(alert.current.observed, 0);
  assert.ok(alert.current.limit > 0);
  const refused = await hub.clients.usage
    .createAlert({ metric: "tokens", threshold: 0.5, of: "quota" }, bearer(jwt))
    .catch((e) => e);
  assert.ok(refused instanceof ConnectError, String(refused));
  assert.equal(refused.code, Code.InvalidArgument);
  const listed = await hub.clients.usage.listAlerts({}, bearer(jwt));
  assert.deepEqual(listed.alerts.map((a) => a.id), [alert.id]);
  const deleted = await hub.clients.usage.deleteAlert({ alertId: alert.id }, bearer(jwt));
  assert.equal(deleted.deleted, true);
  assert.equal((await hub.clients.usage.listAlerts({}, bearer(jwt))).alerts.length, 0);
});
