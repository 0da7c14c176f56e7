// "Try it" for GET /docs: each operation's form sends its request with fetch and shows the
// answer (a Server-Sent Events answer as it streams). No framework, no build step, no CDN.
'use strict';

const CREDENTIALS = ['api_key', 'jwt'];

for (const name of CREDENTIALS) {
  const input = document.getElementById(`cred-${name}`);
  input.value = sessionStorage.getItem(`aihub-${name}`) || '';
  input.addEventListener('change', () => sessionStorage.setItem(`aihub-${name}`, input.value.trim()));
}

function requestOf(form) {
  let path = form.dataset.path;
  const query = new URLSearchParams();
  const headers = {};
  for (const input of form.querySelectorAll('[data-in]')) {
    const value = input.value.trim();
    if (!value) continue;
    if (input.dataset.in === 'path') path = path.replace(`{${input.name}}`, encodeURIComponent(value));
    else if (input.dataset.in === 'query') query.append(input.name, value);
    else headers[input.name] = value;
  }
  const credential = form.dataset.credential;
  if (credential !== 'none') {
    const secret = document.getElementById(`cred-${credential}`).value.trim();
    if (secret) headers.Authorization = `Bearer ${secret}`;
  }
  const init = { method: form.dataset.method.toUpperCase(), headers };
  const body = form.querySelector('textarea');
  if (body) {
    headers['Content-Type'] = 'application/json';
    init.body = body.value;
  }
  const search = query.toString();
  return [path + (search ? `?${search}` : ''), init];
}

async function send(form, out) {
  const [url, init] = requestOf(form);
  out.textContent = `${init.method} ${url}\n…`;
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    out.textContent = `${init.method} ${url}\n${err}`;
    return;
  }
  const shown = ['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'];
  const head = shown.filter((h) => response.headers.has(h)).map((h) => `${h}: ${response.headers.get(h)}`);
  const prefix = `HTTP ${response.status}\n${head.join('\n')}\n\n`;
  if ((response.headers.get('content-type') || '').startsWith('text/event-stream') && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      out.textContent = prefix + text;
    }
    return;
  }
  const text = await response.text();
  try {
    out.textContent = prefix + JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    out.textContent = prefix + text;
  }
}

for (const form of document.querySelectorAll('form.op')) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(form, form.querySelector('pre.result'));
  });
}
