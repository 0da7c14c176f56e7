/**
 * Decoded JSON bodies (snake_case) and headers -> the SDK's camelCase answers.
 *
 * Readers are lenient about optional fields (a missing count is 0, a missing text null) so an
 * older or newer gateway still parses, and strict about the few fields an answer is meaningless
 * without. Each top-level answer keeps the decoded body as a non-enumerable `raw` property.
 * @module
 */

import { obj, optStr, optNum, num, strs, camel, required, withRaw } from './fields.js';

export * from './convert_account.js';

/** @typedef {import('./fields.js').Json} Json */

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

