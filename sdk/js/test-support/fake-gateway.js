/**
 * A gateway played from canned answers: a real `node:http` server on 127.0.0.1, port 0.
 * (Kept outside `test/` so that `node --test` does not run it as a test file.)
 */

import http from 'node:http';
import { AIHub } from '../src/index.js';

/**
 * @typedef {object} Recorded
 * @property {string} method
 * @property {string} path
 * @property {Record<string, string>} query
 * @property {http.IncomingHttpHeaders} headers
 * @property {string} body
 * @property {any} json
 */
/** @typedef {(req: http.IncomingMessage, res: http.ServerResponse, rec: Recorded) => void | Promise<void>} Answer */

/** Marks the place in an SSE answer where the connection is cut. */
export const CUT = Symbol('cut');

const pause = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A JSON answer.
 * @param {number} status
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Answer}
 */
export const reply =
  (status, body = {}, headers = {}) =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_1', ...headers });
    res.end(JSON.stringify(body));
  };

/**
 * An answer in the spec's error shape.
 * @param {number} status
 * @param {string} type
 * @param {string} code
 * @param {{ message?: string, headers?: Record<string, string> }} [more]
 * @returns {Answer}
 */
export const errorReply = (status, type, code, { message = 'nope', headers = {} } = {}) =>
  reply(
    status,
    { error: { type, code, message, details: { parameter: 'x' } }, request_id: 'req_err' },
    { 'x-request-id': 'req_err', ...headers },
  );

/**
 * The SSE encoding of these events, as the gateway writes it.
 * @param {...object} events
 */
export const sse = (...events) => Buffer.from(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));

/**
 * A streamed answer written in these pieces, a short pause between them; CUT drops the connection.
 * @param {Array<Uint8Array | string | typeof CUT>} pieces
 * @param {Record<string, string>} [headers]
 * @param {number} [gapMs]
 * @returns {Answer}
 */
export const sseReply =
  (pieces, headers = {}, gapMs = 3) =>
  async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_stream', ...headers });
    res.flushHeaders();
    for (const piece of pieces) {
      if (piece === CUT) {
        res.socket?.destroy();
        return;
      }
      res.write(piece);
      await pause(gapMs);
    }
    res.end();
  };

/** Never answers (the client's timeout fires). @type {Answer} */
export const silence = () => {};

/** Drops the connection without answering. @type {Answer} */
export const hangUp = (req) => {
  req.socket.destroy();
};

/** Cut `bytes` at these offsets. @param {Uint8Array} bytes @param {number[]} cuts */
export function cutAt(bytes, cuts) {
  const points = [0, ...cuts, bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

export async function startGateway() {
  /** @type {Recorded[]} */
  const requests = [];
  /** @type {Answer[]} */
  const answers = [];
  /** @type {number[]} */
  const sleeps = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://gateway.test');
    const recorded = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      json: body ? JSON.parse(body) : undefined,
    };
    requests.push(recorded);
    const answer = answers.shift();
    if (answer === undefined) {
      res.writeHead(599, { 'content-type': 'text/plain' });
      res.end(`unexpected request ${req.method} ${req.url}`);
      return;
    }
    await answer(req, res, recorded);
  });
  server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    requests,
    sleeps,
    get last() {
      return requests[requests.length - 1];
    },
    /** @param {...Answer} more */
    queue(...more) {
      answers.push(...more);
    },
    reset() {
      requests.length = 0;
      answers.length = 0;
      sleeps.length = 0;
    },
    /**
     * A client on this gateway whose retry sleeps are recorded, not slept.
     * @param {import('../src/client.js').ClientOptions} [options]
     */
    client(options = {}) {
      const client = new AIHub({ apiKey: 'ai-hub-test-key', baseURL: url, ...options });
      client._sleep = async (ms) => {
        sleeps.push(ms);
      };
      return client;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
