-- Functions every script shares; scripts.py puts this file before each script's own text.

-- Redis's clock in milliseconds: every lease in a flight set is measured on the clock of the
-- Redis server holding it, so the gateways' clocks do not matter.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The calls in a user's flight set whose lease runs after `now`. With `prune`, the others (calls
-- of a process that died or lost Redis, see upkeep.py) are dropped.
local function live_in_flight(flight_key, now, prune)
  if prune then
    redis.call('ZREMRANGEBYSCORE', flight_key, '-inf', now)
    return redis.call('ZCARD', flight_key)
  end
  return redis.call('ZCOUNT', flight_key, '(' .. now, '+inf')
end

-- Calls that ended, queued by a gateway process: `releases` is a list of {user, slot, delta,
-- spend} (slot '' when the call held none; delta, the tokens to give back (< 0) or add; spend,
-- per budget the call held, {held, cost}: the worst case to give back and the cost to count, as
-- decimal strings), and their keys are KEYS from `first_key` on: the user's flight set, the
-- tokens key of the minute the call ended in, then per budget its held and spent keys. A spent
-- key that is gone (expired, or Redis lost it) is left to be started again from the ledger.
local function apply_releases(first_key, releases, channel_prefix, window_ttl)
  local woken, k = {}, first_key
  for _, release in ipairs(releases) do
    local flight_key, tokens_key = KEYS[k], KEYS[k + 1]
    if release.slot ~= '' then redis.call('ZREM', flight_key, release.slot) end
    if release.delta ~= 0 then
      local left = redis.call('INCRBY', tokens_key, release.delta)
      if left <= 0 then
        redis.call('DEL', tokens_key)
      elseif left == release.delta then
        redis.call('EXPIRE', tokens_key, window_ttl)
      end
    end
    local spend = release.spend or {}
    for j, s in ipairs(spend) do
      local held_key, spent_key = KEYS[k + 2 * j], KEYS[k + 2 * j + 1]
      if redis.call('EXISTS', held_key) == 1 and redis.call('DECRBY', held_key, s[1]) < 0 then
        redis.call('SET', held_key, '0', 'KEEPTTL')
      end
      if s[2] ~= '0' and redis.call('EXISTS', spent_key) == 1 then redis.call('INCRBY', spent_key, s[2]) end
    end
    if not woken[release.user] then
      woken[release.user] = true
      redis.call('PUBLISH', channel_prefix .. release.user, '1')
    end
    k = k + 2 + 2 * #spend
  end
end
