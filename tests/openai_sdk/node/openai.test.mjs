// The official `openai` npm package against a real AI Hub gateway, as a Node user would point it.
// Run by tests/openai_sdk/test_node.py, which starts the gateway, makes the keys and passes them:
// AIHUB_BASE_URL (…/v1), AIHUB_KEY (every permission), AIHUB_MODELS_KEY (`models` only),
// AIHUB_LIMITED_KEY (1 request a minute), and AIHUB_UPSTREAM: `healthy`, or `failing` when the
// simulated upstream answers every call with a 500.
import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";

const env = process.env;
const client = (apiKey = env.AIHUB_KEY) => new OpenAI({ baseURL: env.AIHUB_BASE_URL, apiKey, maxRetries: 0 });
const HI = [{ role: "user", content: "hi" }];
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["city", "unit"],
    },
  },
};
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);

async function refused(promise, ErrorClass) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `${err?.constructor?.name}: ${err?.message}`);
    assert.deepEqual(Object.keys(err.error).sort(), ["code", "message", "param", "type"]);
    return true;
  });
  return promise.catch((err) => err);
}

if (env.AIHUB_UPSTREAM === "failing") {
  test("an upstream failure is an InternalServerError", async () => {
    const err = await refused(client().chat.completions.create({ model: "x-ai/grok-beta", messages: HI }), OpenAI.InternalServerError);
    assert.ok(err.status >= 500 && err.error.type === "api_error");
  });
} else {
  test("a completion in OpenAI's shape", async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: "x-ai/grok-beta", messages: [{ role: "system", content: "Be terse." }, ...HI], max_tokens: 1000 })
      .withResponse();
    assert.equal(data.object, "chat.completion");
    assert.equal(data.id, "chatcmpl-" + response.headers.get("x-request-id").replace("req_", ""));
    assert.equal(data.choices[0].finish_reason, "stop");
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.ok(data.usage.estimated_cost_usd > 0);
    assert.ok(response.headers.get("x-ratelimit-limit"));
  });

  test("a stream: role first, content, the finish, the usage chunk", async () => {
    const stream = await client().chat.completions.create({
      model: "x-ai/grok-beta",
      messages: [{ role: "user", content: "Tell me a story" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.ok(text.length > 0);
    assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.ok(chunks.at(-1).usage.total_tokens > 0);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  });

  test("a tool call round trip over two turns, and streamed tool calls", async () => {
    const openai = client();
    const question = { role: "user", content: "What is the weather in Oslo? Call get_weather." };
    const first = await openai.chat.completions.create({ model: "gemini-2.5-flash", messages: [question], tools: [WEATHER] });
    const [call] = first.choices[0].message.tool_calls;
    assert.equal(first.choices[0].finish_reason, "tool_calls");
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), { city: "city value", unit: "celsius" });
    const second = await openai.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [question, first.choices[0].message, { role: "tool", tool_call_id: call.id, content: '{"temperature": 21}' }],
      tools: [WEATHER],
    });
    assert.match(second.choices[0].message.content, /get_weather returned \{"temperature": 21\}/);

    const stream = await openai.chat.completions.create({ model: "x-ai/grok-beta", messages: [question], tools: [WEATHER], stream: true });
    let name = "";
    let args = "";
    let finish = null;
    for await (const chunk of stream) {
      for (const piece of chunk.choices[0]?.delta.tool_calls ?? []) {
        assert.equal(piece.index, 0);
        name += piece.function?.name ?? "";
        args += piece.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, "get_weather");
    assert.deepEqual(JSON.parse(args), { city: "city value", unit: "celsius" });
    assert.equal(finish, "tool_calls");
  });

  test("JSON mode and vision with a data URI", async () => {
    const json = await client().chat.completions.create({ model: "x-ai/grok-beta", messages: HI, response_format: { type: "json_object" } });
    assert.equal(typeof JSON.parse(json.choices[0].message.content), "object");
    const seen = await client().chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG.toString("base64")}` } },
          ],
        },
      ],
    });
    assert.ok(seen.choices[0].message.content.length > 0);
  });

  test("embeddings as floats and as base64", async () => {
    const openai = client();
    const floats = await openai.embeddings.create({ model: "text-embedding-004", input: ["a fox", "a dog"], encoding_format: "float" });
    const fromBase64 = await openai.embeddings.create({ model: "text-embedding-004", input: ["a fox", "a dog"] });
    assert.equal(floats.data.length, 2);
    assert.equal(floats.data[0].embedding.length, 768);
    assert.deepEqual(fromBase64.data.map((d) => d.embedding), floats.data.map((d) => d.embedding));
    assert.ok(floats.usage.prompt_tokens > 0);
  });

  test("models listed and retrieved", async () => {
    const ids = [];
    for await (const model of client().models.list()) ids.push(model.id);
    assert.ok(ids.includes("x-ai/grok-beta") && ids.includes("gemini-2.5-flash"));
    const grok = await client().models.retrieve("x-ai/grok-beta");
    assert.deepEqual([grok.id, grok.object, grok.owned_by], ["x-ai/grok-beta", "model", "openrouter"]);
  });

  test("each error class", async () => {
    await refused(client("ai-hub-" + "x".repeat(43)).models.list(), OpenAI.AuthenticationError);
    await refused(client(env.AIHUB_MODELS_KEY).chat.completions.create({ model: "x-ai/grok-beta", messages: HI }), OpenAI.PermissionDeniedError);
    const missing = await refused(client().models.retrieve("no/such-model"), OpenAI.NotFoundError);
    assert.deepEqual([missing.error.code, missing.error.param], ["model_not_found", "model"]);
    const bad = await refused(client().chat.completions.create({ model: "x-ai/grok-beta", messages: HI, n: 2 }), OpenAI.BadRequestError);
    assert.deepEqual([bad.error.code, bad.error.param], ["unsupported_parameter", "n"]);
    const limited = client(env.AIHUB_LIMITED_KEY);
    await limited.models.list();
    const slow = await refused(limited.models.list(), OpenAI.RateLimitError);
    assert.ok(Number(slow.headers.get("retry-after")) >= 1);
  });
}
