// The generated client, as an application would use it: one gRPC transport (HTTP/2) to the core,
// a Connect client per service, the credential in the `authorization` header of each call.
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { AdminService } from "../gen/aihub/v1/admin_service_pb.js";
import { AuthService } from "../gen/aihub/v1/auth_service_pb.js";
import { ChatService } from "../gen/aihub/v1/chat_service_pb.js";
import { EmbeddingService } from "../gen/aihub/v1/embedding_service_pb.js";
import { KeyService } from "../gen/aihub/v1/key_service_pb.js";
import { ModelService } from "../gen/aihub/v1/model_service_pb.js";
import { UsageService } from "../gen/aihub/v1/usage_service_pb.js";
import { startCore } from "./core.js";

/** A client for every service of the core at baseUrl (`http://host:port`). */
export function clientsFor(baseUrl) {
  const transport = createGrpcTransport({ baseUrl });
  return {
    auth: createClient(AuthService, transport),
    admin: createClient(AdminService, transport),
    keys: createClient(KeyService, transport),
    models: createClient(ModelService, transport),
    usage: createClient(UsageService, transport),
    chat: createClient(ChatService, transport),
    embeddings: createClient(EmbeddingService, transport),
  };
}

/** Call options carrying a JWT or an API key. */
export function bearer(credential, options = {}) {
  return { ...options, headers: { ...options.headers, authorization: `Bearer ${credential}` } };
}

/** Registers a new account; resolves to its email, password and JWT. */
export async function newAccount(clients) {
  const email = `ts-${randomUUID()}@example.com`;
  const password = "correct horse battery";
  const { token } = await clients.auth.register({ email, password });
  return { email, password, jwt: token };
}

/** A new account and an API key of it (all permissions unless `request` says otherwise). */
export async function newKey(clients, request = {}) {
  const account = await newAccount(clients);
  const created = await clients.keys.createApiKey({ name: "ts client", ...request }, bearer(account.jwt));
  return { ...account, key: created.key, keyId: created.id };
}

/**
 * A core for this test file: started before its tests, stopped after them. Read `baseUrl` and
 * `clients` inside the tests (they are set once the core runs).
 */
export function useCore() {
  /** @type {{ baseUrl: string, db: string, clients: ReturnType<typeof clientsFor> }} */
  const hub = { baseUrl: "", db: "", clients: undefined };
  /** @type {Awaited<ReturnType<typeof startCore>> | undefined} */
  let core;
  before(async () => {
    core = await startCore();
    hub.baseUrl = core.baseUrl;
    hub.db = core.db;
    hub.clients = clientsFor(core.baseUrl);
  });
  after(() => core?.stop());
  return hub;
}
