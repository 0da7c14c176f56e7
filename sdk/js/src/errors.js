/**
 * Every error the SDK throws.
 *
 *     AIHubError                  status, type, code, message, details, requestId
 *     ├── InvalidRequestError     400 (and other 4xx)      invalid_request_error
 *     │   ├── NotFoundError       404                      invalid_request_error
 *     │   └── ConflictError       409                      invalid_request_error
 *     ├── AuthenticationError     401                      authentication_error
 *     ├── PermissionDeniedError   403                      permission_error
 *     ├── RateLimitError          429 (+ retryAfter)       rate_limit_error
 *     ├── APIError                5xx, unreadable answers  api_error
 *     └── APIConnectionError      no answer: refused, reset, cut mid-stream
 *         └── APITimeoutError     no answer in time
 *
 * The gateway's JSON error body and a stream's error event are translated here, once, to the
 * most specific class: by the spec's error `type` when there is one, else by the HTTP status.
 * @module
 */

/**
 * @typedef {object} ErrorFields
 * @property {number | null} [status] HTTP status; null for stream error events and local errors
 * @property {string | null} [type] the spec's error type, e.g. `invalid_request_error`
 * @property {string | null} [code] e.g. `invalid_api_key`
 * @property {Record<string, unknown>} [details]
 * @property {string | null} [requestId]
 * @property {unknown} [cause]
 */

/** Base class of every error thrown by the SDK. */
export class AIHubError extends Error {
  /**
   * @param {string} message
   * @param {ErrorFields} [fields]
   */
  constructor(message, { status = null, type = null, code = null, details = {}, requestId = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    /** @type {number | null} */
    this.status = status;
    /** @type {string | null} */
    this.type = type;
    /** @type {string | null} */
    this.code = code;
    /** @type {Record<string, unknown>} */
    this.details = details;
    /** @type {string | null} */
    this.requestId = requestId;
  }
}

/** A parameter is missing, malformed or names something that does not exist. */
export class InvalidRequestError extends AIHubError {}

/** The model, service, session or API key does not exist (for this caller). */
export class NotFoundError extends InvalidRequestError {}

/** The thing to create exists already (for example a registered e-mail address). */
export class ConflictError extends InvalidRequestError {}

/** The API key or token is missing, malformed, unknown, deleted or expired. */
export class AuthenticationError extends AIHubError {}

/** The credentials are valid but do not allow this call. */
export class PermissionDeniedError extends AIHubError {}

/** A rate limit or the plan's quota refused the request; `retryAfter` is in seconds. */
export class RateLimitError extends AIHubError {
  /**
   * @param {string} message
   * @param {ErrorFields & { retryAfter?: number | null }} [fields]
   */
  constructor(message, fields = {}) {
    super(message, fields);
    /** @type {number | null} */
    this.retryAfter = fields.retryAfter ?? null;
  }
}

/** The gateway or the model behind it failed, or sent an answer the SDK cannot read. */
export class APIError extends AIHubError {}

/** No answer: the connection failed, was reset, or a stream ended before it was done. */
export class APIConnectionError extends AIHubError {}

/** No answer within the client's timeout. */
export class APITimeoutError extends APIConnectionError {}

/** @type {Record<string, typeof AIHubError>} */
const BY_TYPE = {
  invalid_request_error: InvalidRequestError,
  authentication_error: AuthenticationError,
  permission_error: PermissionDeniedError,
  rate_limit_error: RateLimitError,
  api_error: APIError,
};

/** @type {Record<number, typeof AIHubError>} */
const BY_STATUS = {
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  429: RateLimitError,
};

/**
 * @param {number | null} status
 * @param {string | null} type
 * @returns {typeof AIHubError}
 */
function errorClass(status, type) {
  const byType = type !== null && Object.hasOwn(BY_TYPE, type) ? BY_TYPE[type] : undefined;
  if (byType === undefined) {
    if (status === null) return APIError;
    if (Object.hasOwn(BY_STATUS, status)) return BY_STATUS[status];
    return status >= 400 && status < 500 ? InvalidRequestError : APIError;
  }
  if (byType === InvalidRequestError && (status === 404 || status === 409)) return BY_STATUS[status];
  return byType;
}

/**
 * Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date.
 * @param {string | null | undefined} value
 * @param {number} [now] milliseconds since the epoch
 * @returns {number | null}
 */
export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return null;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - now) / 1000);
}

/** @param {unknown} value */
const str = (value) => (typeof value === 'string' ? value : null);

/**
 * Build the most specific error from a status and a decoded error body or stream event.
 * @param {number | null} status
 * @param {unknown} payload
 * @param {{ requestId?: string | null, retryAfter?: string | null, fallbackMessage?: string }} [context]
 * @returns {AIHubError}
 */
export function makeError(status, payload, { requestId = null, retryAfter = null, fallbackMessage = '' } = {}) {
  /** @type {Record<string, unknown>} */
  let error = {};
  if (payload !== null && typeof payload === 'object') {
    const body = /** @type {Record<string, unknown>} */ (payload);
    if (body.error !== null && typeof body.error === 'object') {
      error = /** @type {Record<string, unknown>} */ (body.error);
    }
    requestId = requestId || str(body.request_id);
  }
  const type = str(error.type);
  const details = error.details !== null && typeof error.details === 'object' ? error.details : {};
  const fields = {
    status,
    type,
    code: str(error.code),
    details: /** @type {Record<string, unknown>} */ (details),
    requestId: requestId || null,
  };
  const message = str(error.message) || fallbackMessage || `HTTP ${status}`;
  const Cls = errorClass(status, type);
  if (Cls === RateLimitError) {
    return new RateLimitError(message, { ...fields, retryAfter: parseRetryAfter(retryAfter) });
  }
  return new Cls(message, fields);
}
