import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import {
  AIHub,
  APIConnectionError,
  APIError,
  APITimeoutError,
  AuthenticationError,
  RateLimitError,
  Stream,
} from '../src/index.js';
import { CUT, cutAt, errorReply, sse, sseReply, startGateway } from '../test-support/fake-gateway.js';

const EVENTS = sse(
  { type: 'content', content: 'Hello', model: 'grok-beta' },
  { type: 'content', content: ' 世界 🚀', model: 'grok-beta' },
  { type: 'session', session_id: 'session_123' },
  {
    type: 'usage',
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8, estimated_cost_usd: 0.0001 },
    metadata: { service_used: 'openrouter', simulated: true, finish_reason: 'stop' },
  },
  { type: 'done' },
);
const USAGE = { promptTokens: 5, completionTokens: 3, totalTokens: 8, estimatedCostUsd: 0.0001 };
const EXPECTED = [
  { type: 'content', content: 'Hello', model: 'grok-beta' },
  { type: 'content', content: ' 世界 🚀', model: 'grok-beta' },
  { type: 'session', sessionId: 'session_123' },
  {
    type: 'usage',
    usage: USAGE,
    metadata: {
      serviceUsed: 'openrouter',
      simulated: true,
      finishReason: 'stop',
      responseTimeMs: null,
      requestId: null,
    },
  },
  { type: 'done' },
];
const HEADERS = { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '58', 'x-ratelimit-reset': '1700000000' };

/** Awkward cuts: inside the UTF-8 of 世 and 🚀, inside "data:", between CR and LF, every 7 bytes. */
function oddPieces(raw) {
  const at = (text, offset) => raw.indexOf(Buffer.from(text)) + offset;
  const cuts = new Set([at('世', 1), at('🚀', 2), at('data', 2), at('\r\n', 1)].filter((c) => c > 0));
  for (let i = 7; i < raw.length; i += 7) cuts.add(i);
  return cutAt(
    raw,
    [...cuts].sort((a, b) => a - b),
  );
}

const crlf = (raw) => Buffer.from(raw.toString('utf8').replaceAll('\n', '\r\n'));

async function collect(iterable) {
  const events = [];
  for await (const event of iterable) events.push(event);
  return events;
}

/** @type {Awaited<ReturnType<typeof startGateway>>} */
let gateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway.close());
afterEach(() => gateway.reset());

test('a stream split in odd places yields typed camelCase events', async () => {
  gateway.queue(sseReply(oddPieces(crlf(EVENTS)), HEADERS, 1));
  const stream = gateway.client().chat.stream({ message: 'Hello', model: 'x-ai/grok-beta', maxTokens: 20 });
  assert.ok(stream instanceof Stream);

  const events = await collect(stream);

  assert.deepEqual(events, EXPECTED);
  assert.equal(stream.requestId, 'req_stream');
  assert.deepEqual(stream.rateLimit, { limit: 60, remaining: 58, reset: 1700000000 });
  assert.equal(stream.sessionId, 'session_123');
  assert.deepEqual(stream.usage, USAGE);
  assert.equal(stream.metadata?.simulated, true);
  const request = gateway.last;
  assert.equal(request.path, '/v1/developer/chat/stream');
  assert.equal(request.headers.accept, 'text/event-stream');
  assert.ok(request.headers['idempotency-key']);
  assert.deepEqual(request.json, { message: 'Hello', model: 'x-ai/grok-beta', max_tokens: 20 });
});

