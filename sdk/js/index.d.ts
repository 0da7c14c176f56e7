// Type declarations for ai-hub-js. Hand-written; keep in step with src/.

export declare const VERSION: string;
export declare const DEFAULT_BASE_URL: string;
/** Milliseconds. */
export declare const DEFAULT_TIMEOUT: number;
export declare const DEFAULT_MAX_RETRIES: number;

export interface ClientOptions {
  /** Default: the AI_HUB_API_KEY environment variable. */
  apiKey?: string | null;
  /** Default: AI_HUB_BASE_URL, then http://127.0.0.1:8000. A URL ending in /v1 or /v1/developer works too. */
  baseURL?: string | null;
  /** A JWT from auth.login/register, for managing API keys. */
  token?: string | null;
  /** Milliseconds (default 60000); for streams, the longest wait between two chunks. 0: none. */
  timeout?: number;
  /** Retries of safe requests after connection failures, 429 and 5xx (default 2). */
  maxRetries?: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** Aborts the request (or the stream); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds, for this request only. */
  timeout?: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  estimatedCostUsd: number;
}

/** The X-RateLimit-* headers of a key-authenticated answer; `reset` is Unix epoch seconds. */
export interface RateLimit {
  limit: number | null;
  remaining: number | null;
  reset: number | null;
}

export interface ChatMetadata {
  responseTimeMs: number | null;
  serviceUsed: string | null;
  simulated: boolean;
  finishReason: string | null;
  requestId: string | null;
  /** Fields newer than this SDK, camelCased. */
  [extra: string]: unknown;
}

/** Every top-level answer keeps the decoded JSON body as a non-enumerable `raw` property. */
export interface Answer {
  requestId: string | null;
  readonly raw: Record<string, unknown>;
}

export interface ChatParams {
  message: string;
  model?: string;
  service?: string;
  maxTokens?: number;
  temperature?: number;
  sessionId?: string;
  /** Base64 text, or bytes (encoded for you). */
  images?: Array<string | Uint8Array>;
  systemPrompt?: string;
  /** Default: a fresh key per call, so that retries are answered from the stored reply. */
  idempotencyKey?: string;
}

export interface ChatResponse extends Answer {
  message: string;
  model: string;
  sessionId: string | null;
  usage: Usage;
  metadata: ChatMetadata;
  rateLimit: RateLimit | null;
}

export interface ContentEvent {
  type: 'content';
  content: string;
  model: string | null;
}

export interface SessionEvent {
  type: 'session';
  sessionId: string;
}

export interface UsageEvent {
  type: 'usage';
  usage: Usage;
  metadata: ChatMetadata | null;
}

export interface DoneEvent {
  type: 'done';
}

export type StreamEvent = ContentEvent | SessionEvent | UsageEvent | DoneEvent;

/** A chat stream: `for await` it, or `await stream.text()`; `close()` it if you stop early. */
export declare class Stream implements AsyncIterable<StreamEvent> {
  private constructor();
  /** The X-Request-ID of the answer, once the stream has started. */
  readonly requestId: string | null;
  /** The X-RateLimit-* headers of the answer, once the stream has started. */
  readonly rateLimit: RateLimit | null;
  /** Set as the events pass. */
  sessionId: string | null;
  usage: Usage | null;
  metadata: ChatMetadata | null;
  /** Send the request now (otherwise the first iteration does): a non-2xx answer rejects here. */
  start(): Promise<this>;
  [Symbol.asyncIterator](): AsyncGenerator<StreamEvent, void, undefined>;
  /** Read the rest of the stream; resolve to all of the answer's content. */
  text(): Promise<string>;
  /** Release the HTTP body; iteration ends. */
  close(): Promise<void>;
}

export interface ModelPricing {
  prompt: number;
  completion: number;
}

export interface Model {
  id: string;
  name: string;
  description: string;
  contextLength: number | null;
  pricing: ModelPricing;
  capabilities: string[];
  /** The service that serves it. */
  service: string | null;
  /** `chat`, `completion` or `embedding`. */
  category: string | null;
  /** Short names that select this model alone, such as `grok-beta` for `x-ai/grok-beta`. */
  aliases: string[];
}

