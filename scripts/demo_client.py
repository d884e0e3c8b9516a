#!/usr/bin/python3
"""The demo's client: configures a connection on a running imap-connector,
tests it, previews a query and streams the mailbox as records, printing what
each step did.

  demo_client.py --server 127.0.0.1:50051 --imap-url imaps://localhost:993 \
      --username alice --password-file pw.txt [--ca-file cert.pem]

Needs the Python stubs that the build generates (build/python).
"""
import argparse
import os
import sys

import grpc

from connector.v1 import connector_pb2 as pb
from connector.v1 import connector_pb2_grpc as pb_grpc
from google.rpc import error_details_pb2, status_pb2


def field_violations(err: grpc.RpcError):
    """The google.rpc.BadRequest field violations of a gRPC error, if any."""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    yield from bad.field_violations


def print_test(result: pb.TestConnectionResponse):
    for stage in result.stages:
        mark = pb.Stage.Result.Name(stage.result)
        print(f"    {stage.name:<11} {mark:<7} {stage.duration_ms:8.1f} ms  {stage.detail}")
    if result.ok:
        print(f"  OK: folder {result.folder!r} has {result.message_count} messages "
              f"(UIDVALIDITY {result.uid_validity})")
        print(f"  capabilities: {' '.join(result.capabilities)}")
    else:
        print(f"  FAILED [{pb.FailureCategory.Name(result.category)}]: {result.message}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="imap-connector address host:port")
    ap.add_argument("--imap-url", required=True)
    ap.add_argument("--username", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--ca-file", help="PEM file of a CA to trust besides the system's")
    ap.add_argument("--name", default="demo-mailbox")
    args = ap.parse_args()

    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().rstrip("\n")
    ca_pem = ""
    if args.ca_file:
        with open(args.ca_file, encoding="utf-8") as f:
            ca_pem = f.read()

    channel = grpc.insecure_channel(args.server)
    grpc.channel_ready_future(channel).result(timeout=30)
    stub = pb_grpc.ConnectorStub(channel)

    print(f"1. Configure connection {args.name!r} -> {args.imap_url}")
    conn = pb.Connection(name=args.name, username=args.username, password=password,
                         server_url=args.imap_url, timeout_ms=10000,
                         datetime_format="%Y-%m-%d %H:%M:%S",
                         tls=pb.TlsSettings(ca_bundle_pem=ca_pem))
    configured = stub.Configure(pb.ConfigureRequest(connection=conn), timeout=30)
    c = configured.connection
    print(f"  stored: host={c.effective_host} port={c.effective_port} "
          f"security={pb.Security.Name(c.effective_security)} folder={c.default_folder} "
          f"has_password={c.has_password} (the password itself is never returned)")
    for note in configured.notes:
        print(f"  note: {note}")

    print("2. ListConnections")
    for listed in stub.ListConnections(pb.ListConnectionsRequest(), timeout=30).connections:
        print(f"  - {listed.name} ({listed.username} at {listed.effective_host}:{listed.effective_port})")

    print(f"3. TestConnection {args.name!r}")
    result = stub.TestConnection(pb.TestConnectionRequest(name=args.name), timeout=60)
    print_test(result)
    ok = result.ok

    print("4. TestConnection with a wrong password (inline, not stored)")
    wrong = pb.Connection()
    wrong.CopyFrom(conn)
    wrong.password = "certainly-wrong"
    print_test(stub.TestConnection(pb.TestConnectionRequest(connection=wrong), timeout=60))

    print("5. Configure with mistakes: every bad field is named")
    bad = pb.Connection(name="broken", username="x", password="y",
                        server_url="http://mail.example.com", port=70000, timeout_ms=5)
    try:
        stub.Configure(pb.ConfigureRequest(connection=bad), timeout=30)
        print("  unexpectedly accepted")
        ok = False
    except grpc.RpcError as err:
        print(f"  {err.code().name}")
        for v in field_violations(err):
            print(f"    {v.field}: {v.description}")
    query = "SELECT uid, date, from, subject, attachments FROM 'INBOX'"
    print(f"6. TestQuery: {query}")
    preview = stub.TestQuery(pb.TestQueryRequest(connection=pb.ConnectionRef(name=args.name),
                                                 query=query, sample_size=2), timeout=60)
    print("  schema: " + ", ".join(f"{c.name}:{pb.ColumnType.Name(c.type)[12:].lower()}"
                                   for c in preview.schema))
    for command in preview.imap_commands:
        print(f"  plan: {command}")
    for folder in preview.folders:
        print(f"  {folder.folder}: {folder.messages} messages, SEARCH matched {folder.matched_by_search}")

    print("7. StreamRecords: every message of the default folder as a record")
    cursor = ""
    count = 0
    for batch in stub.StreamRecords(pb.StreamRecordsRequest(
            connection=pb.ConnectionRef(name=args.name), query=query, max_batch_records=2), timeout=120):
        for record in batch.records:
            fields = record.fields
            sender = ", ".join(a.address for a in fields["from"].address_list.addresses)
            files = ", ".join(f"{a.filename} ({a.size} B)"
                              for a in fields["attachments"].attachment_list.attachments)
            print(f"  uid {record.uid:>3}  {fields['date'].timestamp_value.text:<19}  "
                  f"{sender:<28} {fields['subject'].string_value}" + (f"  [{files}]" if files else ""))
            cursor = record.cursor
            count += 1
        if batch.folder_done:
            print(f"  folder {batch.folder_done!r} read to its end")
    print(f"  {count} records; last cursor {cursor[:24]}...")

    print("8. Acknowledge that cursor, then stream what is new since: nothing yet")
    acked = stub.Acknowledge(pb.AcknowledgeRequest(connection=pb.ConnectionRef(name=args.name),
                                                   cursor=cursor), timeout=60)
    print(f"  acknowledged ({acked.messages_changed} messages changed: no post-actions configured)")
    new = sum(len(b.records) for b in stub.StreamRecords(pb.StreamRecordsRequest(
        connection=pb.ConnectionRef(name=args.name), since_last_ack=True), timeout=60))
    print(f"  {new} new records")
    ok = ok and count > 0 and new == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
