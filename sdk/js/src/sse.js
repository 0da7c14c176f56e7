/**
 * An incremental `text/event-stream` decoder (WHATWG HTML, "Interpreting an event stream").
 *
 * Bytes arrive in arbitrary pieces: a UTF-8 character, a CRLF pair or an event may be split
 * across any two chunks, so decoding is incremental and a trailing CR waits for the next chunk.
 * @module
 */

const LINE_END = /\r\n|\r|\n/g;

/**
 * @typedef {object} ServerSentEvent
 * @property {string} data
 * @property {string} event
 * @property {string | null} id
 * @property {number | null} retry
 */

export class SSEDecoder {
  #decoder = new TextDecoder('utf-8');
  #buffer = '';
  /** @type {string[]} */
  #data = [];
  #event = '';
  /** @type {string | null} */
  #lastId = null;
  /** @type {number | null} */
  #retry = null;

  /**
   * Decode `chunk`; return the events it completed, in order.
   * @param {Uint8Array} chunk
   * @returns {ServerSentEvent[]}
   */
  feed(chunk) {
    return this.#consume(this.#decoder.decode(chunk, { stream: true }), false);
  }

  /**
   * At the end of the stream: a trailing CR ends its line; an unfinished event is dropped.
   * @returns {ServerSentEvent[]}
   */
  flush() {
    return this.#consume(this.#decoder.decode(), true);
  }

  /**
   * @param {string} text
   * @param {boolean} final
   */
  #consume(text, final) {
    this.#buffer += text;
    /** @type {ServerSentEvent[]} */
    const events = [];
    let position = 0;
    for (const match of this.#buffer.matchAll(LINE_END)) {
      const end = match.index + match[0].length;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (!final && match[0] === '\r' && end === this.#buffer.length) break;
      const event = this.#line(this.#buffer.slice(position, match.index));
      if (event !== null) events.push(event);
      position = end;
    }
    this.#buffer = final ? '' : this.#buffer.slice(position);
    return events;
  }

  /**
   * @param {string} line
   * @returns {ServerSentEvent | null}
   */
  #line(line) {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') this.#data.push(value);
    else if (name === 'event') this.#event = value;
    else if (name === 'id' && !value.includes('\0')) this.#lastId = value;
    else if (name === 'retry' && /^[0-9]+$/.test(value)) this.#retry = Number(value);
    return null;
  }

  /** @returns {ServerSentEvent | null} */
  #dispatch() {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return null;
    return { data: data.join('\n'), event: event || 'message', id: this.#lastId, retry: this.#retry };
  }
}
