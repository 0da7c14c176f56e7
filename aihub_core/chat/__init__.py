"""Chat, the use case: one call from its Idempotency-Key to the release of its limits.

- `calls`: the orchestrator (`ChatCalls`): claim, prepare, admit, answer, settle, release; the API
  adapters hand it a `ChatCall` and turn its events into their own messages;
- `params`: the developer API's chat request (one message in a session) as validated plain data;
  `completion_params`: the message-array form (roles, content parts, tools, formats);
- `engine`: prepares a call (model, session, candidates, token estimate) and runs it through the
  router, writing its one ledger row (`ledger`);
- `conversation`: a session's conversation fitted to a model's context window; `completions`:
  the caller's own conversation, its images encoded, its tokens estimated;
- `embeddings`: embedding calls, prepared, routed and recorded as chat calls are;
- `models`: the model a call names, of the kind it needs, and its provider;
- `routing`: retries, circuit breakers and fallback models over the candidates;
- `admission`: what a call asks of the limits; `idempotency`: Idempotency-Key claims.
"""
