/**
 * One HTTP attempt's lifetime (timeout, caller's abort signal) and the retry policy.
 * @module
 */

import { AIHubError, APIConnectionError, APITimeoutError, RateLimitError, parseRetryAfter } from './errors.js';

export const INITIAL_RETRY_DELAY = 0.5;
export const MAX_RETRY_DELAY = 8;
/** A Retry-After longer than this (a spent monthly quota, say) is thrown, not slept through. */
export const MAX_RETRY_AFTER = 60;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * One API call, before it is sent.
 * @typedef {object} ApiRequest
 * @property {string} method
 * @property {string} path
 * @property {'apiKey' | 'token' | 'none'} auth
 * @property {Record<string, unknown>} [json]
 * @property {Record<string, string | undefined | null>} [query]
 * @property {string} [idempotencyKey]
 * @property {boolean} [stream]
 */

/**
 * Whether sending it twice is harmless: an idempotent method, or a stored-reply key.
 * @param {ApiRequest} request
 */
export function isRetryable(request) {
  return SAFE_METHODS.has(request.method) || request.idempotencyKey !== undefined;
}

/**
 * Seconds to wait before retrying after `error`, or null to throw it.
 * @param {ApiRequest} request
 * @param {AIHubError} error
 * @param {number} attempt
 * @param {number} maxRetries
 * @param {Headers | null} headers
 * @param {() => number} [random]
 * @returns {number | null}
 */
export function retryDelay(request, error, attempt, maxRetries, headers, random = Math.random) {
  if (attempt >= maxRetries || !isRetryable(request)) return null;
  if (error instanceof RateLimitError) {
    if (error.code === 'quota_exceeded') return null;
  } else if (!(error instanceof APIConnectionError) && (error.status ?? 0) < 500) {
    return null;
  }
  const retryAfter = headers ? parseRetryAfter(headers.get('retry-after')) : null;
  if (retryAfter !== null) return retryAfter <= MAX_RETRY_AFTER ? retryAfter : null;
  const backoff = Math.min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2 ** attempt);
  return backoff * (0.5 + random() * 0.5);
}

/**
 * The signal and timer of one attempt. The timeout bounds the wait for the answer and, for a
 * stream, the wait between two chunks (`reset()` on each chunk). The caller's own signal aborts it
 * too, and then its reason is thrown as is.
 */
export class Attempt {
  #controller = new AbortController();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #timedOut = false;
  #timeout;
  #userSignal;
  #onAbort;

  /**
   * @param {number} timeout milliseconds; 0 or Infinity for none
   * @param {AbortSignal | undefined} userSignal
   */
  constructor(timeout, userSignal) {
    this.#timeout = timeout;
    this.#userSignal = userSignal;
    this.#onAbort = () => this.#controller.abort(userSignal?.reason);
    if (userSignal?.aborted) this.#onAbort();
    else userSignal?.addEventListener('abort', this.#onAbort, { once: true });
    this.reset();
  }

  get signal() {
    return this.#controller.signal;
  }

  /** Restart the timeout. */
  reset() {
    clearTimeout(this.#timer);
    if (this.#timeout > 0 && Number.isFinite(this.#timeout)) {
      this.#timer = setTimeout(() => {
        this.#timedOut = true;
        this.#controller.abort();
      }, this.#timeout);
    }
  }

  /** Abort the request or the body being read. */
  abort() {
    this.#controller.abort();
  }

  /** Stop the timer and forget the caller's signal. */
  finish() {
    clearTimeout(this.#timer);
    this.#userSignal?.removeEventListener('abort', this.#onAbort);
  }

  /**
   * What to throw for a failed fetch or body read: the caller's abort reason, or an SDK error.
   * @param {unknown} cause
   * @param {string | null} [requestId]
   * @returns {unknown}
   */
  failure(cause, requestId = null) {
    if (cause instanceof AIHubError) return cause;
    if (this.#userSignal?.aborted) return this.#userSignal.reason ?? cause;
    if (this.#timedOut) return new APITimeoutError(`Request timed out after ${this.#timeout} ms`, { cause, requestId });
    const reason =
      cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    return new APIConnectionError(`Connection error: ${reason}`, { cause, requestId });
  }
}
