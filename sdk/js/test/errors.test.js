import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  AIHubError,
  APIConnectionError,
  APIError,
  APITimeoutError,
  AuthenticationError,
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from '../src/index.js';
import { makeError, parseRetryAfter } from '../src/errors.js';
import { errorReply, hangUp, silence, startGateway } from '../test-support/fake-gateway.js';

describe('error answers', () => {
  /** @type {Awaited<ReturnType<typeof startGateway>>} */
  let gateway;
  before(async () => {
    gateway = await startGateway();
  });
  after(() => gateway.close());
  afterEach(() => gateway.reset());

  const cases = [
    [400, 'invalid_request_error', 'invalid_parameter', InvalidRequestError],
    [404, 'invalid_request_error', 'not_found', NotFoundError],
    [409, 'invalid_request_error', 'already_exists', ConflictError],
    [401, 'authentication_error', 'invalid_api_key', AuthenticationError],
    [403, 'permission_error', 'insufficient_permissions', PermissionDeniedError],
    [429, 'rate_limit_error', 'quota_exceeded', RateLimitError],
    [500, 'api_error', 'internal_error', APIError],
    [502, 'api_error', 'upstream_error', APIError],
  ];
  for (const [status, type, code, Cls] of cases) {
    test(`${status} ${type} -> ${Cls.name}`, async () => {
      gateway.queue(errorReply(status, type, code, { message: 'Invalid API key provided' }));
      const error = await gateway
        .client({ maxRetries: 0 })
        .models.list()
        .then(
          () => assert.fail('no error'),
          (e) => e,
        );
      assert.equal(error.constructor, Cls);
      assert.ok(error instanceof AIHubError && error instanceof Error);
      assert.equal(error.name, Cls.name);
      assert.deepEqual(
        [error.status, error.type, error.code, error.message, error.details, error.requestId],
        [status, type, code, 'Invalid API key provided', { parameter: 'x' }, 'req_err'],
      );
    });
  }

  test('a rate limit error carries Retry-After', async () => {
    gateway.queue(errorReply(429, 'rate_limit_error', 'rate_limit_exceeded', { headers: { 'retry-after': '75' } }));
    await assert.rejects(gateway.client().quota.get(), (e) => e instanceof RateLimitError && e.retryAfter === 75);
  });

  test('a non-JSON error answer keeps its text', async () => {
    gateway.queue((_req, res) => {
      res.writeHead(404, { 'x-request-id': 'req_404' });
      res.end('no such route');
    });
    await assert.rejects(
      gateway.client().quota.get(),
      (e) => e instanceof NotFoundError && e.message === 'no such route' && e.requestId === 'req_404',
    );
  });

  test('a refused connection is an APIConnectionError with its cause', async () => {
    const client = gateway.client({ baseURL: 'http://127.0.0.1:1', maxRetries: 0 });
    const error = await client.quota.get().catch((e) => e);
    assert.equal(error.constructor, APIConnectionError);
    assert.equal(error.status, null);
    assert.ok(error.cause);
  });

  test('a dropped connection is an APIConnectionError', async () => {
    gateway.queue(hangUp);
    await assert.rejects(gateway.client({ maxRetries: 0 }).quota.get(), (e) => e.constructor === APIConnectionError);
  });

  test('no answer within the timeout is an APITimeoutError', async () => {
    gateway.queue(silence);
    await assert.rejects(gateway.client({ maxRetries: 0, timeout: 50 }).quota.get(), APITimeoutError);
  });

  test("the caller's abort signal rejects with its reason and is not retried", async () => {
    gateway.queue(silence);
    const controller = new AbortController();
    const pending = gateway.client().quota.get({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user gave up')), 20);
    await assert.rejects(pending, /user gave up/);
    assert.equal(gateway.requests.length, 1);
  });
});

describe('makeError', () => {
  const statusCases = [
    [400, InvalidRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
    [418, InvalidRequestError],
    [429, RateLimitError],
    [503, APIError],
  ];
  test('bodies without the error shape map by status', () => {
    for (const [status, Cls] of statusCases) {
      const error = makeError(status, null, { fallbackMessage: 'Bad Gateway' });
      assert.equal(error.constructor, Cls, String(status));
      assert.deepEqual([error.status, error.type, error.code, error.message], [status, null, null, 'Bad Gateway']);
    }
  });

  test('an unknown type falls back to the status; the body request id is used', () => {
    const error = makeError(403, { error: { type: 'brand_new_error', message: 'm' }, request_id: 'req_body' });
    assert.equal(error.constructor, PermissionDeniedError);
    assert.equal(error.type, 'brand_new_error');
    assert.equal(error.requestId, 'req_body');
  });

  test('stream error events have no status', () => {
    const error = makeError(null, {
      type: 'error',
      error: { type: 'api_error', code: 'upstream_error', message: 'm' },
    });
    assert.equal(error.constructor, APIError);
    assert.equal(error.status, null);
  });

  test('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = 1_000_000_000;
    assert.equal(parseRetryAfter(null, now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter('3', now), 3);
    assert.equal(parseRetryAfter('1.5', now), 1.5);
    assert.equal(parseRetryAfter('-4', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 30);
  });

  test('the class tree', () => {
    for (const Cls of [
      InvalidRequestError,
      AuthenticationError,
      PermissionDeniedError,
      RateLimitError,
      APIError,
      APIConnectionError,
    ]) {
      assert.ok(Cls.prototype instanceof AIHubError);
    }
    assert.ok(NotFoundError.prototype instanceof InvalidRequestError);
    assert.ok(ConflictError.prototype instanceof InvalidRequestError);
    assert.ok(APITimeoutError.prototype instanceof APIConnectionError);
  });
});