export interface ModelList extends Answer {
  service: string | null;
  models: Model[];
  totalCount: number;
  /** Pass as `page_token` for the next page; empty on the last page. */
  nextPageToken: string;
}

export interface ServiceList extends Answer {
  services: string[];
  default: string | null;
  /** Per service, capability flags with camelCase names (textGeneration, streaming, ...). */
  capabilities: Record<string, Record<string, unknown>>;
  /** Per service, whether the built-in simulator answers it. */
  simulated: Record<string, boolean>;
}

export interface DailyUsage {
  date: string;
  requests: number;
  tokens: number;
  costUsd: number;
}

export interface UsageReport extends Answer {
  period: string | null;
  totalRequests: number;
  totalTokens: number;
  totalCostUsd: number;
  /** First and last day of the window, YYYY-MM-DD. */
  startDate: string | null;
  endDate: string | null;
  quotaLimit: number | null;
  quotaUsed: number | null;
  quotaRemaining: number | null;
  dailyBreakdown: DailyUsage[];
}

/** One model's, or one API key's, share of a usage breakdown. */
export interface UsageGroup {
  /** The model (in `byModel`; empty in `byKey`). */
  model: string;
  /** The key's id (in `byKey`); empty for the calls made with a login token. */
  keyId: string;
  keyName: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
}

/** The window's usage by model and by key, most costly first; each list adds up to `usage.get`'s totals. */
export interface UsageBreakdown extends Answer {
  period: string | null;
  /** First and last day of the window, YYYY-MM-DD. */
  startDate: string | null;
  endDate: string | null;
  byModel: UsageGroup[];
  byKey: UsageGroup[];
}

/** One call as the gateway's ledger recorded it (never its prompt or answer). */
export interface UsageLog {
  requestId: string;
  createdAt: string | null;
  /** Empty for a call made with a JWT. */
  keyId: string;
  keyName: string;
  service: string;
  model: string;
  status: 'pending' | 'ok' | 'error' | 'refused' | 'cancelled' | (string & {});
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  usageSource: 'provider' | 'estimated' | 'none' | (string & {});
  responseTimeMs: number;
  sessionId: string;
}

export interface UsageLogPage extends Answer {
  /** Newest first. */
  logs: UsageLog[];
  /** Pass as `pageToken` for the next page; empty on the last page. */
  nextPageToken: string;
}

export interface RateLimitPolicy {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
}

/** An API key's budget: `limitUsd` per `period` (`day` or `month`, UTC). */
export interface KeyBudget {
  limitUsd: number;
  period: string;
}

/** A budget in USD in its current period: spent (settled, as the ledger has it) and reserved (calls in flight). */
export interface SpendBudget {
  scope: string;
  period: string;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  resetsAt: string | null;
}

export interface Quota extends Answer {
  plan: string;
  quotaLimit: number | null;
  quotaUsed: number;
  quotaRemaining: number | null;
  resetDate: string | null;
  rateLimit: RateLimitPolicy;
  /** The budgets in USD the credential counts against (an API key's own). */
  budgets: SpendBudget[];
}

/** A key as listed (no secret; the list's answer carries the request id). */
export interface ApiKey {
  readonly raw: Record<string, unknown>;
  id: string;
  name: string;
  prefix: string | null;
  createdAt: string | null;
  permissions: string[];
  lastUsed: string | null;
  rateLimit: RateLimitPolicy | null;
  /** When it stops working (`api_key_expired` after); null if never. */
  expiresAt: string | null;
  /** When its secret was last rotated; null if never. */
  rotatedAt: string | null;
  /** Its budget in USD per period; null if none. */
  budget: KeyBudget | null;
}

export interface CreatedApiKey extends ApiKey, Answer {
  /** The secret, shown this once. */
  key: string;
}

