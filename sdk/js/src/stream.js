/**
 * `chat.stream(...)`: the SSE answer as an async iterable of typed events.
 *
 * The request is sent lazily, by `start()` or the first iteration, and retried (under the
 * client's policy) only until the gateway has answered 2xx; once the stream has started nothing
 * is retried. An error event throws the mapped AIHubError after the events before it; a stream
 * that ends without `done` throws APIConnectionError. Either way, on `break` and on `close()`, the
 * HTTP body is released.
 * @module
 */

import { chatMetadata, responseMeta, usage } from './convert.js';
import { APIConnectionError, APIError, makeError } from './errors.js';
import { SSEDecoder } from './sse.js';

/**
 * @typedef {import('./transport.js').Attempt} Attempt
 * @typedef {{ response: Response, attempt: Attempt }} OpenStream
 * @typedef {{ type: 'content', content: string, model: string | null }} ContentEvent
 * @typedef {{ type: 'session', sessionId: string }} SessionEvent
 * @typedef {ReturnType<typeof chatMetadata>} ChatMetadata
 * @typedef {{ type: 'usage', usage: ReturnType<typeof usage>, metadata: ChatMetadata | null }} UsageEvent
 * @typedef {{ type: 'done' }} DoneEvent
 * @typedef {ContentEvent | SessionEvent | UsageEvent | DoneEvent} StreamEvent
 */

/**
 * The typed event of one SSE message; null for kinds this SDK does not know (skipped).
 * @param {import('./sse.js').ServerSentEvent} sse
 * @param {string | null} requestId
 * @returns {StreamEvent | null}
 */
export function parseEvent(sse, requestId) {
  /** @type {any} */
  let payload = null;
  try {
    payload = JSON.parse(sse.data);
  } catch {
    // reported below
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new APIError(`Malformed stream event: ${JSON.stringify(sse.data.slice(0, 200))}`, {
      type: 'api_error',
      requestId,
    });
  }
  switch (payload.type) {
    case 'content':
      return {
        type: 'content',
        content: typeof payload.content === 'string' ? payload.content : '',
        model: typeof payload.model === 'string' ? payload.model : null,
      };
    case 'session':
      return { type: 'session', sessionId: typeof payload.session_id === 'string' ? payload.session_id : '' };
    case 'usage':
      return {
        type: 'usage',
        usage: usage(payload.usage),
        metadata: payload.metadata && typeof payload.metadata === 'object' ? chatMetadata(payload.metadata) : null,
      };
    case 'done':
      return { type: 'done' };
    case 'error':
      throw makeError(null, payload, { requestId, fallbackMessage: 'The stream failed' });
    default:
      return null;
  }
}

/** A chat stream: `for await` it, or `await stream.text()`; `close()` it if you stop early. */
export class Stream {
  #open;
  /** @type {Promise<OpenStream> | null} */
  #opening = null;
  /** @type {OpenStream | null} */
  #opened = null;
  /** @type {AsyncGenerator<StreamEvent, void, undefined> | null} */
  #iterator = null;
  #decoder = new SSEDecoder();
  /** @type {string[]} */
  #parts = [];
  #done = false;
  #closed = false;
  /** @type {import('./convert.js').ResponseMeta} */
  #meta = { requestId: null, rateLimit: null };
  /** @type {string | null} */
  sessionId = null;
  /** @type {UsageEvent['usage'] | null} */
  usage = null;
  /** @type {UsageEvent['metadata']} */
  metadata = null;

  /** @param {() => Promise<OpenStream>} open */
  constructor(open) {
    this.#open = open;
  }

  /** The X-Request-ID of the answer, once the stream has started. */
  get requestId() {
    return this.#meta.requestId;
  }

  /** The X-RateLimit-* headers of the answer, once the stream has started. */
  get rateLimit() {
    return this.#meta.rateLimit;
  }

  /**
   * Send the request now (otherwise the first iteration does): a non-2xx answer throws here.
   * @returns {Promise<this>}
   */
  async start() {
    if (this.#opening === null) {
      if (this.#closed) throw new Error('The stream was closed before it started');
      this.#opening = this.#open().then((opened) => {
        this.#opened = opened;
        this.#meta = responseMeta(opened.response.headers);
        if (this.#closed) this.#release();
        return opened;
      });
    }
    await this.#opening;
    return this;
  }

  /** @returns {AsyncGenerator<StreamEvent, void, undefined>} */
  [Symbol.asyncIterator]() {
    this.#iterator ??= this.#iterate();
    return this.#iterator;
  }

  /** Read the rest of the stream; resolve to all of the answer's content. */
  async text() {
    for await (const _ of this);
    return this.#parts.join('');
  }

  /** Release the HTTP body; iteration ends. */
  async close() {
    this.#closed = true;
    this.#release();
    await this.#iterator?.return(undefined);
  }

  #release() {
    this.#opened?.attempt.abort();
    this.#opened?.attempt.finish();
  }

  /** @returns {AsyncGenerator<StreamEvent, void, undefined>} */
  async *#iterate() {
    await this.start();
    const { response, attempt } = /** @type {OpenStream} */ (this.#opened);
    if (this.#closed || response.body === null) {
      if (!this.#closed) throw new APIConnectionError('The stream had no body', { requestId: this.requestId });
      return;
    }
    const reader = response.body.getReader();
    try {
      for (;;) {
        /** @type {ReadableStreamReadResult<Uint8Array>} */
        let chunk;
        try {
          chunk = await reader.read();
        } catch (cause) {
          if (this.#closed) return;
          throw attempt.failure(cause, this.requestId);
        }
        attempt.reset();
        const messages = chunk.done ? this.#decoder.flush() : this.#decoder.feed(chunk.value);
        for (const message of messages) {
          if (this.#done) break;
          const event = parseEvent(message, this.requestId);
          if (event === null) continue;
          this.#record(event);
          yield event;
        }
        if (this.#done || this.#closed) return;
        if (chunk.done) {
          throw new APIConnectionError('The stream ended before it was done', { requestId: this.requestId });
        }
      }
    } finally {
      this.#closed = true;
      await reader.cancel().catch(() => {});
      attempt.finish();
    }
  }

  /** @param {StreamEvent} event */
  #record(event) {
    if (event.type === 'content') this.#parts.push(event.content);
    else if (event.type === 'session') this.sessionId = event.sessionId;
    else if (event.type === 'usage') [this.usage, this.metadata] = [event.usage, event.metadata];
    else this.#done = true;
  }
}
