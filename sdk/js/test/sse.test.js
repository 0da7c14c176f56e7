import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SSEDecoder } from '../src/sse.js';

const STREAM = new TextEncoder().encode(
  'data: {"type": "content", "content": "你好, wörld 🚀", "model": "grok-beta"}\r\n\r\n' +
    ': keep-alive comment\n\n' +
    'data: {"type": "session", "session_id": "s1"}\r\r' +
    'event: custom\nid: 7\nretry: 1500\ndata: first line\ndata:second line\n\n' +
    'data: {"type": "done"}\n\n',
);

const ev = (data, more = {}) => ({ data, event: 'message', id: null, retry: null, ...more });
const EXPECTED = [
  ev('{"type": "content", "content": "你好, wörld 🚀", "model": "grok-beta"}'),
  ev('{"type": "session", "session_id": "s1"}'),
  ev('first line\nsecond line', { event: 'custom', id: '7', retry: 1500 }),
  ev('{"type": "done"}', { id: '7', retry: 1500 }),
];

const bytes = (text) => new TextEncoder().encode(text);

function decode(...chunks) {
  const decoder = new SSEDecoder();
  return [...chunks.flatMap((chunk) => decoder.feed(chunk)), ...decoder.flush()];
}

test('the whole stream in one chunk', () => {
  assert.deepEqual(decode(STREAM), EXPECTED);
});

test('every two-way split gives the same events', () => {
  for (let cut = 1; cut < STREAM.length; cut += 1) {
    assert.deepEqual(decode(STREAM.subarray(0, cut), STREAM.subarray(cut)), EXPECTED, `cut at ${cut}`);
  }
});

test('one byte at a time', () => {
  const chunks = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));
  assert.deepEqual(decode(...chunks), EXPECTED);
});

test('multibyte characters split across chunks', () => {
  const raw = bytes('data: é漢🚀\n\n');
  for (let cut = 6; cut < raw.length - 2; cut += 1) {
    assert.deepEqual(decode(raw.subarray(0, cut), raw.subarray(cut)), [ev('é漢🚀')]);
  }
});

test('a CRLF split between CR and LF is one line end', () => {
  assert.deepEqual(decode(bytes('data: a\r'), bytes('\n\r'), bytes('\n')), [ev('a')]);
});

test('a trailing CR waits for the next chunk, or for the end', () => {
  const decoder = new SSEDecoder();
  assert.deepEqual(decoder.feed(bytes('data: a\r\rdata: b\r\r')), [ev('a')]);
  assert.deepEqual(decoder.flush(), [ev('b')]);
});

test('a byte order mark is skipped', () => {
  assert.deepEqual(decode(Uint8Array.of(0xef, 0xbb), Uint8Array.of(0xbf, ...bytes('data: x\n\n'))), [ev('x')]);
});

test('field rules: no colon, one leading space removed, blank dispatches nothing', () => {
  assert.deepEqual(decode(bytes('data\n\n')), [ev('')]);
  assert.deepEqual(decode(bytes('data:  two\n\n')), [ev(' two')]);
  assert.deepEqual(decode(bytes('\n\n\nevent: ping\n\n')), []);
  assert.deepEqual(decode(bytes('retry: 1x\ndata: r\n\n')), [ev('r')]);
});

test('an unfinished event is not dispatched', () => {
  assert.deepEqual(decode(bytes('data: {"type": "done"}\n')), []);
  assert.deepEqual(decode(bytes('data: {"type": "done"}')), []);
});

test('a large payload across many chunks', () => {
  const payload = JSON.stringify({ type: 'content', content: 'x'.repeat(100_000) });
  const raw = bytes(`data: ${payload}\n\n`);
  const chunks = [];
  for (let i = 0; i < raw.length; i += 4096) chunks.push(raw.subarray(i, i + 4096));
  assert.deepEqual(decode(...chunks), [ev(payload)]);
});
