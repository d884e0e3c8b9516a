#!/usr/bin/env bash
# Builds the Go example into OUT (default: ./out): generates the connector
# stubs with protoc-gen-go and protoc-gen-go-grpc into OUT/gopath, then runs
# go build offline against Debian's Go packages (GOPATH mode, no module proxy).
# The binary is OUT/connector-client.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROTO=$(cd "$HERE/../../proto" && pwd -P)
OUT=${1:-$HERE/out}
mkdir -p "$OUT/gopath/src"
OUT=$(cd "$OUT" && pwd -P)

# go_package in connector.proto is "imapconnector/connector/v1", so the
# stubs land in OUT/gopath/src/imapconnector/connector/v1.
protoc -I "$PROTO" --go_out="$OUT/gopath/src" --go-grpc_out="$OUT/gopath/src" \
  connector/v1/connector.proto

export GO111MODULE=off GOPROXY=off GOFLAGS=
export GOPATH="$OUT/gopath:/usr/share/gocode"
export GOCACHE="$OUT/gocache"
go build -o "$OUT/connector-client" "$HERE/main.go"
