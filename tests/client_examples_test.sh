#!/usr/bin/env bash
# End-to-end test of the client examples (client_examples/): builds the
# Python, Node, Go, Java and C++ clients and the buf curl script, runs each
# against a private Dovecot and the server, and checks their output (see
# client_examples/run-all).
#
#   tests/client_examples_test.sh [SERVER_BINARY] [LANG...]
#
# SERVER_BINARY defaults to $IMAPC_SERVER, else build/imap-connector.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [ $# -gt 0 ] && [ -f "$1" ]; then
  export IMAPC_SERVER=$1
  shift
fi
exec "$ROOT/client_examples/run-all" "$@"
