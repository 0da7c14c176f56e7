-- Releases alone, when no admission came to carry them (see upkeep.py).
-- KEYS: the releases' keys (on a Redis Cluster, all of one slot). ARGV[1]: JSON {channel_prefix,
-- window_ttl, releases}.
local a = cjson.decode(ARGV[1])
apply_releases(1, a.releases, a.channel_prefix, a.window_ttl)
return 1
