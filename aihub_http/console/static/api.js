// The REST API, as the console calls it: JSON in and out, the spec's error shape turned into an
// ApiError, and Server-Sent Events read from a POST (EventSource can only GET).
import { token, expire } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.requestId = body && body.request_id;
  }
}

function headers(auth, json) {
  const out = {};
  if (json) out["Content-Type"] = "application/json";
  const bearer = auth === undefined ? token() : auth;
  if (bearer) out.Authorization = `Bearer ${bearer}`;
  return out;
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") params.set(k, v);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** One JSON call; `auth` overrides the session's token (an API key, or null for none). */
export async function call(method, path, { body, query, auth } = {}) {
  const response = await fetch(url(path, query), {
    method,
    headers: headers(auth, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw refused(response.status, data, auth === undefined);
  return data;
}

/** The error of a refused call; a refused login token (expired, or its account gone) ends the
 * session, so the page returns to the login form instead of failing call after call. */
function refused(status, body, withSession) {
  const error = new ApiError(status, body);
  if (withSession && status === 401 && token()) expire(error.message);
  return error;
}

export const get = (path, query) => call("GET", path, { query });

/** Download a file the API streams (a CSV export) as `filename`: fetched with the session's token
 * in a header, then handed to the browser through a Blob URL, so the token never goes in a URL. */
export async function download(path, query, filename) {
  const response = await fetch(url(path, query), { headers: headers(undefined, false), credentials: "omit" });
  if (!response.ok) throw refused(response.status, await response.json().catch(() => null), true);
  const link = URL.createObjectURL(await response.blob());
  const a = Object.assign(document.createElement("a"), { href: link, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(link), 10_000); // after the browser has taken it
}

/** POST `body` and hand each SSE event's JSON to `onEvent`; resolves when the stream ends. */
export async function stream(path, body, auth, onEvent, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...headers(auth, true), Accept: "text/event-stream" },
    body: JSON.stringify(body),
    credentials: "omit",
    signal,
  });
  await readEvents(response, onEvent);
}

/** GET an SSE stream with the session's token (EventSource cannot send Authorization). */
export async function watch(path, onEvent, signal) {
  const response = await fetch(path, { headers: { ...headers(undefined, false), Accept: "text/event-stream" }, credentials: "omit", signal });
  if (!response.ok) throw refused(response.status, await response.json().catch(() => null), true);
  await readEvents(response, onEvent);
}

async function readEvents(response, onEvent) {
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data && data !== "[DONE]") onEvent(JSON.parse(data)); // [DONE]: OpenAI's last line
    }
  }
}
