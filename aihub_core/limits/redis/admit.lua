-- One admission: read every counter, check the demand against every limit, and only if all
-- pass count it everywhere; otherwise change nothing. The refusal is worded in Python
-- (limits/rules.py) from the counters this returns.
--
-- KEYS: the user's requests this minute, the key's requests this minute, the user's tokens this
--       minute, the user's flight set, the user's calls this month; then the releases' keys (on
--       a Redis Cluster, all of one slot: the user's).
-- ARGV[1]: JSON, see RedisAdmitter.admit: the limits (user_limit, key_limit, tpm, max_flight,
--       quota; 0 = none, and a key_limit of 0 leaves the key's counter alone), the demand
--       (tokens, concurrent, slot), quota_start (the ledger's count, -1 while unknown),
--       quota_ttl, window_ttl, flight_ttl, lease_ms (how long the slot counts unless renewed),
--       user, channel_prefix, releases; `quiet` (a read, counted on its own counter as
--       KEYS[1] and KEYS[2] with the read limit as user_limit) publishes nothing; `budgets`, a
--       list of {limit, cost, start, ttl} (pico-USD as decimal strings: Lua's numbers print 14
--       digits; start '' while the ledger's sum is unknown), whose KEYS (held, then spent, per
--       budget) follow the five above, before the releases'.
-- Answer: a status (0 admitted, 1 a limit refused it, 2 the monthly quota did, 3 the quota's
-- or a budget's start is needed, 4 a budget refused it), then what it saw before counting: user
-- requests, key requests, tokens, live calls in flight, calls this month; after a 4, the
-- budget's index (from 1), its spent and its reserved.
local user_requests, key_requests, user_tokens, flight, month_calls = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local a = cjson.decode(ARGV[1])
-- The releases this process queued ride along, applied first: one round trip less, and an
-- admission right after a release from the same process sees it.
local budgets = a.budgets or {}
apply_releases(6 + 2 * #budgets, a.releases, a.channel_prefix, a.window_ttl)

local user_used = tonumber(redis.call('GET', user_requests) or '0')
local key_used = 0
if a.key_limit > 0 then key_used = tonumber(redis.call('GET', key_requests) or '0') end
local tokens_used = tonumber(redis.call('GET', user_tokens) or '0')
local in_flight, now = 0, 0
if a.concurrent then
  now = now_ms()
  in_flight = live_in_flight(flight, now, true)
end
local spent = {}
local needs_start = false
for i, b in ipairs(budgets) do
  spent[i] = redis.call('GET', KEYS[5 + 2 * i])
  if not spent[i] and b.start == '' then needs_start = true end
end
local quota_used = 0
if a.quota > 0 then
  local counted = redis.call('GET', month_calls)
  if counted then
    quota_used = tonumber(counted)
  elseif a.quota_start < 0 or needs_start then
    return {3, user_used, key_used, tokens_used, in_flight, 0}
  else
    -- Absent: start from the ledger's count. Atomic, so two processes starting it at once
    -- cannot lose an admission (the second finds the key and ignores its own count).
    quota_used = a.quota_start
    redis.call('SET', month_calls, quota_used, 'EX', a.quota_ttl)
  end
end
if needs_start then return {3, user_used, key_used, tokens_used, in_flight, quota_used} end
local seen = {user_used, key_used, tokens_used, in_flight, quota_used}
if a.quota > 0 and quota_used >= a.quota then return {2, unpack(seen)} end
local held = {}
for i, b in ipairs(budgets) do
  if not spent[i] then
    -- Absent: start from the ledger's sum, atomically (as the quota's count above).
    spent[i] = b.start
    redis.call('SET', KEYS[5 + 2 * i], b.start, 'EX', b.ttl)
  end
  held[i] = redis.call('GET', KEYS[4 + 2 * i]) or '0'
  if tonumber(spent[i]) + tonumber(held[i]) + tonumber(b.cost) > tonumber(b.limit) then
    return {4, user_used, key_used, tokens_used, in_flight, quota_used, i, spent[i], held[i]}
  end
end
if (a.user_limit > 0 and user_used + 1 > a.user_limit) or (a.key_limit > 0 and key_used + 1 > a.key_limit)
    or (a.tpm > 0 and a.tokens > 0 and tokens_used + a.tokens > a.tpm)
    or (a.concurrent and a.max_flight > 0 and in_flight + 1 > a.max_flight) then
  return {1, unpack(seen)}
end

if redis.call('INCR', user_requests) == 1 then redis.call('EXPIRE', user_requests, a.window_ttl) end
if a.key_limit > 0 and redis.call('INCR', key_requests) == 1 then
  redis.call('EXPIRE', key_requests, a.window_ttl)
end
if a.tokens > 0 and redis.call('INCRBY', user_tokens, a.tokens) == a.tokens then
  redis.call('EXPIRE', user_tokens, a.window_ttl)
end
if a.concurrent then
  redis.call('ZADD', flight, now + a.lease_ms, a.slot)
  redis.call('EXPIRE', flight, a.flight_ttl)
end
if a.quota > 0 then redis.call('INCR', month_calls) end
for i, b in ipairs(budgets) do
  if redis.call('INCRBY', KEYS[4 + 2 * i], b.cost) == tonumber(b.cost) then
    redis.call('EXPIRE', KEYS[4 + 2 * i], b.ttl)
  end
end
-- A read (`quiet`) changes none of the figures WatchQuota shows.
if not a.quiet then redis.call('PUBLISH', a.channel_prefix .. a.user, '1') end
return {0, unpack(seen)}
