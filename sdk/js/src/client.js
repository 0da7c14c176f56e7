/**
 * The client, `AIHub`: options, credentials and the request loop with its retries.
 * @module
 */

import { responseMeta } from './convert.js';
import { AIHubError, APIError, AuthenticationError, makeError } from './errors.js';
import { Alerts, ApiKeys, Auth, Chat, Models, Quota, Services, Usage } from './resources.js';
import { Attempt, retryDelay } from './transport.js';
import { VERSION } from './version.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8000';
export const DEFAULT_TIMEOUT = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

const API_SUFFIXES = ['/v1/developer', '/v1'];
const MISSING = {
  apiKey: 'No API key: pass { apiKey } or set AI_HUB_API_KEY',
  token: 'No token: log in with client.auth.login(...) and use client.withToken(info.token)',
};

/**
 * @typedef {import('./transport.js').ApiRequest} ApiRequest
 * @typedef {{ signal?: AbortSignal, timeout?: number }} RequestOptions
 * @typedef {object} ClientOptions
 * @property {string | null} [apiKey] default: the AI_HUB_API_KEY environment variable
 * @property {string | null} [baseURL] default: AI_HUB_BASE_URL, then http://127.0.0.1:8000
 * @property {string | null} [token] a JWT from auth.login/register, for managing API keys
 * @property {number} [timeout] milliseconds (default 60000); for streams, the longest wait between chunks
 * @property {number} [maxRetries] default 2
 * @property {typeof fetch} [fetch] default: the global fetch
 */

/**
 * The server root: a URL copied from the docs with `/v1` or `/v1/developer` works too.
 * @param {string} url
 */
export function normalizeBaseURL(url) {
  let root = url.trim().replace(/\/+$/, '');
  for (const suffix of API_SUFFIXES) {
    if (root.endsWith(suffix)) {
      root = root.slice(0, -suffix.length);
      break;
    }
  }
  return root;
}

