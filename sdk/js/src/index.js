/**
 * JavaScript client for AI Hub, the self-hosted gateway in front of many AI models.
 *
 *     import { AIHub } from 'ai-hub-js';
 *     const client = new AIHub({ apiKey: 'ai-hub-...' });
 *     const response = await client.chat.create({ message: 'Hello, world!', model: 'x-ai/grok-beta', maxTokens: 150 });
 *
 * @module
 */

export { AIHub, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT } from './client.js';
export {
  AIHubError,
  APIConnectionError,
  APIError,
  APITimeoutError,
  AuthenticationError,
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from './errors.js';
export { Stream } from './stream.js';
export { VERSION } from './version.js';
export { AIHub as default } from './client.js';
