#!/usr/bin/env bash
# End-to-end test of tools/imapc, the command line for people.
#
#   tools/imapc_test.sh [SERVER_BINARY]
#
# SERVER_BINARY defaults to $IMAPC_SERVER, else build/imap-connector; the
# Python stubs come from $IMAPC_PYTHONPATH, else build/python. Starts a
# private Dovecot (scripts/dovecot-sandbox, free loopback ports, the sample
# mailbox tests/data/mailbox) and runs imapc against it:
#   - with --connection-file (imapc starts and stops its own server):
#     test-connection, explain, discover (table and JSON), spec, query as JSON
#     lines and CSV, a query that does not parse, a wrong password, resume
#     after the 2nd record's cursor, usage errors, missing stubs, and
#     Ctrl-C during a call to an IMAP server that never answers (exit 130,
#     private server gone);
#   - with --server --connection against a server this test starts with a
#     bearer token, after storing the connection with Configure.
# Prints "PASS|FAIL name (seconds)" per check and exits non-zero if any
# failed. Everything it started is stopped by PID on exit.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
IMAPC=$ROOT/tools/imapc
PY=/usr/bin/python3
export IMAPC_SERVER=${1:-${IMAPC_SERVER:-$ROOT/build/imap-connector}}
STUBS=${IMAPC_PYTHONPATH:-$ROOT/build/python}

die() { echo "imapc_test: $*" >&2; exit 2; }
[ -x "$IMAPC_SERVER" ] || die "no server binary at $IMAPC_SERVER (build it, or set IMAPC_SERVER)"
[ -f "$STUBS/connector/v1/connector_pb2.py" ] || die "no Python stubs in $STUBS (build the project)"

WORK=$(mktemp -d /tmp/imapc-test-XXXXXX)
chmod 0755 "$WORK"
mkdir "$WORK/tmp"
SERVER_PID=""
STALL_PID=""
OAUTH_PID=""
DOVECOT_UP=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local pid
  for pid in $SERVER_PID $STALL_PID $OAUTH_PID; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  [ -n "$DOVECOT_UP" ] && "$ROOT/scripts/dovecot-sandbox" down "$WORK/dovecot"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2fs", b - a }'; }
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# imapc writes its private server's data directory under $TMPDIR: this
# test's own, so that leftovers can be found.
export TMPDIR=$WORK/tmp

