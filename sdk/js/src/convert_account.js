/**
 * Decoded JSON bodies -> the SDK's answers about the account: quota, API keys, the login token
 * and usage alerts.
 * @module
 */

import { obj, optStr, optNum, num, strs, required, withRaw } from './fields.js';

/** @typedef {import('./fields.js').Json} Json */
/** @typedef {import('./convert.js').ResponseMeta} ResponseMeta */

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

/**
 * `POST /v1/auth/logout`: the login token is refused from now on.
 * @param {Json} body @param {ResponseMeta} meta
 */
export function loggedOut(body, meta) {
  return withRaw(
    {
      userId: required(body, 'user_id', 'the logout answer'),
      expiresAt: optStr(body.expires_at),
      requestId: meta.requestId,
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
