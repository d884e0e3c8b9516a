#!/usr/bin/python3
"""Walks through the connector.v1.Connector API against a running imap-connector.

Checks the server's health and lists its services by reflection, stores a
connection, tests it, previews a query, streams the records in two parts
(stopping after a few and resuming from the last record's cursor),
acknowledges them, and then shows how the API reports a wrong password and a
query that does not parse. Prints one line per step in the format of
client_examples/README.md.

  connector_client.py --server=127.0.0.1:50051 --imap-url=imaps://localhost:993 \\
      --user=alice --password-file=pw.txt --ca-file=cert.pem

Every option can also come from the environment (CONNECTOR_ADDR, IMAP_URL,
IMAP_USER, IMAP_PASSWORD_FILE, IMAP_CA_FILE). The stubs come from build.sh;
put its output directory on PYTHONPATH.
"""
import argparse
import json
import os
import sys

import grpc

from connector.v1 import connector_pb2 as pb
from connector.v1 import connector_pb2_grpc as pb_grpc
from google.rpc import error_details_pb2, status_pb2
import health_pb2
import health_pb2_grpc
import reflection_pb2
import reflection_pb2_grpc

QUERY = "SELECT uid, subject, from, date"
BAD_QUERY = "SELECT subjcet"
TIMEOUT_S = 60


def out(*words):
    """Prints one output line; control characters in values become spaces."""
    line = " ".join(str(w) for w in words)
    print("".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in line), flush=True)


