-- A process renews the leases of its calls in flight (see upkeep.py): each slot it holds gets a
-- lease of `lease_ms` from now, and a slot that others dropped meanwhile (this process was cut
-- off from Redis, or stalled, for longer than a lease) is put back.
-- KEYS: flight sets (on a Redis Cluster, all of one slot). ARGV[1]: JSON {lease_ms, flight_ttl,
--       slots: for each key, the list of its members this process holds}.
local a = cjson.decode(ARGV[1])
local deadline = now_ms() + a.lease_ms
for i, slots in ipairs(a.slots) do
  -- ZADD in parts: Lua's unpack takes a few thousand values at most.
  for first = 1, #slots, 500 do
    local scored = {}
    for j = first, math.min(first + 499, #slots) do
      scored[#scored + 1] = deadline
      scored[#scored + 1] = slots[j]
    end
    redis.call('ZADD', KEYS[i], unpack(scored))
  end
  redis.call('EXPIRE', KEYS[i], a.flight_ttl)
end
return 1
