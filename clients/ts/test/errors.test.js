// A refused call's google.rpc.Status, read from its `grpc-status-details-bin` trailer: the
// ErrorInfo (reason, domain, the spec's error code and HTTP status) and, for a rate limit, the
// RetryInfo saying when to try again.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Code, ConnectError } from "@connectrpc/connect";

import { ErrorReason } from "../gen/aihub/v1/error_reason_pb.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { bearer, newKey, useCore } from "../test-support/clients.js";

const hub = useCore();

/** The error a call was refused with (fails the test if it was answered). */
async function refusal(call) {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ConnectError, String(err));
    return err;
  }
  assert.fail("the call was answered");
}

/** The one ErrorInfo of a refusal, checked for what every AI Hub refusal carries. */
function errorInfo(err) {
  assert.ok(err.metadata.get("grpc-status-details-bin"), "no rich status in the trailers");
  const infos = err.findDetails(ErrorInfoSchema);
  assert.equal(infos.length, 1, `details: ${err.details.map((d) => d.desc?.typeName ?? d.type)}`);
  const [info] = infos;
  assert.equal(info.domain, "aihub.dev");
  // Connect joins the headers and the trailers; the core sends the request id in both.
  const ids = new Set(err.metadata.get("x-request-id").split(", "));
  assert.deepEqual([...ids], [info.metadata.request_id]);
  return info;
}

test("a call over its key's rate limit: RESOURCE_EXHAUSTED with ErrorInfo and RetryInfo", async () => {
  const { key } = await newKey(hub.clients, { rateLimit: { requestsPerMinute: 1 } });
  // One request a minute: the second is refused (a third only if the minute rolled in between).
  let err;
  for (let call = 0; call < 3 && err === undefined; call++) {
    err = await hub.clients.usage.getQuota({}, bearer(key)).then(
      () => undefined,
      (e) => e,
    );
  }
  assert.ok(err instanceof ConnectError, `not refused: ${err}`);
  assert.equal(err.code, Code.ResourceExhausted);
  const info = errorInfo(err);
  assert.equal(info.reason, ErrorReason[ErrorReason.RATE_LIMIT_EXCEEDED]);
  assert.equal(info.metadata.code, "rate_limit_exceeded");
  assert.equal(info.metadata.http_status, "429");
  const [retry] = err.findDetails(RetryInfoSchema);
  assert.ok(retry, "no RetryInfo");
  const seconds = Number(retry.retryDelay.seconds);
  assert.ok(seconds >= 1 && seconds <= 60, `retry in ${seconds} s`);
  assert.match(err.metadata.get("x-ratelimit-limit"), /^1(, 1)*$/); // the key's own limit
  assert.match(err.metadata.get("x-ratelimit-remaining"), /^0(, 0)*$/);
});

test("an unknown API key: UNAUTHENTICATED with ErrorInfo and no RetryInfo", async () => {
  const err = await refusal(hub.clients.chat.chat({ message: "hi" }, bearer("ai-hub-not-a-key")));
  assert.equal(err.code, Code.Unauthenticated);
  const info = errorInfo(err);
  assert.equal(info.reason, ErrorReason[ErrorReason.INVALID_API_KEY]);
  assert.equal(info.metadata.http_status, "401");
  assert.deepEqual(err.findDetails(RetryInfoSchema), []);
});

test("a call without a credential: UNAUTHENTICATED, MISSING_API_KEY", async () => {
  const err = await refusal(hub.clients.models.listServices({}));
  assert.equal(err.code, Code.Unauthenticated);
  assert.equal(errorInfo(err).reason, ErrorReason[ErrorReason.MISSING_API_KEY]);
});

test("a bad argument: INVALID_ARGUMENT naming the parameter", async () => {
  const { key } = await newKey(hub.clients);
  const err = await refusal(hub.clients.usage.getUsage({ period: "decade" }, bearer(key)));
  assert.equal(err.code, Code.InvalidArgument);
  const info = errorInfo(err);
  assert.equal(info.metadata.http_status, "400");
  assert.equal(info.metadata.parameter, "period");
});

test("an unknown model: NOT_FOUND, model_not_found", async () => {
  const { key } = await newKey(hub.clients);
  const err = await refusal(hub.clients.chat.chat({ message: "hi", model: "no-such/model" }, bearer(key)));
  assert.equal(err.code, Code.NotFound);
  const info = errorInfo(err);
  assert.equal(info.reason, ErrorReason[ErrorReason.MODEL_NOT_FOUND]);
  assert.equal(info.metadata.code, "model_not_found");
  assert.equal(info.metadata.http_status, "404");
});