export interface RotatedApiKey extends CreatedApiKey {
  /** When the old secret stops working. */
  previousKeyExpiresAt: string | null;
}

export interface ApiKeyList extends Answer {
  apiKeys: ApiKey[];
  totalCount: number;
  nextPageToken: string;
}

export interface DeletedApiKey extends Answer {
  id: string;
  deleted: boolean;
}

export interface TokenInfo extends Answer {
  userId: string;
  email: string;
  /** A JWT for managing API keys: `client.withToken(info.token)`. */
  token: string;
  expiresAt: string | null;
  /** `user`, or `admin` (an operator of the gateway). */
  role: string;
}

/** The answer of `auth.logout()`: the login token is refused from now on (401 `token_revoked`). */
export interface LoggedOut extends Answer {
  userId: string;
  /** When the token would have expired: until then the gateway remembers the log-out. */
  expiresAt: string | null;
}

export interface Credentials {
  email: string;
  password: string;
}

declare class Chat {
  private constructor();
  /** Send a message and wait for the whole answer. */
  create(params: ChatParams, options?: RequestOptions): Promise<ChatResponse>;
  /** Send a message and iterate the answer as it is generated; sent on `start()` or first iteration. */
  stream(params: ChatParams, options?: RequestOptions): Stream;
}

declare class Models {
  private constructor();
  list(
    params?: { service?: string; category?: 'chat' | 'completion' | 'embedding' | (string & {}) },
    options?: RequestOptions,
  ): Promise<ModelList>;
}

declare class Services {
  private constructor();
  list(options?: RequestOptions): Promise<ServiceList>;
}

declare class UsageResource {
  private constructor();
  /** Dates are sent as their UTC day (YYYY-MM-DD). */
  get(
    params?: {
      period?: 'day' | 'week' | 'month' | 'year' | (string & {});
      startDate?: string | Date;
      endDate?: string | Date;
    },
    options?: RequestOptions,
  ): Promise<UsageReport>;
  /** Usage by model and by API key over the same window as `get`. */
  breakdown(
    params?: {
      period?: 'day' | 'week' | 'month' | 'year' | (string & {});
      startDate?: string | Date;
      endDate?: string | Date;
    },
    options?: RequestOptions,
  ): Promise<UsageBreakdown>;
  /** One page of request logs, newest first; Dates are sent as their exact moment. */
  logs(
    params?: {
      model?: string;
      status?: 'pending' | 'ok' | 'error' | 'refused' | 'cancelled' | (string & {});
      keyId?: string;
      start?: string | Date;
      end?: string | Date;
      pageSize?: number;
      pageToken?: string;
    },
    options?: RequestOptions,
  ): Promise<UsageLogPage>;
}

declare class QuotaResource {
  private constructor();
  get(options?: RequestOptions): Promise<Quota>;
}

/** API key management; needs a token (`client.withToken(...)`). */
declare class ApiKeys {
  private constructor();
  create(
    params: {
      name: string;
      permissions?: string[];
      requestsPerMinute?: number;
      expiresAt?: string | Date;
      budget?: { limitUsd: number; period: 'day' | 'month' };
    },
    options?: RequestOptions,
  ): Promise<CreatedApiKey>;
  /** A new secret for the same key; the old one works `graceSeconds` more (default a day; 0: none). */
  rotate(keyId: string, params?: { graceSeconds?: number }, options?: RequestOptions): Promise<RotatedApiKey>;
  list(options?: RequestOptions): Promise<ApiKeyList>;
  delete(keyId: string, options?: RequestOptions): Promise<DeletedApiKey>;
}

/** A usage alert: `threshold` of `of`, or an absolute `value` per `period`. */
export interface Alert {
  id: string;
  name: string;
  metric: 'cost_usd' | 'requests' | 'tokens' | (string & {});
  /** The fraction of `of` it fires at; 0 for an absolute alert. */
  threshold: number;
  /** `budget` or `quota`; empty for an absolute alert. */
  of: string;
  /** The absolute amount it fires at (USD or a count); 0 for a relative alert. */
  value: number;
  period: 'day' | 'month' | (string & {});
  createdAt: string | null;
  /** When it last fired; null until it has. */
  lastFiredAt: string | null;
  /** The usage this period and the amount it fires at. */
  current: AlertFigures;
  raw: Record<string, unknown>;
}

