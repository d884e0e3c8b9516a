#!/usr/bin/env bash
# Installs the pinned buf command line (npm @bufbuild/buf, which carries the
# real binary) into ./node_modules, only when package-lock.json changed, and
# writes OUT/connector-client (OUT defaults to ./out), which runs
# connector_curl.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

if ! [ "$HERE/node_modules/.package-lock.json" -nt "$HERE/package-lock.json" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
cat > "$OUT/connector-client" <<SH
#!/bin/sh
exec "$HERE/connector_curl.sh" "\$@"
SH
chmod +x "$OUT/connector-client"