/** @param {string} name */
function env(name) {
  const value = /** @type {any} */ (globalThis).process?.env?.[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** @param {string} text */
function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A client for the AI Hub REST API. */
export class AIHub {
  /** @type {{ apiKey: string | null, token: string | null, baseURL: string, timeout: number, maxRetries: number }} */
  #options;
  /** @type {typeof fetch} */
  #fetch;

  /** @param {ClientOptions} [options] */
  constructor({
    apiKey,
    baseURL,
    token,
    timeout = DEFAULT_TIMEOUT,
    maxRetries = DEFAULT_MAX_RETRIES,
    fetch: customFetch,
  } = {}) {
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new RangeError('maxRetries must be an integer, 0 or more');
    }
    if (typeof (customFetch ?? globalThis.fetch) !== 'function') {
      throw new TypeError('No fetch() available: pass { fetch } (Node.js 18 or newer has one)');
    }
    this.#fetch = customFetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#options = {
      apiKey: apiKey || env('AI_HUB_API_KEY'),
      baseURL: normalizeBaseURL(baseURL || env('AI_HUB_BASE_URL') || DEFAULT_BASE_URL),
      token: token || null,
      timeout,
      maxRetries,
    };
    /** Milliseconds to wait between retries; replaceable in tests. */
    this._sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
    this.chat = new Chat(this);
    this.models = new Models(this);
    this.services = new Services(this);
    this.usage = new Usage(this);
    this.quota = new Quota(this);
    this.apiKeys = new ApiKeys(this);
    this.alerts = new Alerts(this);
    this.auth = new Auth(this);
  }

  get baseURL() {
    return this.#options.baseURL;
  }

  get apiKey() {
    return this.#options.apiKey;
  }

  get token() {
    return this.#options.token;
  }

  /**
   * A client that manages API keys with `token`.
   * @param {string} token
   */
  withToken(token) {
    return this.#derive({ token });
  }

  /**
   * A client that uses `apiKey`.
   * @param {string} apiKey
   */
  withApiKey(apiKey) {
    return this.#derive({ apiKey });
  }

  /** @param {{ apiKey?: string, token?: string }} changes */
  #derive(changes) {
    const { apiKey, token, baseURL, timeout, maxRetries } = this.#options;
    const client = new AIHub({ apiKey, token, baseURL, timeout, maxRetries, fetch: this.#fetch, ...changes });
    client._sleep = this._sleep;
    return client;
  }

  /**
   * @param {ApiRequest} request
   * @returns {Record<string, string>}
   */
  #headers(request) {
    /** @type {Record<string, string>} */
    const headers = {
      Accept: request.stream ? 'text/event-stream' : 'application/json',
      'User-Agent': `ai-hub-js/${VERSION}`,
    };
    if (request.json !== undefined) headers['Content-Type'] = 'application/json';
    if (request.idempotencyKey !== undefined) headers['Idempotency-Key'] = request.idempotencyKey;
    if (request.auth === 'none') return headers;
    const { apiKey, token } = this.#options;
    const credential = request.auth === 'apiKey' ? apiKey || token : token || apiKey;
    if (!credential) {
      throw new AuthenticationError(MISSING[request.auth], {
        type: 'authentication_error',
        code: 'missing_credentials',
      });
    }
    headers.Authorization = `Bearer ${credential}`;
    return headers;
  }

  /** @param {ApiRequest} request */
  #url(request) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined && value !== null) query.set(name, value);
    }
    const search = query.toString();
    return `${this.#options.baseURL}${request.path}${search ? `?${search}` : ''}`;
  }

  /**
   * Send `request`, retrying under the retry policy. Resolves to the 2xx response, with its text
   * read unless it is a stream (whose attempt then stays open); rejects with an AIHubError.
   * @param {ApiRequest} request
   * @param {RequestOptions} [options]
   * @returns {Promise<{ response: Response, text: string, attempt: Attempt }>}
   */
  async _send(request, { signal, timeout } = {}) {
    const url = this.#url(request);
    const init = {
      method: request.method,
      headers: this.#headers(request),
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
    };
    for (let attemptNumber = 0; ; attemptNumber += 1) {
      const attempt = new Attempt(timeout ?? this.#options.timeout, signal);
      /** @type {AIHubError} */
      let error;
      /** @type {Headers | null} */
      let headers = null;
      try {
        const response = await this.#fetch(url, { ...init, signal: attempt.signal });
        if (response.ok && request.stream) return { response, text: '', attempt };
        const text = await response.text();
        attempt.finish();
        if (response.ok) return { response, text, attempt };
        headers = response.headers;
        error = makeError(response.status, parseJSON(text), {
          requestId: headers.get('x-request-id'),
          retryAfter: headers.get('retry-after'),
          fallbackMessage: text.trim().slice(0, 200) || response.statusText,
        });
      } catch (cause) {
        attempt.finish();
        const failure = attempt.failure(cause);
        if (!(failure instanceof AIHubError)) throw failure;
        error = failure;
      }
      const delay = retryDelay(request, error, attemptNumber, this.#options.maxRetries, headers);
      if (delay === null) throw error;
      await this._sleep(delay * 1000);
    }
  }

  /**
   * Send `request` and convert its JSON answer with `convert`.
   * @template T
   * @param {ApiRequest} request
   * @param {(body: Record<string, any>, meta: import('./convert.js').ResponseMeta) => T} convert
   * @param {RequestOptions} [options]
   * @returns {Promise<T>}
   */
  async _call(request, convert, options) {
    const { response, text } = await this._send(request, options);
    const body = parseJSON(text);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new APIError(`Expected a JSON object from the gateway, got ${JSON.stringify(text.slice(0, 200))}`, {
        status: response.status,
        type: 'api_error',
        requestId: response.headers.get('x-request-id'),
      });
    }
    return convert(body, responseMeta(response.headers));
  }
}
