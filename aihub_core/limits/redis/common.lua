-- Functions every script shares; scripts.py puts this file before each script's own text.

-- The members of a user's flight set whose instance's heartbeat key exists. With `prune`, the
-- members of instances whose heartbeat has expired (a crashed process) are dropped.
local function live_in_flight(flight_key, instance_prefix, prune)
  local alive, n = {}, 0
  for _, member in ipairs(redis.call('SMEMBERS', flight_key)) do
    local instance = string.match(member, '^[^:]+')
    if alive[instance] == nil then
      alive[instance] = redis.call('EXISTS', instance_prefix .. instance) == 1
    end
    if alive[instance] then
      n = n + 1
    elseif prune then
      redis.call('SREM', flight_key, member)
    end
  end
  return n
end

-- Calls that ended, queued by a gateway process: `releases` is a list of {user, slot, delta}
-- (slot '' when the call held none; delta, the tokens to give back (< 0) or add), and their
-- keys are KEYS from `first_key` on, in pairs: the user's flight set, then the tokens key of
-- the minute the call ended in.
local function apply_releases(first_key, releases, channel_prefix, window_ttl)
  local woken, k = {}, first_key
  for _, release in ipairs(releases) do
    local flight_key, tokens_key = KEYS[k], KEYS[k + 1]
    if release.slot ~= '' then redis.call('SREM', flight_key, release.slot) end
    if release.delta ~= 0 then
      local left = redis.call('INCRBY', tokens_key, release.delta)
      if left <= 0 then
        redis.call('DEL', tokens_key)
      elseif left == release.delta then
        redis.call('EXPIRE', tokens_key, window_ttl)
      end
    end
    if not woken[release.user] then
      woken[release.user] = true
      redis.call('PUBLISH', channel_prefix .. release.user, '1')
    end
    k = k + 2
  end
end