test('exact chunk boundaries through a custom fetch, including one byte at a time', async () => {
  for (const pieces of [
    oddPieces(EVENTS),
    cutAt(
      EVENTS,
      Array.from({ length: EVENTS.length - 1 }, (_, i) => i + 1),
    ),
  ]) {
    const fetch = async () =>
      new Response(
        new ReadableStream({
          start(controller) {
            for (const piece of pieces) controller.enqueue(piece);
            controller.close();
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      );
    const client = new AIHub({ apiKey: 'k', baseURL: 'http://hub.test', fetch });
    assert.deepEqual(await collect(client.chat.stream({ message: 'hi' })), EXPECTED);
  }
});

test('text() collects the content, after events already read', async () => {
  gateway.queue(sseReply([EVENTS]));
  const stream = gateway.client().chat.stream({ message: 'Hello' });
  const iterator = stream[Symbol.asyncIterator]();
  assert.deepEqual((await iterator.next()).value, EXPECTED[0]);
  assert.equal(await stream.text(), 'Hello 世界 🚀');
});

test('the request is sent lazily; start() sends it and throws a non-2xx answer', async () => {
  const client = gateway.client();
  const stream = client.chat.stream({ message: 'Hello' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(gateway.requests.length, 0);
  gateway.queue(errorReply(401, 'authentication_error', 'invalid_api_key'));
  await assert.rejects(stream.start(), AuthenticationError);
  assert.equal(gateway.requests.length, 1);
});

test('an error event throws after the content before it', async () => {
  const failure = { type: 'error', error: { type: 'api_error', code: 'upstream_error', message: 'upstream died' } };
  gateway.queue(sseReply([sse({ type: 'content', content: 'Hel' }), sse(failure)]));
  const seen = [];
  const error = await (async () => {
    for await (const event of gateway.client().chat.stream({ message: 'Hello' })) seen.push(event);
  })().catch((e) => e);
  assert.deepEqual(seen, [{ type: 'content', content: 'Hel', model: null }]);
  assert.ok(error instanceof APIError);
  assert.deepEqual(
    [error.code, error.message, error.requestId, error.status],
    ['upstream_error', 'upstream died', 'req_stream', null],
  );
});

test('a rate-limit error event maps to RateLimitError', async () => {
  const failure = { type: 'error', error: { type: 'rate_limit_error', code: 'tokens_per_minute', message: 'm' } };
  gateway.queue(sseReply([sse({ type: 'content', content: 'a' }, failure)]));
  await assert.rejects(gateway.client().chat.stream({ message: 'x' }).text(), RateLimitError);
});

test('a stream that ends without done, or is cut, is an APIConnectionError', async () => {
  gateway.queue(
    sseReply([sse({ type: 'content', content: 'Hel' })]),
    sseReply([sse({ type: 'content', content: 'Hel' }), CUT]),
  );
  await assert.rejects(
    gateway.client().chat.stream({ message: 'a' }).text(),
    (e) => e.constructor === APIConnectionError && /ended before/.test(e.message),
  );
  await assert.rejects(gateway.client().chat.stream({ message: 'b' }).text(), APIConnectionError);
});

test('a stall between chunks longer than the timeout is an APITimeoutError', async () => {
  gateway.queue(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(sse({ type: 'content', content: 'a' }));
  });
  const stream = gateway.client({ timeout: 100 }).chat.stream({ message: 'x' });
  await assert.rejects(stream.text(), APITimeoutError);
});

test('slow streams within the timeout are fine: the timeout is per chunk', async () => {
  const pieces = [
    sse({ type: 'content', content: 'a' }),
    sse({ type: 'content', content: 'b' }),
    sse({ type: 'done' }),
  ];
  gateway.queue(sseReply(pieces, {}, 60));
  assert.equal(await gateway.client({ timeout: 100 }).chat.stream({ message: 'x' }).text(), 'ab');
});

test('breaking out early releases the stream; close() ends iteration', async () => {
  gateway.queue(
    sseReply([sse({ type: 'content', content: 'a' }), sse({ type: 'content', content: 'b' }), EVENTS], {}, 20),
  );
  const stream = gateway.client().chat.stream({ message: 'x' });
  for await (const event of stream) {
    assert.deepEqual(event, { type: 'content', content: 'a', model: null });
    break;
  }
  assert.deepEqual(await collect(stream), []);

  gateway.queue(sseReply([sse({ type: 'content', content: 'a' }), EVENTS], {}, 20));
  const other = gateway.client().chat.stream({ message: 'y' });
  const seen = [];
  for await (const event of other) {
    seen.push(event);
    await other.close();
  }
  assert.equal(seen.length, 1);
});

test('events after done are ignored; unknown kinds are skipped; bad data is an APIError', async () => {
  gateway.queue(
    sseReply([sse({ type: 'done' }, { type: 'content', content: 'late' })]),
    sseReply([sse({ type: 'heartbeat' }, { type: 'content', content: 'a' }, { type: 'done' })]),
    sseReply(['data: not json\n\n']),
  );
  const client = gateway.client();
  assert.deepEqual(await collect(client.chat.stream({ message: '1' })), [{ type: 'done' }]);
  assert.equal(await client.chat.stream({ message: '2' }).text(), 'a');
  await assert.rejects(
    client.chat.stream({ message: '3' }).text(),
    (e) => e instanceof APIError && /Malformed/.test(e.message),
  );
});
