"""Limits: who may make a call now, and what is left.

- `rules`: the rules as pure functions over counters (windows, which limit a demand breaks, the
  refusals, the X-RateLimit-* figures), and the data they speak: `Demand`, `Grant`, `RateState`,
  `Budget`;
- `plans`: the plans' limits; `tokens`: the token estimate a chat call is admitted with;
- `admitter`: the one `Admitter` interface; `in_process`: counted in this process;
  `redis/`: counted in Redis for several processes (docs/limits.md); `factory`: picks one;
- `quota_watch`: live snapshots of a caller's quota and budget (WatchQuota).

A caller of the limits builds the demand (chat: `aihub_core.chat.admission`); the rules never
ask what kind of call it is.
"""
