"""The Redis side of shared limits: key names and the Lua scripts that check and count atomically.

Keys (prefix `aihub:` by default; W is the minute window's number, epoch seconds // 60):

    {p}req:{W}:user:{user}     requests this minute, per user        expires 120 s after its start
    {p}req:{W}:key:{key}       requests this minute, per API key     (only keys with their own limit)
    {p}tok:{W}:{user}          tokens held this minute, per user
    {p}flight:{user}           a set: one member `{instance}:{n}` per concurrent call in flight
    {p}quota:{YYYY-MM}:{user}  calls counted against the monthly quota, per user; expires a day
                               after the month
    {p}instance:{instance}     a gateway process's heartbeat         expires unless refreshed
    {p}changes:{user}          (pub/sub channel) the user's figures changed

A member of a `flight` set counts only while its instance's heartbeat key exists: the admission
script drops the members of instances whose heartbeat has expired, so a crashed process's slots
free themselves. The scripts read those heartbeat keys by name, so they need one Redis server
(or a primary): Redis Cluster is not supported.
"""

from __future__ import annotations

from dataclasses import dataclass

# A minute's counters outlive their minute, whatever the skew between the processes' clocks.
WINDOW_TTL_SECONDS = 120
# A flight set lives this long after its last admission (calls never run that long).
FLIGHT_TTL_SECONDS = 24 * 3600

# What ADMIT answers first; then the counters it saw before committing anything:
# user requests, key requests, tokens, live calls in flight, monthly calls.
ADMITTED, REFUSED_LIMIT, REFUSED_QUOTA, NEEDS_QUOTA = 0, 1, 2, 3

_LIVE_IN_FLIGHT = """
local function live_in_flight(set_key, instance_prefix, prune)
  local alive, n = {}, 0
  for _, member in ipairs(redis.call('SMEMBERS', set_key)) do
    local instance = string.match(member, '^[^:]+')
    if alive[instance] == nil then
      alive[instance] = redis.call('EXISTS', instance_prefix .. instance) == 1
    end
    if alive[instance] then
      n = n + 1
    elseif prune then
      redis.call('SREM', set_key, member)
    end
  end
  return n
end
"""

# Calls that ended: KEYS from `k` on in pairs (the user's flight set, the tokens key of the minute
# the call ended in), ARGV from `a` on in threes (user, slot member or '', token correction).
_APPLY_RELEASES = """
local function apply_releases(k, a, channel_prefix)
  local woken = {}
  while k < #KEYS do
    local user, slot, delta = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
    if slot ~= '' then redis.call('SREM', KEYS[k], slot) end
    if delta ~= 0 then
      local left = redis.call('INCRBY', KEYS[k + 1], delta)
      if left <= 0 then
        redis.call('DEL', KEYS[k + 1])
      elseif left == delta then
        redis.call('EXPIRE', KEYS[k + 1], WINDOW_TTL)
      end
    end
    if not woken[user] then
      woken[user] = true
      redis.call('PUBLISH', channel_prefix .. user, '1')
    end
    k, a = k + 2, a + 3
  end
end
"""

