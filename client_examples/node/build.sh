#!/usr/bin/env bash
# Installs the pinned npm packages into ./node_modules (npm ci, only when
# package-lock.json changed) and writes OUT/connector-client (OUT defaults to
# ./out), which runs the example. There is nothing to compile: proto-loader
# reads proto/ when the client starts.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

# npm ci writes node_modules/.package-lock.json: newer than the lockfile
# means the install is current.
if ! [ "$HERE/node_modules/.package-lock.json" -nt "$HERE/package-lock.json" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
cat > "$OUT/connector-client" <<SH
#!/bin/sh
exec node "$HERE/connector_client.mjs" "\$@"
SH
chmod +x "$OUT/connector-client"
