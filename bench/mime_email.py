#!/usr/bin/env python3
"""Python's email package on messages in memory: the anchor of bench_mime.

    mime_email.py [--reps=3] PATH...

Reads the same files as bench_mime (every regular file under each PATH, in
name order, line ends made CRLF as IMAP sends them) into memory, then times
record_of() from imaplib_email.py over all of them (email, policy default:
subject, from, date, the text body and each attachment's name and SHA-256).
Prints one JSON line: messages, bytes, the median seconds over --reps
repetitions, MB/s and msgs/s, and totals.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaplib_email import Tally  # noqa: E402  (the same fields as the imaplib row)


def files_under(path):
    if os.path.isfile(path):
        return [path]
    out = []
    for root, _dirs, files in os.walk(path):
        out += [os.path.join(root, f) for f in files if os.path.isfile(os.path.join(root, f))]
    return sorted(out)


def with_crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    if args.reps < 1:
        raise SystemExit("mime_email.py: --reps must be at least 1")
    messages = []
    for p in args.paths:
        for f in files_under(p):
            with open(f, "rb") as fh:
                messages.append(with_crlf(fh.read()))
    if not messages:
        raise SystemExit("mime_email.py: no files under the paths given")
    total = sum(len(m) for m in messages)
    times = []
    for _ in range(args.reps):
        tally = Tally()
        t0 = time.perf_counter()
        for raw in messages:
            tally.add(raw)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "tool": "mime_email", "messages": len(messages), "bytes": total, "reps": args.reps,
        "median_s": round(med, 4), "min_s": round(min(times), 4),
        "mb_per_s": round(total / med / 1e6, 2), "msgs_per_s": round(len(messages) / med, 1),
        "attachments": tally.attachments, "text_chars": tally.text_chars,
        "parse_failures": tally.failures}))


if __name__ == "__main__":
    main()
