// ChatService (Chat, StreamChat, the message-array RPCs), EmbeddingService and the live
// UsageService.WatchQuota stream through the generated client, against simulated upstreams.
import assert from "node:assert/strict";
import { test } from "node:test";

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

import { CreateChatCompletionRequestSchema } from "../gen/aihub/v1/chat_service_pb.js";
import { ChatMessageSchema, Role } from "../gen/aihub/v1/conversation_pb.js";
import { bearer, newKey, useCore } from "../test-support/clients.js";

const hub = useCore();

/**
 * One text message of a conversation.
 * @param {Role} role
 * @param {string} text
 */
const say = (role, text) =>
  create(ChatMessageSchema, { role, content: [{ part: { case: "text", value: text } }] });

test("Chat answers, with usage and the admission's headers", async () => {
  const { key } = await newKey(hub.clients);
  let headers = new Headers();
  const answer = await hub.clients.chat.chat(
    { message: "Hello, AI Hub!", model: "x-ai/grok-beta", maxTokens: 150 },
    bearer(key, { onHeader: (h) => (headers = h) }),
  );
  assert.match(answer.message, /\S/);
  assert.equal(answer.model, "openrouter:x-ai/grok-beta");
  assert.match(answer.sessionId, /\S/);
  assert.equal(answer.usage.totalTokens, answer.usage.promptTokens + answer.usage.completionTokens);
  assert.ok(answer.usage.estimatedCostUsd > 0);
  assert.equal(answer.metadata.simulated, true);
  assert.equal(answer.metadata.serviceUsed, "openrouter");
  assert.equal(headers.get("x-request-id"), answer.metadata.requestId);
  assert.equal(headers.get("x-ratelimit-limit"), "20");
  assert.equal(headers.get("x-ratelimit-remaining"), "19");
});

test("StreamChat sends content, then the session, the usage and done", async () => {
  const { key } = await newKey(hub.clients);
  const kinds = [];
  let text = "";
  let usage;
  for await (const response of hub.clients.chat.streamChat({ message: "Tell me a story" }, bearer(key))) {
    const { event } = response;
    if (kinds.at(-1) !== event.case) kinds.push(event.case);
    if (event.case === "content") text += event.value.content;
    if (event.case === "usage") usage = event.value.usage;
  }
  assert.deepEqual(kinds, ["content", "session", "usage", "done"]);
  assert.ok(text.length > 20, text);
  assert.ok(usage.completionTokens > 0n);
});

test("CreateChatCompletion calls a tool, then answers from its result", async () => {
  const { key } = await newKey(hub.clients);
  const request = create(CreateChatCompletionRequestSchema, {
    model: "gemini-2.5-flash",
    messages: [say(Role.USER, "Weather in Oslo? Call get_weather.")],
    tools: [
      {
        tool: {
          case: "function",
          value: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          },
        },
      },
    ],
  });
  const called = await hub.clients.chat.createChatCompletion(request, bearer(key));
  assert.equal(called.metadata.finishReason, "tool_calls");
  assert.equal(called.message.role, Role.ASSISTANT);
  const [call] = called.message.toolCalls;
  assert.equal(call.function.name, "get_weather");
  assert.equal(typeof JSON.parse(call.function.arguments).city, "string");

  // The conversation goes on with the model's call and the tool's result.
  const result = say(Role.TOOL, "4 degrees, rain");
  result.toolCallId = call.id;
  request.messages.push(called.message, result);
  const answered = await hub.clients.chat.createChatCompletion(request, bearer(key));
  const text = answered.message.content.map((p) => (p.part.case === "text" ? p.part.value : "")).join("");
  assert.match(text, /4 degrees, rain/);
  assert.equal(answered.metadata.finishReason, "stop");
});

test("StreamChatCompletion sends deltas, then the usage and done, cut at max_tokens", async () => {
  const { key } = await newKey(hub.clients);
  const kinds = [];
  let text = "";
  let usage;
  const request = {
    model: "x-ai/grok-beta",
    messages: [say(Role.SYSTEM, "Be brief."), say(Role.USER, "Say hello")],
    generation: { maxTokens: 5, temperature: 0.2 },
  };
  for await (const { event } of hub.clients.chat.streamChatCompletion(request, bearer(key))) {
    if (kinds.at(-1) !== event.case) kinds.push(event.case);
    if (event.case === "delta") text += event.value.content;
    if (event.case === "usage") usage = event.value;
  }
  assert.deepEqual(kinds, ["delta", "usage", "done"]);
  assert.match(text, /\S/);
  assert.equal(usage.metadata.finishReason, "length");
  assert.ok(usage.usage.completionTokens <= 5n, String(usage.usage.completionTokens));
});

test("CreateEmbeddings returns one vector per input, shortened by dimensions", async () => {
  const { key } = await newKey(hub.clients);
  const answer = await hub.clients.embeddings.createEmbeddings(
    { model: "gemini-embedding-001", input: ["first text", "second text"], dimensions: 16 },
    bearer(key),
  );
  assert.deepEqual(
    answer.embeddings.map((e) => [e.index, e.values.length]),
    [
      [0, 16],
      [1, 16],
    ],
  );
  assert.notDeepEqual(answer.embeddings[0].values, answer.embeddings[1].values);
  assert.ok(answer.usage.promptTokens > 0n);
});

test("WatchQuota sends a snapshot, a new one when a call is counted, and ends when cancelled", async () => {
  const { key } = await newKey(hub.clients);
  const abort = new AbortController();
  const snapshots = [];
  /** @type {unknown} */
  let ended = "the stream ended without being cancelled";
  try {
    for await (const snapshot of hub.clients.usage.watchQuota({}, bearer(key, { signal: abort.signal }))) {
      snapshots.push(snapshot);
      if (snapshots.length === 1) {
        await hub.clients.chat.chat({ message: "count me" }, bearer(key));
      } else if (snapshot.quotaUsed > snapshots[0].quotaUsed && snapshot.rateLimit.concurrentInFlight === 0) {
        abort.abort(); // the chat is counted and finished: enough
      }
    }
  } catch (err) {
    ended = err;
  }
  assert.ok(ended instanceof ConnectError, String(ended));
  assert.equal(ended.code, Code.Canceled);
  const [first, last] = [snapshots[0], snapshots.at(-1)];
  assert.equal(first.plan, "free");
  assert.equal(first.rateLimit.requestsPerMinute, 20);
  assert.equal(first.quotaUsed, 0n);
  assert.ok(snapshots.length >= 2, `${snapshots.length} snapshots`);
  assert.equal(last.quotaUsed, 1n);
  assert.equal(last.quotaRemaining, last.quotaLimit - 1n);
  // The account is still served after the watch went away.
  assert.equal((await hub.clients.usage.getQuota({}, bearer(key))).plan, "free");
});
