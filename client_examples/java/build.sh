#!/usr/bin/env bash
# Builds the Java example into OUT (default: ./out): protoc --java_out and
# --grpc-java_out (Debian's protobuf-compiler-grpc-java-plugin) generate the
# stubs into OUT/gen, javac compiles them with the example against Debian's
# jars in /usr/share/java, and OUT/connector-client runs it. Nothing is
# recompiled when no source changed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROTO=$(cd "$HERE/../../proto" && pwd -P)
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)

# grpc-java 1.41 over Netty, protobuf-java, and what they need at run time.
JARS=(grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub
  protobuf guava perfmark-api gson geronimo-annotation-1.3-spec
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common
  netty-handler netty-handler-proxy netty-resolver netty-transport)
CP=""
for jar in "${JARS[@]}"; do
  path=/usr/share/java/$jar.jar
  [ -f "$path" ] || { echo "java/build.sh: missing $path" >&2; exit 1; }
  CP+="${CP:+:}$path"
done

STAMP=$OUT/classes/.built
if [ -f "$STAMP" ] && [ -z "$(find "$HERE/src" "$PROTO" "$HERE/build.sh" -newer "$STAMP" -type f)" ]; then
  exit 0
fi
rm -rf "$OUT/gen" "$OUT/classes"
mkdir -p "$OUT/gen" "$OUT/classes"
protoc -I "$PROTO" --java_out="$OUT/gen" --grpc-java_out="$OUT/gen" \
  --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin \
  connector/v1/connector.proto google/rpc/status.proto google/rpc/error_details.proto
# One javac, few threads' worth of heap: the machine has two cores.
find "$OUT/gen" "$HERE/src" -name '*.java' > "$OUT/sources.txt"
javac -J-XX:+UseSerialGC -encoding UTF-8 -nowarn -d "$OUT/classes" -cp "$CP" @"$OUT/sources.txt"
cat > "$OUT/connector-client" <<SH
#!/bin/sh
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$OUT/classes:$CP" dev.imapconnector.example.ConnectorClient "\$@"
SH
chmod +x "$OUT/connector-client"
touch "$STAMP"