# KEYS: user requests, key requests, user tokens, user flight set, user quota, then releases
# ARGV: user rpm limit, key rpm limit (0: the key is not counted), tpm limit, tokens,
#       concurrent (1/0), concurrency limit, slot member, monthly quota (0: not counted),
#       quota start (-1: unknown), quota key lifetime (s), instance key prefix, channel prefix,
#       user, then releases
# The releases this process queued ride along, applied first: one round trip less, and an
# admission right after a release from the same process sees it.
_ADMIT = """
apply_releases(6, 14, ARGV[12])
local user_limit, key_limit, tpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, concurrent, max_flight = tonumber(ARGV[4]), ARGV[5] == '1', tonumber(ARGV[6])
local quota = tonumber(ARGV[8])
local user_used = tonumber(redis.call('GET', KEYS[1]) or '0')
local key_used = 0
if key_limit > 0 then key_used = tonumber(redis.call('GET', KEYS[2]) or '0') end
local tokens_used = tonumber(redis.call('GET', KEYS[3]) or '0')
local in_flight = 0
if concurrent and max_flight > 0 then in_flight = live_in_flight(KEYS[4], ARGV[11], true) end
local quota_used = 0
if quota > 0 then
  local counted = redis.call('GET', KEYS[5])
  if counted then
    quota_used = tonumber(counted)
  elseif tonumber(ARGV[9]) < 0 then
    return {3, user_used, key_used, tokens_used, in_flight, 0}
  else
    -- Absent: start from the ledger's count. Atomic, so two processes starting it at once
    -- cannot lose an admission (the second finds the key and ignores its own count).
    quota_used = tonumber(ARGV[9])
    redis.call('SET', KEYS[5], quota_used, 'EX', ARGV[10])
  end
end
local seen = {user_used, key_used, tokens_used, in_flight, quota_used}
if quota > 0 and quota_used >= quota then return {2, unpack(seen)} end
if (user_limit > 0 and user_used + 1 > user_limit) or (key_limit > 0 and key_used + 1 > key_limit)
    or (tpm > 0 and tokens > 0 and tokens_used + tokens > tpm)
    or (concurrent and max_flight > 0 and in_flight + 1 > max_flight) then
  return {1, unpack(seen)}
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], WINDOW_TTL) end
if key_limit > 0 and redis.call('INCR', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], WINDOW_TTL) end
if tokens > 0 and redis.call('INCRBY', KEYS[3], tokens) == tokens then
  redis.call('EXPIRE', KEYS[3], WINDOW_TTL)
end
if concurrent then
  redis.call('SADD', KEYS[4], ARGV[7])
  redis.call('EXPIRE', KEYS[4], FLIGHT_TTL)
end
if quota > 0 then redis.call('INCR', KEYS[5]) end
redis.call('PUBLISH', ARGV[12] .. ARGV[13], '1')
return {0, unpack(seen)}
"""

# KEYS: releases; ARGV: the channel prefix, then releases
_RELEASE = """
apply_releases(1, 2, ARGV[1])
return 1
"""

# KEYS: user requests, key requests, user tokens, user flight set
# ARGV: key counted (1/0), instance key prefix
_BUDGET = """
local key_used = 0
if ARGV[1] == '1' then key_used = tonumber(redis.call('GET', KEYS[2]) or '0') end
return {tonumber(redis.call('GET', KEYS[1]) or '0'), key_used,
        tonumber(redis.call('GET', KEYS[3]) or '0'), live_in_flight(KEYS[4], ARGV[2], false)}
"""


def _script(*parts: str) -> str:
    text = "".join(parts)
    return text.replace("WINDOW_TTL", str(WINDOW_TTL_SECONDS)).replace("FLIGHT_TTL", str(FLIGHT_TTL_SECONDS))


ADMIT = _script(_LIVE_IN_FLIGHT, _APPLY_RELEASES, _ADMIT)
RELEASE = _script(_APPLY_RELEASES, _RELEASE)
BUDGET = _script(_LIVE_IN_FLIGHT, _BUDGET)


@dataclass(frozen=True)
class Keys:
    """The key and channel names under one prefix."""

    prefix: str

    def requests(self, window: int, scope: str) -> str:
        """A request counter of one minute; `scope` is `user:ID` or `key:ID`."""
        return f"{self.prefix}req:{window}:{scope}"

    def tokens(self, window: int, user_id: str) -> str:
        return f"{self.prefix}tok:{window}:{user_id}"

    def flight(self, user_id: str) -> str:
        return f"{self.prefix}flight:{user_id}"

    def quota(self, month: str, user_id: str) -> str:
        return f"{self.prefix}quota:{month}:{user_id}"

    @property
    def instance_prefix(self) -> str:
        return f"{self.prefix}instance:"

    def instance(self, instance_id: str) -> str:
        return f"{self.instance_prefix}{instance_id}"

    @property
    def channel_prefix(self) -> str:
        return f"{self.prefix}changes:"

    def channel(self, user_id: str) -> str:
        return f"{self.channel_prefix}{user_id}"
