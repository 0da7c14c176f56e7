/**
 * Decoded JSON bodies (snake_case) and headers -> the SDK's camelCase answers.
 *
 * Readers are lenient about optional fields (a missing count is 0, a missing text null) so an
 * older or newer gateway still parses, and strict about the few fields an answer is meaningless
 * without. Each top-level answer keeps the decoded body as a non-enumerable `raw` property.
 * @module
 */

import { APIError } from './errors.js';

/** @typedef {Record<string, any>} Json */

/** @param {unknown} value @returns {Json} */
const obj = (value) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? /** @type {Json} */ (value) : {};
/** @param {unknown} value @returns {string | null} */
const optStr = (value) => (typeof value === 'string' ? value : null);
/** @param {unknown} value @returns {number | null} */
const optNum = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
/** @param {unknown} value @returns {number} */
const num = (value) => optNum(value) ?? 0;
/** @param {unknown} value @returns {string[]} */
const strs = (value) => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);
/** @param {string} text */
const camel = (text) => text.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/**
 * @param {Json} data
 * @param {string} key
 * @param {string} what
 * @returns {string}
 */
function required(data, key, what) {
  const value = data[key];
  if (typeof value === 'number' && key.endsWith('id')) return String(value);
  if (typeof value !== 'string') {
    throw new APIError(`Unexpected answer from the gateway: ${what} has no "${key}"`, { type: 'api_error' });
  }
  return value;
}

/**
 * @template {object} T
 * @param {T} answer
 * @param {Json} body
 * @returns {T}
 */
function withRaw(answer, body) {
  return Object.defineProperty(answer, 'raw', { value: body, enumerable: false });
}

/**
 * What an answer's headers say about it.
 * @param {Headers} headers
 */
export function responseMeta(headers) {
  /** @param {string} name */
  const int = (name) => {
    const value = headers.get(name);
    const parsed = value === null ? NaN : Math.trunc(Number(value));
    return Number.isFinite(parsed) ? parsed : null;
  };
  const limit = int('x-ratelimit-limit');
  const remaining = int('x-ratelimit-remaining');
  const reset = int('x-ratelimit-reset');
  const any = limit !== null || remaining !== null || reset !== null;
  return { requestId: headers.get('x-request-id'), rateLimit: any ? { limit, remaining, reset } : null };
}

/** @typedef {ReturnType<typeof responseMeta>} ResponseMeta */

/** @param {unknown} data */
export function usage(data) {
  const d = obj(data);
  return {
    promptTokens: num(d.prompt_tokens),
    completionTokens: num(d.completion_tokens),
    totalTokens: num(d.total_tokens),
    estimatedCostUsd: num(d.estimated_cost_usd),
  };
}

/** @param {unknown} data */
export function chatMetadata(data) {
  const d = obj(data);
  /** @type {Json} */
  const extra = {};
  for (const [key, value] of Object.entries(d)) extra[camel(key)] = value;
  return {
    ...extra,
    responseTimeMs: optNum(d.response_time_ms),
    serviceUsed: optStr(d.service_used),
    simulated: d.simulated === true,
    finishReason: optStr(d.finish_reason),
    requestId: optStr(d.request_id),
  };
}

/** @param {Json} body @param {ResponseMeta} meta */
export function chatResponse(body, meta) {
  return withRaw(
    {
      message: required(body, 'message', 'the chat answer'),
      model: optStr(body.model) ?? '',
      sessionId: optStr(body.session_id),
      usage: usage(body.usage),
      metadata: chatMetadata(body.metadata),
      requestId: meta.requestId ?? optStr(obj(body.metadata).request_id),
      rateLimit: meta.rateLimit,
    },
    body,
  );
}

/** @param {unknown} data */
function model(data) {
  const d = obj(data);
  const id = required(d, 'id', 'a model');
  const pricing = obj(d.pricing);
  return {
    id,
    name: optStr(d.name) ?? id,
    description: optStr(d.description) ?? '',
    contextLength: optNum(d.context_length),
    pricing: { prompt: num(pricing.prompt), completion: num(pricing.completion) },
    capabilities: strs(d.capabilities),
    service: optStr(d.service),
    category: optStr(d.category),
    aliases: strs(d.aliases),
  };
}

