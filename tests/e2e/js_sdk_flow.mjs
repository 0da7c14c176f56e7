// Drives the JavaScript SDK against a running gateway: node js_sdk_flow.mjs BASE_URL
// Prints one JSON line with what it saw; the pytest test asserts on it.
import { AIHub } from '../../sdk/js/src/index.js';

const client = new AIHub({ baseURL: process.argv[2] });
const info = await client.auth.register({ email: 'js@example.com', password: 'a-long-password' });
const admin = client.withToken(info.token);
const key = await admin.apiKeys.create({ name: 'js', permissions: ['chat', 'models', 'usage'] });
const app = client.withApiKey(key.key);

const answer = await app.chat.create({ message: 'Hello, world!', model: 'x-ai/grok-beta', maxTokens: 150 });
const streamed = await app.chat.stream({ message: 'Tell me a story', sessionId: answer.sessionId }).text();
const quota = await app.quota.get();
let notFound = null;
try {
  await app.chat.create({ message: 'hi', model: 'no/such-model' });
} catch (err) {
  notFound = { name: err.name, status: err.status, code: err.code };
}
const { alert } = await admin.alerts.create({ metric: 'requests', value: 1, period: 'day', name: 'first call' });
const alertsListed = (await admin.alerts.list()).alerts.map((a) => a.id);
let badAlert = null;
try {
  await admin.alerts.create({ metric: 'tokens', threshold: 0.5, of: 'quota' });
} catch (err) {
  badAlert = { status: err.status, parameter: err.details && err.details.parameter };
}
const alertDeleted = await admin.alerts.delete(alert.id);
await admin.apiKeys.delete(key.id);
let afterDelete = null;
try {
  await app.quota.get();
} catch (err) {
  afterDelete = err.status;
}
console.log(JSON.stringify({
  model: answer.model,
  totalTokens: answer.usage.totalTokens,
  promptPlusCompletion: answer.usage.promptTokens + answer.usage.completionTokens,
  limit: answer.rateLimit && answer.rateLimit.limit,
  streamedLength: streamed.length,
  quotaUsed: quota.quotaUsed,
  notFound,
  afterDelete,
  alert: { id: alert.id, limit: alert.current.limit, observed: alert.current.observed, period: alert.period },
  alertsListed,
  badAlert,
  alertDeleted: alertDeleted.deleted,
}));
