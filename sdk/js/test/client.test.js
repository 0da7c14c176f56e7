import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { AIHub, APIError, AuthenticationError, VERSION } from '../src/index.js';
import { reply, startGateway } from '../test-support/fake-gateway.js';

const CHAT_ANSWER = {
  message: 'Hi there!',
  model: 'openrouter:x-ai/grok-beta',
  session_id: 'session_123',
  usage: { prompt_tokens: 25, completion_tokens: 150, total_tokens: 175, estimated_cost_usd: 0.00035 },
  metadata: {
    response_time_ms: 1250,
    service_used: 'openrouter',
    simulated: true,
    finish_reason: 'stop',
    request_id: 'req_1',
  },
};
const RATE_HEADERS = { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '59', 'x-ratelimit-reset': '1640995200' };
const KEY = {
  id: 'key_123',
  name: 'My App Key',
  created_at: '2025-09-29T10:00:00Z',
  permissions: ['chat', 'models', 'usage'],
  last_used: null,
  rate_limit: { requests_per_minute: 30 },
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requests and answers', () => {
  /** @type {Awaited<ReturnType<typeof startGateway>>} */
  let gateway;
  before(async () => {
    gateway = await startGateway();
  });
  after(() => gateway.close());
  afterEach(() => gateway.reset());

  test('chat.create sends the spec body and converts the answer to camelCase', async () => {
    gateway.queue(reply(200, CHAT_ANSWER, RATE_HEADERS));
    const client = gateway.client();

    const response = await client.chat.create({ message: 'Hello, world!', model: 'x-ai/grok-beta', maxTokens: 150 });

    const request = gateway.last;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/developer/chat');
    assert.equal(request.headers.authorization, 'Bearer ai-hub-test-key');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.accept, 'application/json');
    assert.equal(request.headers['user-agent'], `ai-hub-js/${VERSION}`);
    assert.match(request.headers['idempotency-key'], UUID);
    assert.deepEqual(request.json, { message: 'Hello, world!', model: 'x-ai/grok-beta', max_tokens: 150 });
    assert.deepEqual(response, {
      message: 'Hi there!',
      model: 'openrouter:x-ai/grok-beta',
      sessionId: 'session_123',
      usage: { promptTokens: 25, completionTokens: 150, totalTokens: 175, estimatedCostUsd: 0.00035 },
      metadata: {
        responseTimeMs: 1250,
        serviceUsed: 'openrouter',
        simulated: true,
        finishReason: 'stop',
        requestId: 'req_1',
      },
      requestId: 'req_1',
      rateLimit: { limit: 60, remaining: 59, reset: 1640995200 },
    });
    assert.equal(response.raw.session_id, 'session_123');
    assert.ok(!Object.keys(response).includes('raw'));
  });

  test('chat.create sends every option in REST form', async () => {
    gateway.queue(reply(200, CHAT_ANSWER));
    await gateway.client().chat.create({
      message: 'Describe this',
      model: 'gemini-1.5-pro',
      service: 'gemini',
      maxTokens: 10,
      temperature: 0.2,
      sessionId: 'session_9',
      images: ['aGVsbG8=', new Uint8Array([0x89, 0x50, 0x4e, 0x47])],
      systemPrompt: 'Be brief',
      idempotencyKey: 'idem-1',
    });
    assert.deepEqual(gateway.last.json, {
      message: 'Describe this',
      model: 'gemini-1.5-pro',
      service: 'gemini',
      max_tokens: 10,
      temperature: 0.2,
      session_id: 'session_9',
      images: ['aGVsbG8=', Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64')],
      context: { system_prompt: 'Be brief' },
    });
    assert.equal(gateway.last.headers['idempotency-key'], 'idem-1');
  });

  test('each chat call has its own idempotency key; answers without rate headers have null', async () => {
    gateway.queue(reply(200, { message: 'a', model: 'm' }), reply(200, { message: 'b', model: 'm' }));
    const client = gateway.client();
    const first = await client.chat.create({ message: 'one' });
    await client.chat.create({ message: 'two' });
    assert.notEqual(gateway.requests[0].headers['idempotency-key'], gateway.requests[1].headers['idempotency-key']);
    assert.equal(first.rateLimit, null);
    assert.equal(first.sessionId, null);
    assert.deepEqual(first.usage, { promptTokens: 0, completionTokens: 0, totalTokens: 0, estimatedCostUsd: 0 });
  });

  test('models, services, usage and quota', async () => {
    const model = {
      id: 'x-ai/grok-beta',
      name: 'Grok Beta',
      description: 'X.AI',
      context_length: 131072,
      pricing: { prompt: 0.000002, completion: 0.000002 },
      capabilities: ['chat', 'multimodal'],
      service: 'openrouter',
      category: 'chat',
      aliases: ['grok-beta'],
    };
    gateway.queue(
      reply(200, { service: 'openrouter', models: [model], total_count: 23 }),
      reply(200, {
        services: ['openrouter', 'gemini'],
        default: 'openrouter',
        capabilities: { gemini: { text_generation: true } },
        simulated: { openrouter: true, gemini: false },
      }),
      reply(200, {
        period: 'custom',
        start_date: '2025-09-01',
        end_date: '2025-09-30',
        total_requests: 1250,
        total_tokens: 125000,
        total_cost_usd: 2.35,
        quota_limit: 10000,
        quota_used: 1250,
        quota_remaining: 8750,
        daily_breakdown: [{ date: '2025-09-01', requests: 45, tokens: 4500, cost_usd: 0.09 }],
      }),
      reply(200, {
        plan: 'professional',
        quota_limit: 10000,
        quota_used: 1250,
        quota_remaining: 8750,
        reset_date: '2025-10-01T00:00:00Z',
        rate_limit: { requests_per_minute: 60, tokens_per_minute: 15000, concurrent_requests: 10 },
      }),
    );
    const client = gateway.client();

    const models = await client.models.list({ service: 'openrouter', category: 'chat' });
    const services = await client.services.list();
    const usage = await client.usage.get({ startDate: new Date('2025-09-01T00:00:00Z'), endDate: '2025-09-30' });
    const quota = await client.quota.get();

    const [m, s, u, q] = gateway.requests;
    assert.deepEqual(
      [m.method, m.path, m.query],
      ['GET', '/v1/developer/models', { service: 'openrouter', category: 'chat' }],
    );
    assert.equal(m.headers['idempotency-key'], undefined);
    assert.equal(m.headers['content-type'], undefined);
    assert.deepEqual([s.method, s.path], ['GET', '/v1/developer/services']);
    assert.deepEqual([u.path, u.query], ['/v1/developer/usage', { start_date: '2025-09-01', end_date: '2025-09-30' }]);
    assert.equal(q.path, '/v1/developer/quota');

    assert.equal(models.totalCount, 23);
    assert.deepEqual(models.models[0], {
      id: 'x-ai/grok-beta',
      name: 'Grok Beta',
      description: 'X.AI',
      contextLength: 131072,
      pricing: { prompt: 0.000002, completion: 0.000002 },
      capabilities: ['chat', 'multimodal'],
      service: 'openrouter',
      category: 'chat',
      aliases: ['grok-beta'],
    });
    assert.deepEqual(services.services, ['openrouter', 'gemini']);
    assert.equal(services.default, 'openrouter');
    assert.deepEqual(services.capabilities, { gemini: { textGeneration: true } });
    assert.deepEqual(services.simulated, { openrouter: true, gemini: false });
    assert.equal(usage.totalCostUsd, 2.35);
    assert.deepEqual([usage.period, usage.startDate, usage.endDate], ['custom', '2025-09-01', '2025-09-30']);
    assert.deepEqual(usage.dailyBreakdown, [{ date: '2025-09-01', requests: 45, tokens: 4500, costUsd: 0.09 }]);
    assert.equal(quota.plan, 'professional');
    assert.deepEqual(quota.rateLimit, { requestsPerMinute: 60, tokensPerMinute: 15000, concurrentRequests: 10 });
    assert.equal(quota.resetDate, '2025-10-01T00:00:00Z');
  });

  test('usage breakdown by model and by key', async () => {
    const group = { requests: 3, prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, cost_usd: 0.25 };
    gateway.queue(
      reply(200, {
        period: 'custom',
        start_date: '2025-09-01',
        end_date: '2025-09-30',
        by_model: [{ model: 'x-ai/grok-beta', key_id: '', key_name: '', ...group }],
        by_key: [{ model: '', key_id: 'key_1', key_name: 'CI', ...group }, { requests: 1 }],
      }),
    );
    const client = gateway.client();

    const breakdown = await client.usage.breakdown({ startDate: new Date('2025-09-01T00:00:00Z'), endDate: '2025-09-30' });

    const [b] = gateway.requests;
    assert.deepEqual(
      [b.method, b.path, b.query],
      ['GET', '/v1/developer/usage/breakdown', { start_date: '2025-09-01', end_date: '2025-09-30' }],
    );
    assert.deepEqual([breakdown.period, breakdown.startDate, breakdown.endDate], ['custom', '2025-09-01', '2025-09-30']);
    const figures = { requests: 3, promptTokens: 30, completionTokens: 12, totalTokens: 42, costUsd: 0.25 };
    assert.deepEqual(breakdown.byModel, [{ model: 'x-ai/grok-beta', keyId: '', keyName: '', ...figures }]);
    // The login token's group: no key id, no name; absent figures are zeros.
    const none = { requests: 1, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 };
    assert.deepEqual(breakdown.byKey, [
      { model: '', keyId: 'key_1', keyName: 'CI', ...figures },
      { model: '', keyId: '', keyName: '', ...none },
    ]);
  });

  test('lists without filters send no query', async () => {
    gateway.queue(reply(200, { models: [] }), reply(200, { period: 'week' }));
    const client = gateway.client();
    const models = await client.models.list();
    await client.usage.get({ period: 'week' });
    assert.deepEqual(gateway.requests[0].query, {});
    assert.equal(models.totalCount, 0);
    assert.deepEqual(gateway.requests[1].query, { period: 'week' });
  });

  test('a key budget on create, in the key, and in the quota', async () => {
    const budget = { limit_usd: 5, period: 'day' };
    gateway.queue(
      reply(201, { ...KEY, key: 'ai-hub-new', budget }),
      reply(200, {
        plan: 'free',
        quota_used: 1,
        rate_limit: {},
        budgets: [
          {
            scope: 'key',
            period: 'day',
            limit_usd: 5,
            spent_usd: 0.00011,
            reserved_usd: 0.0002,
            resets_at: '2025-10-02T00:00:00Z',
          },
        ],
      }),
    );
    const created = await gateway
      .client({ token: 'jwt' })
      .apiKeys.create({ name: 'capped', budget: { limitUsd: 5, period: 'day' } });
    const quota = await gateway.client().quota.get();
    assert.deepEqual(gateway.requests[0].json, { name: 'capped', budget });
    assert.deepEqual(created.budget, { limitUsd: 5, period: 'day' });
    assert.deepEqual(quota.budgets, [
      {
        scope: 'key',
        period: 'day',
        limitUsd: 5,
        spentUsd: 0.00011,
        reservedUsd: 0.0002,
        resetsAt: '2025-10-02T00:00:00Z',
      },
    ]);
  });

  test('register, login, manage keys with the token, chat with the new key', async () => {
    const info = { user_id: 'user_1', email: 'a@b.c', token: 'jwt-1', expires_at: '2025-10-01T00:00:00Z' };
    gateway.queue(
      reply(201, info),
      reply(200, info),
      reply(201, { ...KEY, key: 'ai-hub-new' }),
      reply(200, { api_keys: [{ ...KEY, prefix: 'ai-hub-abc' }], total_count: 1, next_page_token: '' }),
      reply(200, { id: 'key_123', deleted: true }),
      reply(200, CHAT_ANSWER),
    );
    const client = new AIHub({ baseURL: gateway.url, apiKey: null });

    const registered = await client.auth.register({ email: 'a@b.c', password: 'pw-123456' });
    const loggedIn = await client.auth.login({ email: 'a@b.c', password: 'pw-123456' });
    const admin = client.withToken(loggedIn.token);
    const created = await admin.apiKeys.create({ name: 'ci', permissions: ['chat'], requestsPerMinute: 30 });
    const listed = await admin.apiKeys.list();
    const deleted = await admin.apiKeys.delete('key_123');
    await client.withApiKey(created.key).chat.create({ message: 'hi' });

    const [register, login, create, list, del, chat] = gateway.requests;
    assert.deepEqual([register.path, login.path], ['/v1/auth/register', '/v1/auth/login']);
    assert.deepEqual(register.json, { email: 'a@b.c', password: 'pw-123456' });
    assert.equal(register.headers.authorization, undefined);
    assert.equal(login.headers.authorization, undefined);
    assert.deepEqual([create.method, create.path], ['POST', '/v1/developer/api-keys']);
    assert.deepEqual(create.json, { name: 'ci', permissions: ['chat'], rate_limit: { requests_per_minute: 30 } });
    assert.deepEqual([list.method, del.method, del.path], ['GET', 'DELETE', '/v1/developer/api-keys/key_123']);
    for (const r of [create, list, del]) assert.equal(r.headers.authorization, 'Bearer jwt-1');
    assert.equal(chat.headers.authorization, 'Bearer ai-hub-new');

    assert.deepEqual(registered, {
      userId: 'user_1',
      email: 'a@b.c',
      token: 'jwt-1',
      expiresAt: '2025-10-01T00:00:00Z',
      role: 'user',
      requestId: 'req_1',
    });
    assert.equal(created.key, 'ai-hub-new');
    assert.deepEqual(created.rateLimit, { requestsPerMinute: 30, tokensPerMinute: null, concurrentRequests: null });
    assert.equal(created.lastUsed, null);
    assert.equal(listed.totalCount, 1);
    assert.equal(listed.apiKeys[0].prefix, 'ai-hub-abc');
    assert.equal('key' in listed.apiKeys[0], false);
    assert.deepEqual(deleted, { id: 'key_123', deleted: true, requestId: 'req_1' });
  });

  test('logout ends the login token it is sent with', async () => {
    gateway.queue(reply(200, { user_id: 'user_1', expires_at: '2025-10-01T00:00:00Z' }));
    const client = new AIHub({ baseURL: gateway.url, apiKey: null });

    const ended = await client.withToken('jwt-1').auth.logout();

    const [logout] = gateway.requests;
    assert.deepEqual([logout.method, logout.path], ['POST', '/v1/auth/logout']);
    assert.equal(logout.headers.authorization, 'Bearer jwt-1');
    assert.deepEqual(ended, { userId: 'user_1', expiresAt: '2025-10-01T00:00:00Z', requestId: 'req_1' });
  });

  test('usage alerts: created, listed and deleted with the token, in REST form', async () => {
    const made = {
      id: 'alert_1', name: 'half', metric: 'requests', threshold: 0.5, of: 'quota', value: 0, period: 'month',
      created_at: '2026-12-03T00:00:00Z', last_fired_at: null, current: { observed: 3, limit: 500 },
    };
    gateway.queue(
      reply(201, { alert: made }),
      reply(200, { alerts: [made] }),
      reply(200, { id: 'alert/1', deleted: true }),
    );
    const admin = gateway.client({ token: 'jwt' });
    const { alert: created } = await admin.alerts.create({ metric: 'requests', threshold: 0.5, of: 'quota', name: 'half' });
    const listed = await admin.alerts.list();
    const deleted = await admin.alerts.delete('alert/1');
    const [create, list, del] = gateway.requests;
    assert.deepEqual([create.method, create.path], ['POST', '/v1/developer/alerts']);
    assert.deepEqual(create.json, { metric: 'requests', threshold: 0.5, of: 'quota', name: 'half' });
    assert.deepEqual([list.method, list.path], ['GET', '/v1/developer/alerts']);
    assert.deepEqual([del.method, del.path], ['DELETE', '/v1/developer/alerts/alert%2F1']);
    for (const r of [create, list, del]) assert.equal(r.headers.authorization, 'Bearer jwt');
    assert.equal(created.lastFiredAt, null);
    assert.deepEqual(created.current, { observed: 3, limit: 500 });
    assert.equal(listed.alerts[0].period, 'month');
    assert.equal(deleted.deleted, true);
  });

  test('key ids are escaped in the path', async () => {
    gateway.queue(reply(200, { id: 'a/b', deleted: true }));
    await gateway.client({ token: 'jwt' }).apiKeys.delete('a/b');
    assert.equal(gateway.last.path, '/v1/developer/api-keys/a%2Fb');
  });

  test('missing credentials fail before sending', async () => {
    const saved = process.env.AI_HUB_API_KEY;
    delete process.env.AI_HUB_API_KEY;
    try {
      const client = new AIHub({ baseURL: gateway.url });
      await assert.rejects(
        client.quota.get(),
        (err) => err instanceof AuthenticationError && err.code === 'missing_credentials' && err.status === null,
      );
      await assert.rejects(client.apiKeys.list(), /withToken/);
      assert.equal(gateway.requests.length, 0);
    } finally {
      if (saved !== undefined) process.env.AI_HUB_API_KEY = saved;
    }
  });

  test('a non-JSON or incomplete success body is an APIError', async () => {
    gateway.queue(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>proxy</html>');
      },
      reply(200, { model: 'm' }),
    );
    const client = gateway.client();
    await assert.rejects(client.quota.get(), (err) => err instanceof APIError && /proxy/.test(err.message));
    await assert.rejects(
      client.chat.create({ message: 'hi' }),
      (err) => err instanceof APIError && /message/.test(err.message),
    );
  });

  test('base URLs copied with the API prefix work', async () => {
    for (const suffix of ['', '/', '/v1', '/v1/developer/']) {
      gateway.queue(reply(200, { plan: 'free' }));
      await gateway.client({ baseURL: gateway.url + suffix }).quota.get();
      assert.equal(gateway.last.path, '/v1/developer/quota');
    }
  });
});