/** @param {Json} body @param {ResponseMeta} meta */
export function modelList(body, meta) {
  const models = Array.isArray(body.models) ? body.models.map(model) : [];
  return withRaw(
    {
      service: optStr(body.service),
      models,
      totalCount: optNum(body.total_count) ?? models.length,
      nextPageToken: optStr(body.next_page_token) ?? '',
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function serviceList(body, meta) {
  /** @type {Record<string, Record<string, unknown>>} */
  const capabilities = {};
  for (const [service, flags] of Object.entries(obj(body.capabilities))) {
    capabilities[service] = Object.fromEntries(Object.entries(obj(flags)).map(([k, v]) => [camel(k), v]));
  }
  /** @type {Record<string, boolean>} */
  const simulated = {};
  for (const [service, flag] of Object.entries(obj(body.simulated))) {
    if (typeof flag === 'boolean') simulated[service] = flag;
  }
  return withRaw(
    {
      services: strs(body.services),
      default: optStr(body.default),
      capabilities,
      simulated,
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function usageReport(body, meta) {
  const days = Array.isArray(body.daily_breakdown) ? body.daily_breakdown.map(obj) : [];
  return withRaw(
    {
      period: optStr(body.period),
      totalRequests: num(body.total_requests),
      totalTokens: num(body.total_tokens),
      totalCostUsd: num(body.total_cost_usd),
      startDate: optStr(body.start_date),
      endDate: optStr(body.end_date),
      quotaLimit: optNum(body.quota_limit),
      quotaUsed: optNum(body.quota_used),
      quotaRemaining: optNum(body.quota_remaining),
      dailyBreakdown: days.map((d) => ({
        date: optStr(d.date) ?? '',
        requests: num(d.requests),
        tokens: num(d.tokens),
        costUsd: num(d.cost_usd),
      })),
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function usageBreakdown(body, meta) {
  /** @param {unknown} groups */
  const list = (groups) =>
    (Array.isArray(groups) ? groups.map(obj) : []).map((g) => ({
      model: optStr(g.model) ?? '',
      keyId: optStr(g.key_id) ?? '',
      keyName: optStr(g.key_name) ?? '',
      requests: num(g.requests),
      promptTokens: num(g.prompt_tokens),
      completionTokens: num(g.completion_tokens),
      totalTokens: num(g.total_tokens),
      costUsd: num(g.cost_usd),
    }));
  return withRaw(
    {
      period: optStr(body.period),
      startDate: optStr(body.start_date),
      endDate: optStr(body.end_date),
      byModel: list(body.by_model),
      byKey: list(body.by_key),
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function usageLogPage(body, meta) {
  const entries = Array.isArray(body.logs) ? body.logs.map(obj) : [];
  return withRaw(
    {
      logs: entries.map((log) => ({
        requestId: required(log, 'request_id', 'a usage log'),
        createdAt: optStr(log.created_at),
        keyId: optStr(log.key_id) ?? '',
        keyName: optStr(log.key_name) ?? '',
        service: optStr(log.service) ?? '',
        model: optStr(log.model) ?? '',
        status: optStr(log.status) ?? '',
        promptTokens: num(log.prompt_tokens),
        completionTokens: num(log.completion_tokens),
        costUsd: num(log.cost_usd),
        usageSource: optStr(log.usage_source) ?? '',
        responseTimeMs: num(log.response_time_ms),
        sessionId: optStr(log.session_id) ?? '',
      })),
      nextPageToken: optStr(body.next_page_token) ?? '',
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {unknown} data */
function policy(data) {
  const d = obj(data);
  return {
    requestsPerMinute: optNum(d.requests_per_minute),
    tokensPerMinute: optNum(d.tokens_per_minute),
    concurrentRequests: optNum(d.concurrent_requests),
  };
}

/** @param {unknown} data */
function spendBudget(data) {
  const d = obj(data);
  return {
    scope: optStr(d.scope) ?? '',
    period: optStr(d.period) ?? '',
    limitUsd: num(d.limit_usd),
    spentUsd: num(d.spent_usd),
    reservedUsd: num(d.reserved_usd),
    resetsAt: optStr(d.resets_at),
  };
}

/** @param {unknown} data */
function keyBudget(data) {
  if (!data || typeof data !== 'object') return null;
  const d = obj(data);
  return { limitUsd: num(d.limit_usd), period: optStr(d.period) ?? '' };
}

/** @param {Json} body @param {ResponseMeta} meta */
export function quota(body, meta) {
  return withRaw(
    {
      plan: optStr(body.plan) ?? '',
      quotaLimit: optNum(body.quota_limit),
      quotaUsed: num(body.quota_used),
      quotaRemaining: optNum(body.quota_remaining),
      resetDate: optStr(body.reset_date),
      rateLimit: policy(body.rate_limit),
      budgets: Array.isArray(body.budgets) ? body.budgets.map(spendBudget) : [],
      requestId: meta.requestId,
    },
    body,
  );
}

/** One key of a list: no request id of its own (the list's answer has one). @param {Json} body */
function apiKey(body) {
  return withRaw(
    {
      id: required(body, 'id', 'an API key'),
      name: optStr(body.name) ?? '',
      prefix: optStr(body.prefix),
      createdAt: optStr(body.created_at),
      permissions: strs(body.permissions),
      lastUsed: optStr(body.last_used),
      rateLimit: body.rate_limit && typeof body.rate_limit === 'object' ? policy(body.rate_limit) : null,
      expiresAt: optStr(body.expires_at),
      rotatedAt: optStr(body.rotated_at),
      budget: keyBudget(body.budget),
    },
    body,
  );
}

/** `POST /api-keys`: the key with its secret. @param {Json} body @param {ResponseMeta} meta */
export function createdApiKey(body, meta) {
  const key = required(body, 'key', 'the created key');
  return Object.assign(apiKey(body), { key, requestId: meta.requestId });
}

/** `POST /api-keys/{keyId}/rotate`: the key with its new secret. @param {Json} body @param {ResponseMeta} meta */
export function rotatedApiKey(body, meta) {
  const key = required(body, 'key', 'the rotated key');
  const previousKeyExpiresAt = optStr(body.previous_key_expires_at);
  return Object.assign(apiKey(body), { key, previousKeyExpiresAt, requestId: meta.requestId });
}

/** @param {Json} body @param {ResponseMeta} meta */
export function apiKeyList(body, meta) {
  const entries = Array.isArray(body.api_keys) ? body.api_keys : [];
  const apiKeys = entries.map((entry) => apiKey(obj(entry)));
  return withRaw(
    {
      apiKeys,
      totalCount: optNum(body.total_count) ?? apiKeys.length,
      nextPageToken: optStr(body.next_page_token) ?? '',
      requestId: meta.requestId,
    },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function deletedApiKey(body, meta) {
  return withRaw(
    { id: required(body, 'id', 'the deleted key'), deleted: body.deleted === true, requestId: meta.requestId },
    body,
  );
}

/** One alert, without a request id of its own. @param {Json} body */
function alert(body) {
  const current = obj(body.current);
  return withRaw(
    {
      id: required(body, 'id', 'an alert'),
      name: optStr(body.name) ?? '',
      metric: optStr(body.metric) ?? '',
      threshold: num(body.threshold),
      of: optStr(body.of) ?? '',
      value: num(body.value),
      period: optStr(body.period) ?? '',
      createdAt: optStr(body.created_at),
      lastFiredAt: optStr(body.last_fired_at),
      current: { observed: num(current.observed), limit: num(current.limit) },
    },
    body,
  );
}

/** `POST /alerts`: `{"alert": ...}`. @param {Json} body @param {ResponseMeta} meta */
export function createdAlert(body, meta) {
  return withRaw({ alert: alert(obj(body.alert)), requestId: meta.requestId }, body);
}

/** @param {Json} body @param {ResponseMeta} meta */
export function alertList(body, meta) {
  const entries = Array.isArray(body.alerts) ? body.alerts : [];
  return withRaw({ alerts: entries.map((entry) => alert(obj(entry))), requestId: meta.requestId }, body);
}

/** @param {Json} body @param {ResponseMeta} meta */
export function deletedAlert(body, meta) {
  return withRaw(
    { id: required(body, 'id', 'the deleted alert'), deleted: body.deleted === true, requestId: meta.requestId },
    body,
  );
}

/** @param {Json} body @param {ResponseMeta} meta */
export function tokenInfo(body, meta) {
  return withRaw(
    {
      userId: required(body, 'user_id', 'the login answer'),
      email: optStr(body.email) ?? '',
      token: required(body, 'token', 'the login answer'),
      expiresAt: optStr(body.expires_at),
      role: optStr(body.role) ?? 'user',
      requestId: meta.requestId,
    },
    body,
  );
}
