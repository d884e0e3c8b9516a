#!/usr/bin/env bash
# shellcheck disable=SC2016  # the single-quoted node -e scripts are JavaScript
# Calls imap-connector with `buf curl`, knowing nothing but its address: the
# schema comes from the server's reflection service. Lists the services,
# stores a connection with Configure, runs TestConnection on it and sends a
# query that does not parse. Prints the lines of client_examples/README.md,
# and the JSON answers as buf prints them.
#
#   connector_curl.sh --server=127.0.0.1:50051 --imap-url=imaps://localhost:993 \
#       --user=alice --password-file=pw.txt --ca-file=cert.pem
#
# Options may come from CONNECTOR_ADDR, IMAP_URL, IMAP_USER,
# IMAP_PASSWORD_FILE and IMAP_CA_FILE instead. buf caches what it downloads
# in BUF_CACHE_DIR (a temporary directory unless set).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BUF=$HERE/node_modules/.bin/buf
[ -x "$BUF" ] || { echo "run $HERE/build.sh first" >&2; exit 2; }

server=${CONNECTOR_ADDR:-} imap_url=${IMAP_URL:-} user=${IMAP_USER:-}
password_file=${IMAP_PASSWORD_FILE:-} ca_file=${IMAP_CA_FILE:-} name=demo
for arg; do
  case $arg in
    --server=*) server=${arg#*=} ;;
    --imap-url=*) imap_url=${arg#*=} ;;
    --user=*) user=${arg#*=} ;;
    --password-file=*) password_file=${arg#*=} ;;
    --ca-file=*) ca_file=${arg#*=} ;;
    --name=*) name=${arg#*=} ;;
    --stop-after=* | --batch=*) ;; # the other examples' options; nothing is streamed here
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
for v in server imap_url user password_file; do
  [ -n "${!v}" ] || { echo "--${v//_/-} (or its environment variable) is required" >&2; exit 2; }
done

if [ -z "${BUF_CACHE_DIR:-}" ]; then
  BUF_CACHE_DIR=$(mktemp -d)
  trap 'rm -rf "$BUF_CACHE_DIR"' EXIT
fi
export BUF_CACHE_DIR

# The connector speaks gRPC over cleartext HTTP/2.
call() { "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 60s "$@"; }
base=http://$server

"$BUF" --version | sed 's/^/STEP buf version=/'
call --list-services "$base" | sed 's/^/SERVICE /'

# Requests are JSON; node builds them so the certificate's newlines are escaped.
configure=$(NAME=$name URL=$imap_url USER_NAME=$user PW_FILE=$password_file CA=$ca_file node -e '
  const fs = require("fs"), e = process.env;
  console.log(JSON.stringify({ connection: {
    name: e.NAME, serverUrl: e.URL, username: e.USER_NAME,
    password: fs.readFileSync(e.PW_FILE, "utf8").replace(/\r?\n$/, ""),
    tls: { caBundlePem: e.CA ? fs.readFileSync(e.CA, "utf8") : "" },
    defaultFolder: "INBOX", query: "SELECT uid, subject, from, date" } }));')
call -d @- "$base/connector.v1.Connector/Configure" <<<"$configure" >/dev/null
echo "STEP configure ok"

# Prints the answer and, from it, the STAGE and STEP lines.
reply=$(call -d "{\"name\": \"$name\"}" "$base/connector.v1.Connector/TestConnection")
echo "$reply"
node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const s of r.stages) console.log("STAGE", s.name, s.result, `${(s.durationMs ?? 0).toFixed(1)}ms`);
  if (r.ok) console.log(`STEP test_connection ok folder=${r.folder} messages=${r.messageCount ?? 0}`);
  else console.log("FAILURE test_connection", r.category, r.message);' <<<"$reply"

# An error comes back as JSON on stdout with a non-zero exit. The BadRequest
# detail stays base64: reflection describes only the services' own messages.
status=0
reply=$(call -d "{\"connection\": {\"name\": \"$name\"}, \"query\": \"SELECT subjcet\"}" \
  "$base/connector.v1.Connector/TestQuery" 2>&1) || status=$?
echo "$reply"
if [ "$status" -eq 0 ]; then
  echo "STEP bad_query ok"
else
  node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log("ERROR bad_query", r.code.toUpperCase(), r.message);' <<<"$reply"
fi
echo "DONE records=0"