PASSED=0
FAILED=0
CHECK=""
T_CHECK=""
PROBLEMS=()
begin() { CHECK=$1; T_CHECK=$(now); PROBLEMS=(); }
problem() { PROBLEMS+=("$*"); }
end() {
  if [ ${#PROBLEMS[@]} -eq 0 ]; then
    echo "PASS $CHECK ($(since "$T_CHECK"))"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $CHECK ($(since "$T_CHECK"))"
    printf '  %s\n' "${PROBLEMS[@]}"
    for f in "$WORK/out" "$WORK/err"; do
      [ -s "$f" ] && { echo "  --- ${f##*/}:"; head -n 20 "$f" | sed 's/^/  | /'; }
    done
    FAILED=$((FAILED + 1))
  fi
}
# run ARGS...: runs imapc with stdout to $WORK/out, stderr to $WORK/err; sets RC.
run() { "$IMAPC" "$@" >"$WORK/out" 2>"$WORK/err"; RC=$?; }
expect_rc() { [ "$RC" -eq "$1" ] || problem "exit status $RC, expected $1"; }
# has FILE REGEX: a line of FILE matches the extended REGEX.
has() { grep -Eq -- "$2" "$1" || problem "no line matching /$2/ in ${1##*/}"; }
# No process runs with a command line naming this test's TMPDIR (that
# would be a private server left behind), and no data directory is left.
no_leftovers() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -q -- "--data_dir=$WORK/tmp/"; then
      problem "a private server still runs: $(tr '\0' ' ' <"$f")"
    fi
  done
  local left
  left=$(find "$WORK/tmp" -mindepth 1 -maxdepth 1 -printf "%f ")
  [ -z "$left" ] || problem "left in TMPDIR: $left"
}

# --- Dovecot --------------------------------------------------------------
t0=$(now)
DOVECOT_UP=1
IMAP_PORT=$(free_port)
IMAPS_PORT=$(free_port)
while [ "$IMAPS_PORT" = "$IMAP_PORT" ]; do IMAPS_PORT=$(free_port); done
"$ROOT/scripts/dovecot-sandbox" up "$WORK/dovecot" "$IMAP_PORT" "$IMAPS_PORT" \
  "$ROOT/tests/data/mailbox" >"$WORK/dovecot-up.log" 2>&1 \
  || { cat "$WORK/dovecot-up.log" >&2; die "the Dovecot sandbox did not start"; }
# shellcheck disable=SC1091
. "$WORK/dovecot/env"
echo "imapc_test: Dovecot on 127.0.0.1:$IMAPS_PORT ($(since "$t0"))"

printf 'alice-password\n' >"$WORK/password"
printf 'not-the-password\n' >"$WORK/wrong-password"
chmod 0600 "$WORK/password" "$WORK/wrong-password"
cat >"$WORK/alice.json" <<JSON
{"name": "alice", "serverUrl": "imaps://localhost:$IMAPS_PORT", "username": "alice",
 "passwordFile": "password", "caFile": "$CA_FILE", "timeoutMs": 10000}
JSON
cat >"$WORK/wrong.json" <<JSON
{"name": "alice", "serverUrl": "imaps://localhost:$IMAPS_PORT", "username": "alice",
 "passwordFile": "wrong-password", "caFile": "$CA_FILE", "timeoutMs": 10000}
JSON
CONN=(--connection-file "$WORK/alice.json")
INBOX_QUERY="SELECT uid, subject, from, date, attachments FROM 'INBOX'"

# check_inbox_json FILE [FIRST_UID]: FILE holds one JSON record per line, the
# INBOX messages from FIRST_UID (default 1) to 4, each with a subject and a
# cursor.
check_inbox_json() {
  local msg
  msg=$("$PY" - "$1" "${2:-1}" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
first = int(sys.argv[2])
try:
    records = [json.loads(line) for line in lines]
except ValueError as err:
    sys.exit(f"not JSON lines: {err}")
uids = [r.get("uid") for r in records]
if uids != list(range(first, 5)):
    sys.exit(f"uids {uids}, expected {list(range(first, 5))}")
for r in records:
    if not isinstance(r.get("subject"), str) or not r["subject"]:
        sys.exit(f"uid {r['uid']}: empty subject")
    if not r.get("_cursor"):
        sys.exit(f"uid {r['uid']}: no _cursor")
    if not r.get("from") or "@" not in r["from"][0].get("address", ""):
        sys.exit(f"uid {r['uid']}: from is {r.get('from')!r}")
PY
) || problem "$msg"
}

# --- with --connection-file: imapc runs its own server -------------------
begin "test-connection"
run test-connection "${CONN[@]}"
expect_rc 0
has "$WORK/out" '^login +OK +[0-9.]+ ms +logged in as alice'
has "$WORK/out" "^ok: localhost:$IMAPS_PORT \\(IMPLICIT_TLS\\), folder 'INBOX': 4 messages"
no_leftovers
end

begin "explain"
run explain "SELECT uid, subject FROM 'INBOX' WHERE subject CONTAINS 'welcome'" "${CONN[@]}" --samples 2
expect_rc 0
has "$WORK/out" '^  UID SEARCH SUBJECT "welcome"$'
has "$WORK/out" '^  INBOX +4 messages +2 matched by SEARCH'
has "$WORK/out" '^  subject +string '
has "$WORK/out" '^  login +[0-9.]+ ms '
[ "$(grep -c '^{"uid": [0-9]*, "subject": ".*[Ww]elcome' "$WORK/out")" -eq 2 ] ||
  problem "not 2 sample records with 'welcome' in the subject"
end

begin "discover"
run discover "${CONN[@]}"
expect_rc 0
has "$WORK/out" '^folder +role +subscribed +messages +unseen +size +uidvalidity +uidnext$'
has "$WORK/out" '^INBOX +\\Inbox +(yes|no) +4 +[0-9]+ +[-0-9]+ +[1-9][0-9]* +[1-9][0-9]*$'
has "$WORK/out" '^Entwürfe +(yes|no) +[0-9]+ '
has "$WORK/out" '^Archive +(yes|no) +[0-9]+ '
has "$WORK/out" '^[0-9]+ folders; query language [0-9.]+; columns: uid, folder, '
has "$WORK/out" '^list: [0-9]+ folders; counts from '
run discover "${CONN[@]}" --format json
expect_rc 0
msg=$("$PY" - "$WORK/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
inbox = [f for f in r["folders"] if f["name"] == "INBOX"]
if not inbox or inbox[0].get("messages") != 4 or inbox[0].get("role") != "\\Inbox":
    sys.exit(f"INBOX is {inbox}")
if not any(c["name"] == "subject" for c in r["columns"]):
    sys.exit("no subject column")
PY
) || problem "$msg"
no_leftovers
end

begin "spec"
run spec
expect_rc 0
msg=$("$PY" - "$WORK/out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
schema = r["connectionSchema"]
if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
    sys.exit(f"$schema is {schema.get('$schema')}")
if schema["properties"]["serverUrl"]["title"] != "Server URL":
    sys.exit("serverUrl is not labelled Server URL")
if not schema["properties"]["password"].get("writeOnly"):
    sys.exit("password is not writeOnly")
if not any(c["name"] == "subject" and c["type"] == "string" for c in r["columns"]):
    sys.exit("no subject column")
if not r["queryLanguageVersion"]:
    sys.exit("no query language version")
PY
) || problem "$msg"
run spec --schema-only
expect_rc 0
"$PY" -c 'import json, sys; assert "serverUrl" in json.load(open(sys.argv[1]))["properties"]' "$WORK/out" ||
  problem "--schema-only did not print the schema"
no_leftovers
end

begin "query json"
run query "$INBOX_QUERY" "${CONN[@]}"
expect_rc 0
check_inbox_json "$WORK/out"
has "$WORK/err" '^cursor: c1\.'
cp "$WORK/out" "$WORK/all.jsonl"
no_leftovers
end

begin "query csv"
run query "$INBOX_QUERY" "${CONN[@]}" --format csv
expect_rc 0
msg=$("$PY" - "$WORK/out" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
if not rows or rows[0] != ["uid", "subject", "from", "date", "attachments"]:
    sys.exit(f"header {rows[:1]}")
if [r[0] for r in rows[1:]] != ["1", "2", "3", "4"]:
    sys.exit(f"uid column {[r[0] for r in rows[1:]]}")
if not all(r[1] and "@" in r[2] for r in rows[1:]):
    sys.exit("a row without subject or sender")
if not any(".pdf (application/pdf, " in r[4] for r in rows[1:]):
    sys.exit("no attachment rendered as 'name (type, N B)'")
PY
) || problem "$msg"
end

begin "resume after the 2nd record"
cursor=$("$PY" -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().splitlines()[1])["_cursor"])' \
  "$WORK/all.jsonl") || problem "no cursor in the 2nd record"
run query "$INBOX_QUERY" "${CONN[@]}" --resume-after "$cursor" --batch 1
expect_rc 0
check_inbox_json "$WORK/out" 3
last=$(tail -n 1 "$WORK/all.jsonl" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["_cursor"])')
has "$WORK/err" "^cursor: $last\$"
end

begin "limit-print reads on"
run query "$INBOX_QUERY" "${CONN[@]}" --limit-print 1 --batch 1 --progress --no-eta
expect_rc 0
[ "$(wc -l <"$WORK/out")" -eq 1 ] || problem "$(wc -l <"$WORK/out") lines printed, expected 1"
has "$WORK/err" '^progress: 4 msgs  [0-9.]+ MB  [0-9]+ msg/s'
has "$WORK/err" '^imapc: 4 records in '
end

begin "progress with ETA"
run query "$INBOX_QUERY" "${CONN[@]}" --progress
expect_rc 0
has "$WORK/err" '^progress: 4 msgs  0\.0 MB  [0-9]+ msg/s  [0-9]+:[0-9]{2}  of 4$'
end

begin "bad query"
run query "SELECT subjcet" "${CONN[@]}"
expect_rc 1
has "$WORK/err" 'StreamRecords failed: INVALID_ARGUMENT: .*subjcet'
has "$WORK/err" "^  query: line 1, column 8: unknown column 'subjcet'"
[ -s "$WORK/out" ] && problem "something on stdout"
end

begin "wrong password"
run test-connection --connection-file "$WORK/wrong.json"
expect_rc 1
has "$WORK/out" '^login +FAILED '
has "$WORK/out" '^FAILED AUTH_FAILED: '
run query --connection-file "$WORK/wrong.json"
expect_rc 1
has "$WORK/err" 'StreamRecords failed: UNAUTHENTICATED: '
end

begin "OAuth 2.0 token failures by category"
# The test authorization server alone: the token stage fails before any
# IMAP connection, so the IMAP side does not matter here.
"$PY" "$ROOT/scripts/oauth-introspect.py" --port-file "$WORK/oauth-port" --pid-file "$WORK/oauth-pid" \
  </dev/null >"$WORK/oauth.log" 2>&1 &
OAUTH_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/oauth-port" ] && break; sleep 0.1; done
OAUTH_PORT=$(cat "$WORK/oauth-port" 2>/dev/null)
[ -n "$OAUTH_PORT" ] || problem "the test authorization server did not start"
"$PY" - "$OAUTH_PORT" <<'PY'
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/control", data=b'{"fail": "invalid_grant"}',
    headers={"Content-Type": "application/json"}), timeout=10).read()
