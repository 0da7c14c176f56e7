"""Chat, the use case: one call from its Idempotency-Key to the release of its limits.

- `calls`: the orchestrator (`ChatCalls`): claim, prepare, admit, answer, settle, release; the API
  adapters hand it a `ChatCall` and turn its events into their own messages;
- `params`: a chat request as validated plain data;
- `engine`: prepares a call (model, session, candidates, token estimate) and runs it through the
  router, writing its one ledger row;
- `conversation`: the conversation sent upstream, fitted to a model's context window;
- `routing`: retries, circuit breakers and fallback models over the candidates;
- `admission`: what a chat call asks of the limits; `idempotency`: Idempotency-Key claims.
"""
