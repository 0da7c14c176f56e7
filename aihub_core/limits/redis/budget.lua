-- A caller's figures, counting nothing (GetQuota, WatchQuota).
-- KEYS: the user's requests this minute, the key's requests this minute, the user's tokens this
--       minute, the user's flight set.
-- ARGV[1]: JSON {key_counted (false: the key has no limit of its own)}.
-- Answer: user requests, key requests, tokens, live calls in flight.
local user_requests, key_requests, user_tokens, flight = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local a = cjson.decode(ARGV[1])
local key_used = 0
if a.key_counted then key_used = tonumber(redis.call('GET', key_requests) or '0') end
return {tonumber(redis.call('GET', user_requests) or '0'), key_used,
        tonumber(redis.call('GET', user_tokens) or '0'), live_in_flight(flight, now_ms(), false)}
