#!/usr/bin/env python3
"""The do-it-yourself anchor: what a user would script with Python's standard library.

    imaplib_email.py --port=14993 --user=alice --password_file=pw --ca_file=cert.pem
                     [--host=localhost] [--folder=INBOX] [--batch=100]

Logs in over implicit TLS (certificate checked against --host), opens the
folder read-only, lists its UIDs with UID SEARCH ALL and fetches them in
batches with UID FETCH (BODY.PEEK[]). Every message is parsed with the email
package (policy.default) into what a record holds: subject, from, date, the
text body (plain, else HTML) and each attachment's file name and SHA-256.
Prints one JSON line of totals.
"""
import argparse
import email
import email.policy
import hashlib
import imaplib
import json
import ssl
import time


def record_of(raw):
    """The fields a user would pull out of one message."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    date = msg["date"]
    body = msg.get_body(preferencelist=("plain", "html"))
    attachments = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append((part.get_filename() or "", hashlib.sha256(payload).hexdigest()))
    return {
        "subject": str(msg["subject"] or ""),
        "from": str(msg["from"] or ""),
        "date": date.datetime.isoformat() if date is not None and date.datetime else "",
        "text": body.get_content() if body is not None else "",
        "attachments": attachments,
    }


class Tally:
    """What record_of() found over many messages; a message it cannot
    parse is counted, as a script would log it and go on."""

    def __init__(self):
        self.text_chars = self.attachments = self.failures = 0

    def add(self, raw):
        try:
            record = record_of(raw)
        except Exception:
            self.failures += 1
            return
        self.text_chars += len(record["text"])
        self.attachments += len(record["attachments"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password_file", required=True)
    ap.add_argument("--ca_file", required=True)
    ap.add_argument("--folder", default="INBOX")
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()
    with open(args.password_file) as f:
        password = f.read().rstrip("\r\n")

    start = time.perf_counter()
    context = ssl.create_default_context(cafile=args.ca_file)
    imap = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=context)
    imap.login(args.user, password)
    folder = '"%s"' % args.folder.replace("\\", "\\\\").replace('"', '\\"')
    status, _ = imap.select(folder, readonly=True)
    if status != "OK":
        raise SystemExit("cannot open folder %s" % args.folder)
    status, data = imap.uid("SEARCH", "ALL")
    uids = data[0].split()

    messages = message_bytes = 0
    tally = Tally()
    for i in range(0, len(uids), args.batch):
        uid_set = b",".join(uids[i:i + args.batch]).decode()
        status, data = imap.uid("FETCH", uid_set, "(BODY.PEEK[])")
        if status != "OK":
            raise SystemExit("UID FETCH failed: %r" % data)
        for item in data:
            if not isinstance(item, tuple):
                continue  # the ")" closing each FETCH response
            raw = item[1]
            messages += 1
            message_bytes += len(raw)
            tally.add(raw)
    imap.close()
    imap.logout()
    print(json.dumps({
        "tool": "imaplib_email", "messages": messages, "message_bytes": message_bytes,
        "text_chars": tally.text_chars, "attachments": tally.attachments,
        "parse_failures": tally.failures,
        "seconds": round(time.perf_counter() - start, 4)}))


if __name__ == "__main__":
    main()
