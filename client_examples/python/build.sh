#!/usr/bin/env bash
# Generates the stubs the Python example imports into OUT (default: ./out),
# and writes OUT/connector-client, which runs the example with them.
#   from the repo's proto/:  connector/v1/connector_pb2{,_grpc}.py, google/rpc/*_pb2.py
#   from Debian's grpc-proto: health_pb2{,_grpc}.py, reflection_pb2{,_grpc}.py
# Health and reflection become top-level modules: a grpc/health/v1/ package
# path would be shadowed by the installed grpc package.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROTO=$(cd "$HERE/../../proto" && pwd -P)
GRPC_PROTO=/usr/share/grpc-proto/grpc
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

gen() {
  protoc --python_out="$OUT" --grpc_python_out="$OUT" \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "$@"
}
gen -I "$PROTO" connector/v1/connector.proto google/rpc/status.proto google/rpc/error_details.proto
gen -I "$GRPC_PROTO/health/v1" health.proto
gen -I "$GRPC_PROTO/reflection/v1alpha" reflection.proto

# Debian's python3-grpcio: /usr/bin/python3, whatever python3 is first on PATH.
cat > "$OUT/connector-client" <<SH
#!/bin/sh
PYTHONPATH="$OUT\${PYTHONPATH:+:\$PYTHONPATH}" exec /usr/bin/python3 "$HERE/connector_client.py" "\$@"
SH
chmod +x "$OUT/connector-client"
