// The README's example: chat, stream and watch the quota over gRPC with the generated client,
// and read what a refused call says. The core's URL in AI_HUB_GRPC_URL, an API key in AI_HUB_API_KEY.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "ai-hub-grpc-client/gen/aihub/v1/chat_service_pb.js";
import { UsageService } from "ai-hub-grpc-client/gen/aihub/v1/usage_service_pb.js";
import { ErrorInfoSchema, RetryInfoSchema } from "ai-hub-grpc-client/gen/google/rpc/error_details_pb.js";

const transport = createGrpcTransport({ baseUrl: process.env.AI_HUB_GRPC_URL ?? "http://127.0.0.1:50051" });
const chat = createClient(ChatService, transport);
const usage = createClient(UsageService, transport);
const headers = { authorization: `Bearer ${process.env.AI_HUB_API_KEY}` };

const answer = await chat.chat(
  { message: "Hello, AI Hub!", model: "x-ai/grok-beta", maxTokens: 150 },
  { headers },
);
console.log(answer.message, answer.usage?.estimatedCostUsd);

for await (const { event } of chat.streamChat({ message: "hi" }, { headers })) {
  if (event.case === "content") process.stdout.write(event.value.content);
  if (event.case === "usage") console.log(`\n${event.value.usage?.totalTokens} tokens`);
}

// WatchQuota lasts until cancelled: a snapshot at once, then one with every change. Leaving the
// loop does not end a Connect stream; aborting its signal does.
const watch = new AbortController();
try {
  for await (const quota of usage.watchQuota({}, { headers, signal: watch.signal })) {
    const minute = quota.rateLimit?.requestsRemaining;
    console.log(`${quota.quotaRemaining} requests left this month, ${minute} this minute`);
    watch.abort();
  }
} catch (err) {
  if (ConnectError.from(err).code !== Code.Canceled) throw err;
}

try {
  await chat.chat({ message: "hi", model: "no-such/model" }, { headers });
} catch (err) {
  const refused = ConnectError.from(err);
  const [info] = refused.findDetails(ErrorInfoSchema); // from the grpc-status-details-bin trailer
  const [retry] = refused.findDetails(RetryInfoSchema); // when a limit refused the call
  console.log(Code[refused.code], info?.reason, info?.metadata.code, retry?.retryDelay?.seconds ?? "-");
}
