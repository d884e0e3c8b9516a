#!/usr/bin/python3
"""Compares our MIME parse of a corpus with a reference parse, field by field.

  mime_compare.py EXPECTED.jsonl OURS.jsonl [--show-diffs] [--json REPORT.json]
                  [--known KNOWN.tsv --fail-on-unknown]

Both files hold one JSON object per message with the keys of the corpus's
reference (file, subject, from, to, cc, date, message_id, text_body,
html_body, attachments[...]). Prints, per field, how many messages agree,
over all messages and over the messages whose reference has no caveat that
touches the field, and lists every difference with --show-diffs.

KNOWN.tsv lists differences already explained, one per line:
FILE<TAB>FIELD<TAB>REASON. With --fail-on-unknown the exit status is 1 when
a difference is not listed there (or a listed one no longer occurs), which
makes the comparison a regression test.
"""
import argparse
import json
import re
import sys

FIELDS = ["subject", "from", "to", "cc", "date", "message_id", "attachments", "text_body",
          "html_body"]

# Reference caveats (see the corpus README) that make a field low-confidence.
CAVEAT_FIELDS = {
    "boundary_differs_from_compat32": {"text_body", "html_body", "attachments"},
    "related_root_not_text": {"text_body", "html_body"},
    "8bit_header_not_utf8": {"subject", "from", "to", "cc"},
    "8bit_filename": {"attachments"},
    "message_partial": {"attachments", "text_body"},
    "duplicate_header:subject": {"subject"},
}


def collapse(s):
    return None if s is None else re.sub(r"\s+", " ", s).strip()


def norm_addresses(lst):
    return [((a.get("name") or "").strip(), (a.get("address") or "").strip().lower())
            for a in lst or []]


def norm_attachments(lst):
    out = []
    for a in lst or []:
        ctype = a.get("content_type", "")
        text_like = ctype.startswith(("text/", "message/"))
        # The reference hashes its own re-serialization of forwarded messages:
        # neither size nor hash can be compared for those.
        reserialized = a.get("reserialized") or ctype in ("message/rfc822", "message/global")
        digest = None if reserialized else (a.get("sha256_lf") if text_like else a.get("sha256"))
        size = None if (reserialized or text_like) else a.get("size")
        out.append((a.get("filename") or "", size, digest))
    return sorted(out, key=lambda t: (t[0], t[1] or 0, t[2] or ""))


def value(rec, field):
    v = rec.get(field)
    if field == "subject":
        return collapse(v)
    if field in ("from", "to", "cc"):
        return norm_addresses(v)
    if field in ("text_body", "html_body"):
        return collapse(v)
    if field == "attachments":
        return norm_attachments(v)
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expected")
    ap.add_argument("ours")
    ap.add_argument("--show-diffs", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--known")
    ap.add_argument("--fail-on-unknown", action="store_true")
    args = ap.parse_args()
    known = {}
    if args.known:
        with open(args.known, encoding="utf-8") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                name, field, reason = line.rstrip("\n").split("\t", 2)
                known[(name, field)] = reason
    expected = {}
    with open(args.expected, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            expected[rec["file"]] = rec
    ours = {}
    with open(args.ours, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ours[rec["file"]] = rec
    report = {}
    diffs = []
    for field in FIELDS:
        agree = total = agree_clean = total_clean = 0
        for name, exp in sorted(expected.items()):
            got = ours.get(name)
            total += 1
            touched = any(field in CAVEAT_FIELDS.get(c, set()) for c in exp.get("caveats", []))
            if not touched:
                total_clean += 1
            same = got is not None and value(exp, field) == value(got, field)
            if same:
                agree += 1
                if not touched:
                    agree_clean += 1
            else:
                diffs.append((field, name, touched, value(exp, field),
                              None if got is None else value(got, field)))
        report[field] = {"agree": agree, "total": total, "agree_without_caveats": agree_clean,
                         "total_without_caveats": total_clean}
    print(f"{'field':<12} {'agree':>12} {'%':>7}   {'no caveat':>12} {'%':>7}")
    for field, r in report.items():
        pct = 100.0 * r["agree"] / max(1, r["total"])
        pct_clean = 100.0 * r["agree_without_caveats"] / max(1, r["total_without_caveats"])
        print(f"{field:<12} {r['agree']:>5}/{r['total']:<6} {pct:6.1f}%   "
              f"{r['agree_without_caveats']:>5}/{r['total_without_caveats']:<6} {pct_clean:6.1f}%")
    if args.show_diffs:
        for field, name, touched, exp, got in diffs:
            mark = " (reference caveat)" if touched else ""
            print(f"\n--- {field} {name}{mark}\n  expected: {str(exp)[:400]}\n  ours:     {str(got)[:400]}")
    unknown = [(d[1], d[0]) for d in diffs if (d[1], d[0]) not in known]
    seen = {(d[1], d[0]) for d in diffs}
    stale = [k for k in known if k not in seen and k[0] in expected]
    if args.known:
        for name, field in unknown:
            print(f"UNEXPLAINED difference: {field} in {name}")
        for name, field in stale:
            print(f"FIXED (remove from the known list): {field} in {name}")
        print(f"{len(diffs) - len(unknown)} differences explained in {args.known}, "
              f"{len(unknown)} unexplained, {len(stale)} no longer occur")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"fields": report, "differences": [
                {"field": d[0], "file": d[1], "caveat": d[2]} for d in diffs]}, f, indent=1)
    if args.fail_on_unknown and (unknown or stale):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