describe('configuration', () => {
  test('defaults and environment fallbacks', () => {
    const saved = { key: process.env.AI_HUB_API_KEY, url: process.env.AI_HUB_BASE_URL };
    try {
      delete process.env.AI_HUB_API_KEY;
      delete process.env.AI_HUB_BASE_URL;
      const plain = new AIHub();
      assert.equal(plain.baseURL, 'http://127.0.0.1:8000');
      assert.equal(plain.apiKey, null);
      assert.equal(plain.token, null);
      process.env.AI_HUB_API_KEY = 'ai-hub-from-env';
      process.env.AI_HUB_BASE_URL = 'https://hub.example/';
      const fromEnv = new AIHub();
      assert.deepEqual([fromEnv.apiKey, fromEnv.baseURL], ['ai-hub-from-env', 'https://hub.example']);
      const explicit = new AIHub({ apiKey: 'ai-hub-x', baseURL: 'http://other:9000' });
      assert.deepEqual([explicit.apiKey, explicit.baseURL], ['ai-hub-x', 'http://other:9000']);
    } finally {
      for (const [name, value] of [
        ['AI_HUB_API_KEY', saved.key],
        ['AI_HUB_BASE_URL', saved.url],
      ]) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('invalid options are refused', () => {
    assert.throws(() => new AIHub({ maxRetries: -1 }), RangeError);
    assert.throws(() => new AIHub({ maxRetries: 1.5 }), RangeError);
  });

  test('a custom fetch is used, and kept by derived clients', async () => {
    const seen = [];
    const fetch = async (url, init) => {
      seen.push([url, init.headers.Authorization]);
      return new Response(JSON.stringify({ plan: 'free' }), { status: 200 });
    };
    const client = new AIHub({ apiKey: 'k', baseURL: 'http://hub.test', fetch });
    await client.quota.get();
    await client
      .withToken('jwt')
      .apiKeys.list()
      .catch(() => {});
    assert.deepEqual(seen, [
      ['http://hub.test/v1/developer/quota', 'Bearer k'],
      ['http://hub.test/v1/developer/api-keys', 'Bearer jwt'],
    ]);
  });
});

test('the package entry point exports the documented names and the package version', async () => {
  const entry = await import('ai-hub-js');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(entry.VERSION, pkg.version);
  assert.equal(entry.default, entry.AIHub);
  for (const name of ['AIHub', 'Stream', 'AIHubError', 'RateLimitError', 'APIConnectionError', 'APITimeoutError']) {
    assert.equal(typeof entry[name], 'function', name);
  }
});