/** What an alert measures now: the usage this period and the amount it fires at. */
export interface AlertFigures {
  observed: number;
  limit: number;
}

/** The answer of `alerts.create`: the new alert. */
export interface CreatedAlert {
  alert: Alert;
  requestId: string | null;
  raw: Record<string, unknown>;
}

export interface AlertList {
  alerts: Alert[];
  requestId: string | null;
  raw: Record<string, unknown>;
}

export interface DeletedAlert {
  id: string;
  deleted: boolean;
  requestId: string | null;
  raw: Record<string, unknown>;
}

/** Usage alerts; need a token (`client.withToken(...)`). */
declare class Alerts {
  private constructor();
  create(
    params: {
      metric: 'cost_usd' | 'requests' | 'tokens';
      threshold?: number;
      of?: 'budget' | 'quota';
      value?: number;
      period?: 'day' | 'month';
      name?: string;
    },
    options?: RequestOptions,
  ): Promise<CreatedAlert>;
  list(options?: RequestOptions): Promise<AlertList>;
  delete(alertId: string, options?: RequestOptions): Promise<DeletedAlert>;
}

declare class Auth {
  private constructor();
  register(params: Credentials, options?: RequestOptions): Promise<TokenInfo>;
  login(params: Credentials, options?: RequestOptions): Promise<TokenInfo>;
  /** End the login token this client sends (`withToken`); its other tokens and API keys go on. */
  logout(options?: RequestOptions): Promise<LoggedOut>;
}

export type { Chat, Models, Services, UsageResource, QuotaResource, ApiKeys, Alerts, Auth };

/** A client for the AI Hub REST API. */
export declare class AIHub {
  constructor(options?: ClientOptions);
  readonly baseURL: string;
  readonly apiKey: string | null;
  readonly token: string | null;
  readonly chat: Chat;
  readonly models: Models;
  readonly services: Services;
  readonly usage: UsageResource;
  readonly quota: QuotaResource;
  readonly apiKeys: ApiKeys;
  readonly alerts: Alerts;
  readonly auth: Auth;
  /** A client that manages API keys with `token`. */
  withToken(token: string): AIHub;
  /** A client that uses `apiKey`. */
  withApiKey(apiKey: string): AIHub;
}

export default AIHub;

export interface ErrorFields {
  status?: number | null;
  type?: string | null;
  code?: string | null;
  details?: Record<string, unknown>;
  requestId?: string | null;
  cause?: unknown;
}

/** Base class of every error thrown by the SDK. */
export declare class AIHubError extends Error {
  constructor(message: string, fields?: ErrorFields);
  /** HTTP status; null for stream error events, connection failures and local errors. */
  status: number | null;
  /** The spec's error type, e.g. `invalid_request_error`. */
  type: string | null;
  /** E.g. `invalid_api_key`. */
  code: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
}
/** 400 (and other 4xx). */
export declare class InvalidRequestError extends AIHubError {}
/** 404. */
export declare class NotFoundError extends InvalidRequestError {}
/** 409. */
export declare class ConflictError extends InvalidRequestError {}
/** 401. */
export declare class AuthenticationError extends AIHubError {}
/** 403. */
export declare class PermissionDeniedError extends AIHubError {}
/** 429; `retryAfter` in seconds. */
export declare class RateLimitError extends AIHubError {
  constructor(message: string, fields?: ErrorFields & { retryAfter?: number | null });
  retryAfter: number | null;
}
/** 5xx, or an answer the SDK cannot read. */
export declare class APIError extends AIHubError {}
/** No answer: refused, reset, or a stream cut short. */
export declare class APIConnectionError extends AIHubError {}
/** No answer within the timeout. */
export declare class APITimeoutError extends APIConnectionError {}
