"""Limits shared by several processes through Redis (`AIHUB_REDIS_URL`, docs/limits.md).

These modules import redis-py: only `limits.factory` imports them, and only when Redis is set.
"""
