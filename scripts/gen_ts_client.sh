#!/usr/bin/env bash
# Regenerate clients/ts/gen (the TypeScript client) from proto/ with buf and protoc-gen-es, both
# pinned in clients/ts/package-lock.json; installs them there (`npm ci`) when they are missing.
# Usage: scripts/gen_ts_client.sh [--check]
# With --check, generate into a temporary directory and fail if it differs from clients/ts/gen.
set -euo pipefail
cd "$(dirname "$0")/../clients/ts"
# npm ci writes node_modules/.package-lock.json: older than the lock file means stale packages.
if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then
  log=$(mktemp)
  npm ci --silent --no-audit --no-fund >"$log" 2>&1 \
    || { cat "$log" >&2; rm -f "$log"; echo "npm ci in clients/ts failed" >&2; exit 1; }
  rm -f "$log"
fi
if [ "${1:-}" != "--check" ]; then
  exec node_modules/.bin/buf generate
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node_modules/.bin/buf generate --output "$tmp"
if ! diff -r "$tmp/gen" gen >/dev/null; then
  echo "clients/ts/gen is out of date; run: scripts/gen_ts_client.sh" >&2
  diff -rq "$tmp/gen" gen | sed 's/^/  /' >&2 || true
  exit 1
fi
