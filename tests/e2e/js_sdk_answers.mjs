// Calls every JavaScript SDK method that returns a proto-mapped answer against a running gateway:
// node js_sdk_answers.mjs BASE_URL. Prints one JSON object: for each answer, what the SDK made of
// it (`sdk`) and the JSON body it read (`raw`); tests/e2e/test_sdk_contract.py compares the two.
import { AIHub } from '../../sdk/js/src/index.js';

const client = new AIHub({ baseURL: process.argv[2] });
const seen = {};
/** @param {string} name @param {any} answer */
const keep = (name, answer) => {
  seen[name] = { sdk: answer, raw: answer.raw };
};

const registered = await client.auth.register({ email: 'contract-js@example.com', password: 'a-long-password' });
keep('RegisterResponse', registered);
keep('LoginResponse', await client.auth.login({ email: 'contract-js@example.com', password: 'a-long-password' }));
const admin = client.withToken(registered.token);
// A budget and an expiry, so the key's and the quota's budget fields are read live too.
const created = await admin.apiKeys.create({
  name: 'js',
  requestsPerMinute: 10,
  expiresAt: '2099-01-01T00:00:00Z',
  budget: { limitUsd: 5, period: 'day' },
});
if (created.budget?.limitUsd !== 5) throw new Error(`the created key has no budget: ${JSON.stringify(created)}`);
keep('CreateApiKeyResponse', created);
const app = client.withApiKey(created.key);
keep('ChatResponse', await app.chat.create({ message: 'Hello, world!', model: 'grok-beta', maxTokens: 50 }));
keep('ListModelsResponse', await app.models.list());
keep('ListServicesResponse', await app.services.list());
keep('GetUsageResponse', await app.usage.get({ startDate: '2025-09-01', endDate: '2025-09-30' }));
const quota = await app.quota.get();
if (quota.budgets.length !== 1 || quota.budgets[0].scope !== 'key') throw new Error(`no key budget in the quota: ${JSON.stringify(quota)}`);
keep('GetQuotaResponse', quota);
keep('ListUsageLogsResponse', await app.usage.logs({ pageSize: 1 }));
const breakdown = await app.usage.breakdown({ period: 'day' });
if (!breakdown.byModel.length || !breakdown.byKey.length) throw new Error(`an empty breakdown: ${JSON.stringify(breakdown)}`);
keep('GetUsageBreakdownResponse', breakdown);
await app.chat.create({ message: 'Hello again' }); // last_used is set on the key now
keep('ListApiKeysResponse', await admin.apiKeys.list());
keep('RotateApiKeyResponse', await admin.apiKeys.rotate(created.id, { graceSeconds: 60 }));
keep('DeleteApiKeyResponse', await admin.apiKeys.delete(created.id));
const made = await admin.alerts.create({ metric: 'requests', threshold: 0.5, of: 'quota' });
keep('CreateAlertResponse', made);
keep('ListAlertsResponse', await admin.alerts.list());
keep('DeleteAlertResponse', await admin.alerts.delete(made.alert.id));
keep('LogoutResponse', await admin.auth.logout());
console.log(JSON.stringify(seen));
