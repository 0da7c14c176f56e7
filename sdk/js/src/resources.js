/**
 * The API's resources: each method turns camelCase parameters into a REST request and converts
 * the answer back to camelCase.
 * @module
 */

import * as convert from './convert.js';
import { Stream } from './stream.js';

const DEVELOPER = '/v1/developer';

/**
 * @typedef {import('./client.js').AIHub} AIHub
 * @typedef {import('./client.js').RequestOptions} RequestOptions
 * @typedef {object} ChatParams
 * @property {string} message
 * @property {string} [model]
 * @property {string} [service]
 * @property {number} [maxTokens]
 * @property {number} [temperature]
 * @property {string} [sessionId]
 * @property {Array<string | Uint8Array>} [images] base64 text, or bytes (encoded for you)
 * @property {string} [systemPrompt]
 * @property {string} [idempotencyKey] default: a fresh key per call
 */

/** A fresh idempotency key: the gateway replays the stored answer when a retry sends it again. */
export function newIdempotencyKey() {
  const crypto = /** @type {any} */ (globalThis).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** @param {string | Uint8Array} image */
function base64(image) {
  if (typeof image === 'string') return image;
  let binary = '';
  for (let i = 0; i < image.length; i += 0x8000) binary += String.fromCharCode(...image.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * The JSON body of `/chat` and `/chat/stream`; unset options are left out.
 * @param {ChatParams} params
 * @returns {Record<string, unknown>}
 */
export function chatBody(params) {
  const { message, model, service, maxTokens, temperature, sessionId, images, systemPrompt } = params;
  /** @type {Record<string, unknown>} */
  const body = { message };
  const optional = { model, service, max_tokens: maxTokens, temperature, session_id: sessionId };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined && value !== null) body[name] = value;
  if (images !== undefined && images !== null) body.images = images.map(base64);
  if (systemPrompt !== undefined && systemPrompt !== null) body.context = { system_prompt: systemPrompt };
  return body;
}

/** @param {string | Date | undefined | null} value */
function day(value) {
  return value instanceof Date ? value.toISOString().slice(0, 10) : value;
}

class Resource {
  /** @param {AIHub} client */
  constructor(client) {
    /** @protected */
    this._client = client;
  }
}

/** `/v1/developer/chat` and `/v1/developer/chat/stream`. */
export class Chat extends Resource {
  /**
   * Send a message and wait for the whole answer.
   * @param {ChatParams} params
   * @param {RequestOptions} [options]
   */
  create(params, options) {
    const request = {
      method: 'POST',
      path: `${DEVELOPER}/chat`,
      auth: /** @type {const} */ ('apiKey'),
      json: chatBody(params),
      idempotencyKey: params.idempotencyKey ?? newIdempotencyKey(),
    };
    return this._client._call(request, convert.chatResponse, options);
  }

  /**
   * Send a message and iterate the answer as it is generated; sent on `start()` or first iteration.
   * @param {ChatParams} params
   * @param {RequestOptions} [options]
   */
  stream(params, options) {
    const request = {
      method: 'POST',
      path: `${DEVELOPER}/chat/stream`,
      auth: /** @type {const} */ ('apiKey'),
      json: chatBody(params),
      idempotencyKey: params.idempotencyKey ?? newIdempotencyKey(),
      stream: true,
    };
    return new Stream(() => this._client._send(request, options));
  }
}

export class Models extends Resource {
  /**
   * The model catalog, optionally for one service or category (chat, completion, embedding).
   * @param {{ service?: string, category?: string }} [params]
   * @param {RequestOptions} [options]
   */
  list({ service, category } = {}, options) {
    const request = {
      method: 'GET',
      path: `${DEVELOPER}/models`,
      auth: /** @type {const} */ ('apiKey'),
      query: { service, category },
    };
    return this._client._call(request, convert.modelList, options);
  }
}

export class Services extends Resource {
  /**
   * The AI services behind the gateway and what each can do.
   * @param {RequestOptions} [options]
   */
  list(options) {
    return this._client._call(
      { method: 'GET', path: `${DEVELOPER}/services`, auth: 'apiKey' },
      convert.serviceList,
      options,
    );
  }
}

export class Usage extends Resource {
  /**
   * Requests, tokens and cost for a period (day, week, month, year) or a date range (Dates as UTC days).
   * @param {{ period?: string, startDate?: string | Date, endDate?: string | Date }} [params]
   * @param {RequestOptions} [options]
   */
  get({ period, startDate, endDate } = {}, options) {
    const query = { period, start_date: day(startDate), end_date: day(endDate) };
    return this._client._call(
      { method: 'GET', path: `${DEVELOPER}/usage`, auth: 'apiKey', query },
      convert.usageReport,
      options,
    );
  }

  /**
   * Requests, tokens and cost by model and by API key, over the same window as `get`.
   * @param {{ period?: string, startDate?: string | Date, endDate?: string | Date }} [params]
   * @param {RequestOptions} [options]
   */
  breakdown({ period, startDate, endDate } = {}, options) {
    const query = { period, start_date: day(startDate), end_date: day(endDate) };
    return this._client._call(
      { method: 'GET', path: `${DEVELOPER}/usage/breakdown`, auth: 'apiKey', query },
      convert.usageBreakdown,
      options,
    );
  }

  /**
   * One page of request logs, newest first; pass the page's `nextPageToken` as `pageToken` for the
   * next. `start` (inclusive) and `end` (exclusive) are RFC 3339 times, dates, or Dates (sent as
   * their exact moment).
   * @param {{ model?: string, status?: string, keyId?: string, start?: string | Date, end?: string | Date,
   *   pageSize?: number, pageToken?: string }} [params]
   * @param {RequestOptions} [options]
   */
  logs({ model, status, keyId, start, end, pageSize, pageToken } = {}, options) {
    const query = {
      model,
      status,
      key_id: keyId,
      start: moment(start),
      end: moment(end),
      page_size: pageSize === undefined || pageSize === null ? undefined : String(pageSize),
      page_token: pageToken,
    };
    return this._client._call(
      { method: 'GET', path: `${DEVELOPER}/usage/logs`, auth: 'apiKey', query },
      convert.usageLogPage,
      options,
    );
  }
}

/** @param {string | Date | undefined} value */
function moment(value) {
  return value instanceof Date ? value.toISOString() : value;
}

export class Quota extends Resource {
  /**
   * The plan, its quota and rate limits.
   * @param {RequestOptions} [options]
   */
  get(options) {
    return this._client._call({ method: 'GET', path: `${DEVELOPER}/quota`, auth: 'apiKey' }, convert.quota, options);
  }
}

/** API key management; needs a token (`client.withToken(...)`). */
export class ApiKeys extends Resource {
  /**
   * Create a key; its secret is in `.key`, shown this once. After `expiresAt` (an RFC 3339 time or
   * a Date) it is refused with `api_key_expired`.
   * With a `budget` (USD per day or month), a call whose worst-case cost does not fit what is left
   * of it is refused with `budget_exceeded`.
   * @param {{ name: string, permissions?: string[], requestsPerMinute?: number, expiresAt?: string | Date,
   *   budget?: { limitUsd: number, period: 'day' | 'month' } }} params
   * @param {RequestOptions} [options]
   */
  create({ name, permissions, requestsPerMinute, expiresAt, budget }, options) {
    /** @type {Record<string, unknown>} */
    const json = { name };
    if (permissions !== undefined && permissions !== null) json.permissions = [...permissions];
    if (requestsPerMinute !== undefined && requestsPerMinute !== null) {
      json.rate_limit = { requests_per_minute: requestsPerMinute };
    }
    if (expiresAt !== undefined && expiresAt !== null) json.expires_at = moment(expiresAt);
    if (budget !== undefined && budget !== null) {
      json.budget = { limit_usd: budget.limitUsd, period: budget.period };
    }
    return this._client._call(
      { method: 'POST', path: `${DEVELOPER}/api-keys`, auth: 'token', json },
      convert.createdApiKey,
      options,
    );
  }

  /**
   * Every key of the account (without secrets).
   * @param {RequestOptions} [options]
   */
  list(options) {
    return this._client._call(
      { method: 'GET', path: `${DEVELOPER}/api-keys`, auth: 'token' },
      convert.apiKeyList,
      options,
    );
  }

  /**
   * A new secret for the same key (in `.key`, shown this once); the old one keeps working
   * `graceSeconds` more (default: a day; 0: it stops at once).
   * @param {string} keyId
   * @param {{ graceSeconds?: number }} [params]
   * @param {RequestOptions} [options]
   */
  rotate(keyId, { graceSeconds } = {}, options) {
    const path = `${DEVELOPER}/api-keys/${encodeURIComponent(keyId)}/rotate`;
    const json = graceSeconds === undefined || graceSeconds === null ? {} : { grace_seconds: graceSeconds };
    return this._client._call({ method: 'POST', path, auth: 'token', json }, convert.rotatedApiKey, options);
  }

  /**
   * Delete a key; it stops working at once.
   * @param {string} keyId
   * @param {RequestOptions} [options]
   */
  delete(keyId, options) {
    const path = `${DEVELOPER}/api-keys/${encodeURIComponent(keyId)}`;
    return this._client._call({ method: 'DELETE', path, auth: 'token' }, convert.deletedApiKey, options);
  }
}

/** Usage alerts; need a token (`client.withToken(...)`). */
export class Alerts extends Resource {
  /**
   * Set a usage alert on the account (every key): `threshold` (0 < t <= 1) of `of` (`budget` for
   * `cost_usd`, `quota` for `requests`), or an absolute `value` (USD or a count) per `period`
   * (`day` or `month`). It fires once per period: the operator's webhook and `quota/watch` hear
   * of it.
   * @param {{ metric: 'cost_usd' | 'requests' | 'tokens', threshold?: number, of?: 'budget' | 'quota',
   *   value?: number, period?: 'day' | 'month', name?: string }} params
   * @param {RequestOptions} [options]
   */
  create({ metric, threshold, of, value, period, name }, options) {
    /** @type {Record<string, unknown>} */
    const json = { metric };
    for (const [key, given] of Object.entries({ threshold, of, value, period, name })) {
      if (given !== undefined && given !== null) json[key] = given;
    }
    return this._client._call(
      { method: 'POST', path: `${DEVELOPER}/alerts`, auth: 'token', json },
      convert.createdAlert,
      options,
    );
  }

  /**
   * The account's alerts, oldest first, each with its figures now.
   * @param {RequestOptions} [options]
   */
  list(options) {
    return this._client._call({ method: 'GET', path: `${DEVELOPER}/alerts`, auth: 'token' }, convert.alertList, options);
  }

  /**
   * Delete an alert (`alert_not_found` if there is none of this id).
   * @param {string} alertId
   * @param {RequestOptions} [options]
   */
  delete(alertId, options) {
    const path = `${DEVELOPER}/alerts/${encodeURIComponent(alertId)}`;
    return this._client._call({ method: 'DELETE', path, auth: 'token' }, convert.deletedAlert, options);
  }
}

export class Auth extends Resource {
  /**
   * Create an account; resolves to a token for managing API keys.
   * @param {{ email: string, password: string }} params
   * @param {RequestOptions} [options]
   */
  register({ email, password }, options) {
    const json = { email, password };
    return this._client._call(
      { method: 'POST', path: '/v1/auth/register', auth: 'none', json },
      convert.tokenInfo,
      options,
    );
  }

  /**
   * Log in; resolves to a token for managing API keys.
   * @param {{ email: string, password: string }} params
   * @param {RequestOptions} [options]
   */
  login({ email, password }, options) {
    const json = { email, password };
    return this._client._call(
      { method: 'POST', path: '/v1/auth/login', auth: 'none', json },
      convert.tokenInfo,
      options,
    );
  }

  /**
   * End the login token this client sends (`withToken`): from then on the gateway refuses it with
   * 401 `token_revoked`. The account's other login tokens and its API keys go on.
   * @param {RequestOptions} [options]
   */
  logout(options) {
    return this._client._call(
      { method: 'POST', path: '/v1/auth/logout', auth: 'token', json: {} },
      convert.loggedOut,
      options,
    );
  }
}
