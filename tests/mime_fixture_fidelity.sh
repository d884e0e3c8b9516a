#!/usr/bin/env bash
# The MIME engine on the corpus fixtures in tests/data/mime: every field
# agrees with the reference parse (expected.jsonl) except the differences
# explained in tools/mime_known_differences.tsv, and reading the messages
# one byte at a time gives exactly what reading them in 4 KB chunks gives.
#   tests/mime_fixture_fidelity.sh MIME_FIDELITY_BINARY SOURCE_DIR
set -euo pipefail
TOOL=$1
ROOT=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$TOOL" "$ROOT/tests/data/mime" 4096 > "$WORK/chunked.jsonl"
"$TOOL" "$ROOT/tests/data/mime" 1 > "$WORK/bytewise.jsonl"
cmp "$WORK/chunked.jsonl" "$WORK/bytewise.jsonl"
/usr/bin/python3 "$ROOT/tools/mime_compare.py" "$ROOT/tests/data/mime/expected.jsonl" \
  "$WORK/chunked.jsonl" --known "$ROOT/tools/mime_known_differences.tsv" --fail-on-unknown