PY
for case in "invalid_grant:$OAUTH_PORT:OAUTH_INVALID_GRANT" "unreachable:$(free_port):OAUTH_UNREACHABLE"; do
  IFS=: read -r what port category <<<"$case"
  cat >"$WORK/oauth-$what.json" <<JSON
{"name": "alice-oauth", "serverUrl": "imaps://localhost:$IMAPS_PORT", "username": "alice",
 "caFile": "$CA_FILE", "timeoutMs": 5000, "authMechanism": "AUTH_MECHANISM_XOAUTH2",
 "oauth2": {"refreshTokenGrant": {"tokenUrl": "http://127.0.0.1:$port/token",
   "clientId": "test-client", "clientSecret": "test-secret", "refreshToken": "refresh-alice"}}}
JSON
  run test-connection --connection-file "$WORK/oauth-$what.json"
  expect_rc 1
  has "$WORK/out" '^token +FAILED '
  has "$WORK/out" "^FAILED $category: "
  grep -q "test-secret\|refresh-alice" "$WORK/out" "$WORK/err" && problem "a secret was shown"
done
has "$WORK/out" 'token endpoint could not be reached'
kill -TERM "$OAUTH_PID" 2>/dev/null; wait "$OAUTH_PID" 2>/dev/null
end

begin "usage errors"
run query
expect_rc 2
has "$WORK/err" 'no target'
run query --connection alice
expect_rc 2
has "$WORK/err" 'add --server'
run query --connection-file "$WORK/no-such.json"
expect_rc 2
has "$WORK/err" 'No such file or directory'
printf '{"name": "x", "prot": 1}' >"$WORK/typo.json"
run query --connection-file "$WORK/typo.json"
expect_rc 2
has "$WORK/err" 'prot'
run query --batch 0 "${CONN[@]}"
expect_rc 2
no_leftovers
end

