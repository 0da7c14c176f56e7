import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { APIConnectionError, APIError, ConflictError, RateLimitError } from '../src/index.js';
import { retryDelay } from '../src/transport.js';
import { CUT, errorReply, hangUp, reply, sse, sseReply, startGateway } from '../test-support/fake-gateway.js';

const CHAT = { message: 'ok', model: 'm' };
const retryAfter = (seconds) => ({ headers: { 'retry-after': String(seconds) } });

/** @type {Awaited<ReturnType<typeof startGateway>>} */
let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway.close());
afterEach(() => gateway.reset());

test('5xx on a GET is retried with growing, jittered backoff', async () => {
  gateway.queue(errorReply(500, 'api_error', 'internal_error'), errorReply(503, 'api_error', 'x'), reply(200, {}));
  await gateway.client().quota.get();
  assert.equal(gateway.requests.length, 3);
  const [first, second] = gateway.sleeps;
  assert.ok(first >= 250 && first <= 500, String(first));
  assert.ok(second >= 500 && second <= 1000, String(second));
});

test('retries stop after maxRetries; maxRetries 0 sends once', async () => {
  gateway.queue(...Array.from({ length: 4 }, () => errorReply(502, 'api_error', 'upstream_error')));
  await assert.rejects(gateway.client({ maxRetries: 3 }).models.list(), APIError);
  assert.equal(gateway.requests.length, 4);
  assert.equal(gateway.sleeps.length, 3);
  gateway.reset();
  gateway.queue(errorReply(500, 'api_error', 'internal_error'));
  await assert.rejects(gateway.client({ maxRetries: 0 }).services.list(), APIError);
  assert.equal(gateway.requests.length, 1);
});

test('Retry-After is honoured; beyond a minute it is thrown, not slept', async () => {
  gateway.queue(errorReply(429, 'rate_limit_error', 'rate_limit_exceeded', retryAfter(7)), reply(200, {}));
  await gateway.client().usage.get();
  assert.deepEqual(gateway.sleeps, [7000]);
  gateway.reset();
  gateway.queue(errorReply(429, 'rate_limit_error', 'rate_limit_exceeded', retryAfter(3600)));
  await assert.rejects(gateway.client().usage.get(), (e) => e instanceof RateLimitError && e.retryAfter === 3600);
  assert.deepEqual(gateway.sleeps, []);
});

test('a spent quota and 4xx answers are not retried', async () => {
  gateway.queue(errorReply(429, 'rate_limit_error', 'quota_exceeded', retryAfter(1)));
  await assert.rejects(gateway.client().quota.get(), RateLimitError);
  gateway.queue(errorReply(409, 'invalid_request_error', 'already_exists'));
  await assert.rejects(gateway.client().auth.register({ email: 'a@b.c', password: 'pw' }), ConflictError);
  assert.equal(gateway.requests.length, 2);
});

test('dropped connections on a GET are retried', async () => {
  gateway.queue(hangUp, hangUp, reply(200, { plan: 'free' }));
  assert.equal((await gateway.client().quota.get()).plan, 'free');
  assert.equal(gateway.requests.length, 3);
});

test('chat.create is retried with the same idempotency key and body', async () => {
  gateway.queue(hangUp, errorReply(429, 'rate_limit_error', 'rate_limit_exceeded', retryAfter(0)), reply(200, CHAT));
  assert.equal((await gateway.client().chat.create({ message: 'hi' })).message, 'ok');
  const keys = new Set(gateway.requests.map((r) => r.headers['idempotency-key']));
  assert.equal(gateway.requests.length, 3);
  assert.equal(keys.size, 1);
  assert.deepEqual(new Set(gateway.requests.map((r) => r.body)).size, 1);
});

test('POSTs without an idempotency key are never retried', async () => {
  const failures = [
    hangUp,
    errorReply(500, 'api_error', 'internal_error'),
    errorReply(429, 'rate_limit_error', 'x', retryAfter(0)),
  ];
  for (const failure of failures) {
    gateway.reset();
    gateway.queue(failure);
    await assert.rejects(gateway.client({ token: 'jwt' }).apiKeys.create({ name: 'k' }));
    assert.equal(gateway.requests.length, 1);
  }
  gateway.reset();
  gateway.queue(errorReply(500, 'api_error', 'internal_error'));
  await assert.rejects(gateway.client().auth.login({ email: 'a@b.c', password: 'pw' }), APIError);
  assert.equal(gateway.requests.length, 1);
});

test('DELETE is idempotent and retried', async () => {
  gateway.queue(errorReply(503, 'api_error', 'service_unavailable'), reply(200, { id: 'k1', deleted: true }));
  assert.equal((await gateway.client({ token: 'jwt' }).apiKeys.delete('k1')).deleted, true);
  assert.equal(gateway.requests.length, 2);
});

test('a stream is retried until it starts, with the same key', async () => {
  gateway.queue(
    errorReply(503, 'api_error', 'service_unavailable', retryAfter(0)),
    sseReply([sse({ type: 'content', content: 'hi' }, { type: 'done' })]),
  );
  assert.equal(await gateway.client().chat.stream({ message: 'hi' }).text(), 'hi');
  assert.equal(gateway.requests.length, 2);
  assert.equal(gateway.requests[0].headers['idempotency-key'], gateway.requests[1].headers['idempotency-key']);
});

test('a stream is never retried once it started', async () => {
  gateway.queue(sseReply([sse({ type: 'content', content: 'partial' }), CUT]));
  await assert.rejects(gateway.client().chat.stream({ message: 'hi' }).text(), APIConnectionError);
  assert.equal(gateway.requests.length, 1);
  assert.deepEqual(gateway.sleeps, []);
});

test('retryDelay: the policy as a table', () => {
  const get = { method: 'GET', path: '/', auth: 'apiKey' };
  const post = { method: 'POST', path: '/', auth: 'apiKey' };
  const keyed = { ...post, idempotencyKey: 'k' };
  const server = new APIError('x', { status: 500 });
  const badRequest = new APIError('x', { status: 400 });
  const mid = () => 0.5;
  assert.equal(retryDelay(get, server, 0, 2, null, mid), 0.375);
  assert.equal(retryDelay(get, server, 1, 2, null, mid), 0.75);
  assert.equal(retryDelay(get, server, 5, 9, null, mid), 6);
  assert.equal(retryDelay(get, server, 2, 2, null, mid), null);
  assert.equal(retryDelay(post, server, 0, 2, null, mid), null);
  assert.equal(retryDelay(keyed, server, 0, 2, null, mid), 0.375);
  assert.equal(retryDelay(get, badRequest, 0, 2, null, mid), null);
  assert.equal(retryDelay(get, new APIConnectionError('x'), 0, 2, null, mid), 0.375);
  assert.equal(retryDelay(get, server, 0, 2, new Headers({ 'retry-after': '2' }), mid), 2);
});