def field_violations(err):
    """Yields the google.rpc.BadRequest field violations carried by a gRPC error."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    yield from bad.field_violations


def print_error(step, err):
    out("ERROR", step, err.code().name, err.details())
    for v in field_violations(err):
        out("FIELD", v.field, v.description)


def subject_of(record):
    value = record.fields.get("subject")
    return value.string_value if value is not None else ""


def check_health_and_services(channel):
    health = health_pb2_grpc.HealthStub(channel)
    # The empty service name asks about the server as a whole.
    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_S)
    out("STEP health", health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    # Reflection is a bidirectional stream: one request, one answer, then close.
    requests = iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    for answer in reflection.ServerReflectionInfo(requests, timeout=TIMEOUT_S):
        for service in answer.list_services_response.service:
            out("SERVICE", service.name)


def stream(stub, request, stop_after=None):
    """Streams records, printing each. Stops (cancelling the call) after
    stop_after records if given. Returns (record count, cursor of the last
    record printed)."""
    call = stub.StreamRecords(request, timeout=TIMEOUT_S)
    count, cursor = 0, ""
    try:
        for batch in call:
            for record in batch.records:
                out("RECORD", record.uid, subject_of(record))
                count, cursor = count + 1, record.cursor
                if stop_after is not None and count == stop_after:
                    # Cancelling tells the server to stop reading IMAP. The
                    # rest of this batch is dropped: the cursor of the last
                    # record we kept is where we resume.
                    call.cancel()
                    return count, cursor
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.CANCELLED or stop_after is None:
            raise
    return count, cursor


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", default=env("CONNECTOR_ADDR"), help="imap-connector host:port")
    ap.add_argument("--imap-url", default=env("IMAP_URL"), help="e.g. imaps://localhost:993")
    ap.add_argument("--user", default=env("IMAP_USER"))
    ap.add_argument("--password-file", default=env("IMAP_PASSWORD_FILE"))
    ap.add_argument("--ca-file", default=env("IMAP_CA_FILE"), help="PEM CA to trust")
    ap.add_argument("--name", default="demo", help="name of the stored connection")
    ap.add_argument("--stop-after", type=int, default=2, help="records before the resume")
    ap.add_argument("--batch", type=int, default=3, help="max_batch_records")
    ap.add_argument("--full", action="store_true",
                    help="only stream every record in one call (a reference for the others)")
    args = ap.parse_args()
    for name in ("server", "imap_url", "user", "password_file"):
        if not getattr(args, name):
            ap.error(f"--{name.replace('_', '-')} (or its environment variable) is required")

    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\r\n")
    ca_pem = ""
    if args.ca_file:
        with open(args.ca_file, encoding="utf-8") as f:
            ca_pem = f.read()

    channel = grpc.insecure_channel(args.server)
    stub = pb_grpc.ConnectorStub(channel)
    conn = pb.Connection(name=args.name, server_url=args.imap_url, username=args.user,
                         password=password, tls=pb.TlsSettings(ca_bundle_pem=ca_pem),
                         default_folder="INBOX", query=QUERY)
    stored = pb.ConnectionRef(name=args.name)
    step = "configure"
    try:
        if args.full:
            stub.Configure(pb.ConfigureRequest(connection=conn), timeout=TIMEOUT_S)
            step = "stream"
            count, _ = stream(stub, pb.StreamRecordsRequest(connection=stored))
            out("DONE", f"records={count}")
            return 0

        step = "health"
        check_health_and_services(channel)

        # The form an admin fills in, as JSON Schema (what a UI would draw).
        step = "spec"
        spec = stub.GetSpec(pb.GetSpecRequest(), timeout=TIMEOUT_S)
        form = json.loads(spec.connection_schema)["properties"]
        out("STEP spec ok", f"fields={len(form)}", f"server_url_label={form['serverUrl']['title']!r}",
            f"columns={len(spec.columns)}", f"query_language={spec.query_language_version}")

        step = "configure"
        reply = stub.Configure(pb.ConfigureRequest(connection=conn), timeout=TIMEOUT_S)
        c = reply.connection
        out("STEP configure ok", f"replaced={str(reply.replaced).lower()}",
            f"host={c.effective_host}", f"port={c.effective_port}")

        step = "test_connection"
        result = stub.TestConnection(pb.TestConnectionRequest(name=args.name), timeout=TIMEOUT_S)
        for s in result.stages:
            out("STAGE", s.name, pb.Stage.Result.Name(s.result), f"{s.duration_ms:.1f}ms", s.detail)
        if not result.ok:
            out("FAILURE", step, pb.FailureCategory.Name(result.category), result.message)
            return 1
        out("STEP test_connection ok", f"folder={result.folder}",
            f"messages={result.message_count}")

        step = "test_query"
        plan = stub.TestQuery(pb.TestQueryRequest(connection=stored), timeout=TIMEOUT_S)
        for command in plan.imap_commands:
            out("PLAN command", command)
        out("PLAN filter", plan.client_filter or "-")
        for f in plan.folders:
            out("PLAN folder", f.folder, f"messages={f.messages}",
                f"matched={f.matched_by_search}", f"exact={str(f.search_is_exact).lower()}")
        out("STEP test_query ok", f"columns={len(plan.schema)}", f"samples={len(plan.samples)}")

        step = "stream"
        first, cursor = stream(stub, pb.StreamRecordsRequest(
            connection=stored, max_batch_records=args.batch), stop_after=args.stop_after)
        out("CURSOR", cursor)
        out("STEP stream stopped", f"records={first}")

        step = "resume"
        rest, last = stream(stub, pb.StreamRecordsRequest(
            connection=stored, max_batch_records=args.batch, resume_after=cursor))
        out("STEP resume ok", f"records={rest}")

        step = "acknowledge"
        ack = stub.Acknowledge(pb.AcknowledgeRequest(connection=stored, cursor=last or cursor),
                               timeout=TIMEOUT_S)
        out("STEP acknowledge ok", f"cursor={ack.cursor}", f"changed={ack.messages_changed}")
    except grpc.RpcError as err:
        print_error(step, err)
        return 1

    # What failures look like. A wrong password is not an RPC error for
    # TestConnection: the answer says which stage failed and why.
    wrong = pb.Connection()
    wrong.CopyFrom(conn)
    wrong.name = args.name + "-wrong"
    wrong.password = "not-" + password
    try:
        result = stub.TestConnection(pb.TestConnectionRequest(connection=wrong), timeout=TIMEOUT_S)
        if result.ok:
            out("STEP wrong_password ok")
        else:
            out("FAILURE wrong_password", pb.FailureCategory.Name(result.category), result.message)
    except grpc.RpcError as err:
        print_error("wrong_password", err)

    # Reading records with it is an RPC error: UNAUTHENTICATED.
    try:
        count, _ = stream(stub, pb.StreamRecordsRequest(connection=pb.ConnectionRef(connection=wrong)))
        out("STEP wrong_password_stream ok", f"records={count}")
    except grpc.RpcError as err:
        print_error("wrong_password_stream", err)

    # A query that does not parse: INVALID_ARGUMENT, and a BadRequest
    # naming the field "query" with the position and what was expected.
    try:
        stub.TestQuery(pb.TestQueryRequest(connection=stored, query=BAD_QUERY), timeout=TIMEOUT_S)
        out("STEP bad_query ok")
    except grpc.RpcError as err:
        print_error("bad_query", err)

    out("DONE", f"records={first + rest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