begin "missing stubs"
IMAPC_PYTHONPATH=$WORK/empty run query "${CONN[@]}"
expect_rc 1
has "$WORK/err" 'generated Python stubs are missing .*IMAPC_PYTHONPATH'
end

begin "Ctrl-C stops the private server"
# An IMAP server that accepts and never says a word: TestConnection waits.
"$PY" - "$WORK/stall" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
held = []
while True:
    held.append(s.accept())
    open(sys.argv[1] + ".accepted", "w").write("yes")
PY
STALL_PID=$!
for _ in $(seq 1 600); do [ -s "$WORK/stall.port" ] && break; sleep 0.05; done
cat >"$WORK/stall.json" <<JSON
{"name": "stall", "serverUrl": "imap://127.0.0.1:$(cat "$WORK/stall.port" 2>/dev/null)",
 "security": "SECURITY_NONE", "username": "a", "passwordFile": "password"}
JSON
"$IMAPC" test-connection --connection-file "$WORK/stall.json" >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 1 600); do [ -e "$WORK/stall.accepted" ] && break; sleep 0.05; done
[ -e "$WORK/stall.accepted" ] || problem "the private server never connected to the stalling IMAP server"
kill -INT "$pid"
wait "$pid"
RC=$?
expect_rc 130
has "$WORK/err" 'interrupted \(SIGINT\)'
no_leftovers
end

