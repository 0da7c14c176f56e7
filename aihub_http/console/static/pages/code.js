// "Show code": the playground's current call as curl, the Python SDK and the OpenAI SDK. The key
// is never written into the snippet; it reads the AI_HUB_API_KEY environment variable.

const py = (v) => JSON.stringify(v); // JSON strings and numbers are valid Python literals

/** `call`: {message, model, service, system_prompt, temperature, max_tokens, session_id, images},
 * and `openai`, the body sent to /v1/chat/completions when the playground used that API. */
export function snippets(call, origin) {
  return { curl: curl(call, origin), python: python(call, origin), openai: openai(call, origin) };
}

function body(call) {
  const out = { message: call.message };
  if (call.model) out.model = call.model;
  if (call.service) out.service = call.service;
  if (call.max_tokens) out.max_tokens = call.max_tokens;
  if (call.temperature !== undefined) out.temperature = call.temperature;
  if (call.session_id) out.session_id = call.session_id;
  if (call.images && call.images.length) out.images = ["<base64 image>"];
  if (call.system_prompt) out.context = { system_prompt: call.system_prompt };
  return out;
}

function curl(call, origin) {
  const [path, sent] = call.openai ? ["/v1/chat/completions", shortImages(call.openai)] : ["/v1/developer/chat/stream", body(call)];
  const json = JSON.stringify(sent, null, 2).replaceAll("'", "'\\''");
  return [`curl -N ${origin}${path} \\`, `  -H "Authorization: Bearer $AI_HUB_API_KEY" \\`, `  -H "Content-Type: application/json" \\`, `  -d '${json}'`].join("\n");
}

/** The OpenAI body with each image's data shortened, as a snippet shows it. */
function shortImages(request) {
  return JSON.parse(JSON.stringify(request), (key, value) => (key === "url" && typeof value === "string" && value.startsWith("data:") ? value.replace(/,.*/, ",...") : value));
}

function python(call, origin) {
  const args = [py(call.message)];
  if (call.model) args.push(`model=${py(call.model)}`);
  if (call.service) args.push(`service=${py(call.service)}`);
  if (call.max_tokens) args.push(`max_tokens=${call.max_tokens}`);
  if (call.temperature !== undefined) args.push(`temperature=${call.temperature}`);
  if (call.session_id) args.push(`session_id=${py(call.session_id)}`);
  if (call.system_prompt) args.push(`system_prompt=${py(call.system_prompt)}`);
  if (call.images && call.images.length) args.push(`images=[open("image.png", "rb").read()]`);
  return [
    "from ai_hub import AIHub, ContentEvent",
    "",
    `client = AIHub(base_url=${py(origin)})  # reads AI_HUB_API_KEY`,
    `with client.chat.stream(${args.join(", ")}) as stream:`,
    "    for event in stream:",
    "        if isinstance(event, ContentEvent):",
    '            print(event.content, end="", flush=True)',
  ].join("\n");
}

function openai(call, origin) {
  const messages = [];
  if (call.openai) {
    for (const m of shortImages(call.openai).messages) messages.push(JSON.stringify(m));
  } else {
    if (call.system_prompt) messages.push(`{"role": "system", "content": ${py(call.system_prompt)}}`);
    const content = call.images && call.images.length
      ? `[{"type": "text", "text": ${py(call.message)}}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}]`
      : py(call.message);
    messages.push(`{"role": "user", "content": ${content}}`);
  }
  const args = [`model=${py(call.model || "x-ai/grok-beta")}`, `messages=[\n        ${messages.join(",\n        ")},\n    ]`, "stream=True"];
  if (call.max_tokens) args.push(`max_tokens=${call.max_tokens}`);
  if (call.temperature !== undefined) args.push(`temperature=${call.temperature}`);
  return [
    "import os",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${py(origin + "/v1")}, api_key=os.environ["AI_HUB_API_KEY"])`,
    `for chunk in client.chat.completions.create(\n    ${args.join(",\n    ")},\n):`,
    "    if chunk.choices:",
    '        print(chunk.choices[0].delta.content or "", end="", flush=True)',
  ].join("\n");
}