# --- with --server --connection: a stored connection, a bearer token ------
begin "stored connection on a running server"
head -c 24 /dev/urandom | base64 | tr -d '\n/+=' >"$WORK/token"
"$IMAPC_SERVER" --listen=127.0.0.1:0 --data_dir="$WORK/data" --auth_token_file="$WORK/token" \
  2>"$WORK/server.log" &
SERVER_PID=$!
ADDRESS=""
for _ in $(seq 1 300); do
  ADDRESS=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$WORK/server.log" | head -n1)
  [ -n "$ADDRESS" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ADDRESS" ]; then
  problem "the server did not start: $(tail -n 5 "$WORK/server.log")"
else
  # imapc has no subcommand that stores connections: Configure by the stubs.
  PYTHONPATH=$STUBS "$PY" - "$ADDRESS" "$WORK/token" "$IMAPS_PORT" "$CA_FILE" <<'PY' ||
import sys
import grpc
from connector.v1 import connector_pb2 as pb, connector_pb2_grpc as pb_grpc
address, token_file, port, ca_file = sys.argv[1:]
token = open(token_file).read().strip()
stub = pb_grpc.ConnectorStub(grpc.insecure_channel(address))
conn = pb.Connection(name="alice-stored", username="alice", password="alice-password",
                     server_url=f"imaps://localhost:{port}", timeout_ms=10000,
                     query="SELECT uid, subject, from FROM 'INBOX'",
                     tls=pb.TlsSettings(ca_bundle_pem=open(ca_file).read()))
stub.Configure(pb.ConfigureRequest(connection=conn), timeout=30,
               metadata=[("authorization", f"Bearer {token}")])
PY
    problem "Configure failed"
  STORED=(--server "$ADDRESS" --connection alice-stored --token "$WORK/token")
  run test-connection "${STORED[@]}"
  expect_rc 0
  has "$WORK/out" '^examine +OK '
  # No QUERY: the stored connection's own.
  run query "${STORED[@]}"
  expect_rc 0
  check_inbox_json "$WORK/out"
  run discover "${STORED[@]}"
  expect_rc 0
  has "$WORK/out" '^INBOX +\\Inbox +(yes|no) +4 '
  run explain "${STORED[@]}"
  expect_rc 0
  has "$WORK/out" "^query: SELECT uid, subject, from FROM"
  has "$WORK/out" '^  UID SEARCH ALL$'
  run query --server "$ADDRESS" --connection alice-stored
  expect_rc 1
  has "$WORK/err" 'StreamRecords failed: UNAUTHENTICATED'
  run query --server "$ADDRESS" --connection nobody --token "$WORK/token"
  expect_rc 1
  has "$WORK/err" 'StreamRecords failed: NOT_FOUND'
fi
end

echo "imapc_test: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
