#!/usr/bin/env python3
"""Writes a deterministic, mail-like mailbox for the benchmark as a Maildir.

    gen_mailbox.py [--big=MIN-MAX] COUNT SEED OUTDIR

OUTDIR gets cur/, new/ and tmp/; every message lands in cur/ with its flags
in the file name, and its mtime is the arrival time (Dovecot's INTERNALDATE).
The same COUNT and SEED always give the same bytes and file names, and the
first N messages of a larger mailbox equal those of an N-message one.

The mix (10,000 messages, seed 1): 88 % are 2-20 KB (plain text, or text and
HTML alternatives), 7 % are 20-100 KB (HTML newsletters, invitations, CSV and
office attachments) and 5 % are 100 KB-2 MB with base64 attachments.
A quarter are replies carrying In-Reply-To and References. Non-ASCII
subjects and names use RFC 2047 encoded words (UTF-8 B and Q, ISO-8859-1 Q),
non-ASCII attachment names RFC 2231 parameters, some split into sections.
Only example.com/.org/.net names and 192.0.2.0/24 addresses appear.

--big=MIN-MAX makes every message a large one instead, MIN to MAX MB
(10^6 bytes, uniform) as stored: the same headers, a short text and one to
three base64 attachments of random bytes. Same determinism as above for the
same COUNT, SEED and range.

Prints one JSON line: count, seed, bytes (as stored, LF line ends),
crlf_bytes (as IMAP sends them) and the count per size class.
Python standard library only.
"""
import base64
import binascii
import datetime
import hashlib
import json
import os
import random
import sys

WORDS_EN = (
    "account action agenda agreed answer approval attached audit availability backup board "
    "budget calendar call change client cluster colleague compliance conference contract cost "
    "customer database deadline decision delivery deployment design director document draft "
    "estimate feature final finance follow forecast friday invoice issue latency legal link "
    "manager meeting migration minutes monday morning next notes office onboarding order "
    "partner payment pending plan policy presentation priority product project proposal "
    "quarter question release report review revenue risk roadmap sales schedule security "
    "server service shipment signature slides spreadsheet status steps support team ticket "
    "today tomorrow training travel update vendor version week workshop the the the a a an "
    "and and and of of of to to to in in for for on with with is is are was be it this that "
    "we we you you our your please thanks can will would should could not also just still "
    "about after before since until from into over under again already only soon later"
).split()
WORDS_DE = (
    "und der die das nicht mit für über bitte danke morgen heute nächste Woche Größe Qualität "
    "Besprechung Änderung Rückmeldung Lösung Anhang Überprüfung Straße freundlichen Grüßen "
    "Angebot Rechnung Termin schön gemäß Bürozeiten Kündigung Verlängerung"
).split()
WORDS_FR = (
    "et le la les des pour avec très réunion équipe été déjà prochaine semaine merci "
    "cordialement pièce jointe problème résumé créé français deuxième après numéro facture "
    "règlement échéance"
).split()
SPICE = ["Zürich", "naïve", "café", "São Paulo", "Kraków", "Ørsted", "Œuvre", "déjà vu",
         "—", "…", "€", "“quoted”", "🙂", "👍", "🎉", "✔", "日本語", "会議", "Привет",
         "Ελληνικά", "Ångström", "façade"]

FIRST = ["James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emma", "Wei",
         "Priya", "Ahmed", "Olga", "Kenji", "Lucas", "Noah", "Mia", "Hannah", "Omar",
         "Sofia", "Mateo", "Jürgen", "Zoë", "Renée", "Søren", "Łukasz", "José", "François",
         "Björn", "Ana", "Dmitri"]
LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor",
        "Moore", "Clark", "Patel", "Chen", "Nguyen", "Kim", "Müller", "Schäfer", "Dubois",
        "Lefèvre", "Núñez", "Østergaard", "Kowalczyk", "Yılmaz", "O'Brien", "Novák",
        "Rossi", "Tanaka"]
DOMAINS = ["example.com", "example.org", "example.net", "corp.example.com",
           "mail.example.org", "lists.example.net", "shop.example.com"]
TOPICS = ["Q3 budget review", "Release 4.2 schedule", "Contract renewal", "Invoice 2024-0117",
          "Team offsite", "Database migration plan", "Security audit findings", "Roadmap draft",
          "Customer escalation", "Weekly status", "Travel approval", "Onboarding checklist",
          "Latency regression", "Vendor proposal", "Board slides", "Password rotation"]
TOPICS_INTL = ["Besprechung nächste Woche", "Rückmeldung zum Angebot", "Réunion d'équipe",
               "Résumé de la réunion", "Año fiscal — cierre", "Größe der Lieferung",
               "会議の議事録", "Отчёт за квартал", "Café-Treffen in Zürich 🙂",
               "Kündigung Vertrag Nr. 4711", "Facture échéance dépassée €",
               "Ελληνικά: πρόγραμμα", "Naïve façade review ✔"]
ATTACH_NAMES = ["report.pdf", "Q3-figures.xlsx", "contract_signed.pdf", "scan0001.jpg",
                "slides.pptx", "logs.zip", "diagram.png", "minutes.docx"]
ATTACH_NAMES_INTL = ["Übersicht_Größen.pdf", "Résumé réunion équipe.docx",
                     "Angebot für Müller & Söhne GmbH — endgültige Fassung (überarbeitet).pdf",
                     "会議資料.pptx", "Фото с конференции.jpg", "façade-plan №2.png",
                     "Ångström data ✔.xlsx"]
MIME_OF = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument."
           "spreadsheetml.sheet", "docx": "application/vnd.openxmlformats-officedocument."
           "wordprocessingml.document", "pptx": "application/vnd.openxmlformats-officedocument."
           "presentationml.presentation", "zip": "application/zip", "jpg": "image/jpeg",
           "png": "image/png"}
MAGIC = {"pdf": b"%PDF-1.7\n", "png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff\xe0",
         "zip": b"PK\x03\x04", "xlsx": b"PK\x03\x04", "docx": b"PK\x03\x04", "pptx": b"PK\x03\x04"}
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ZONES = [0, 60, 60, 120, -300, -240, -420, 330, 540, 600]  # minutes east of UTC
MAILERS = ["Mozilla Thunderbird 115.6", "Microsoft Outlook 16.0", "Apple Mail (2.3731)",
           "Roundcube Webmail/1.6.5", "mutt/2.2.9", None, None]


# ---------------------------------------------------------------- text pools

def make_paragraph(rng, words, spice):
    sentences = []
    for _ in range(rng.randint(2, 6)):
        w = rng.choices(words, k=rng.randint(6, 18))
        if spice and rng.random() < 0.4:
            w.insert(rng.randrange(len(w)), rng.choice(SPICE))
        w[0] = w[0].capitalize()
        sentences.append(" ".join(w) + rng.choice(".....?!"))
    return " ".join(sentences)


def wrap(text, width=72):
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = line + " " + word if line else word
    lines.append(line)
    return "\n".join(lines)


class Pools:
    """Paragraphs made once per seed; messages draw from them."""

    def __init__(self, seed):
        rng = random.Random("pools:%d" % seed)
        self.en = [make_paragraph(rng, WORDS_EN, False) for _ in range(1500)]
        self.de = [make_paragraph(rng, WORDS_DE + WORDS_EN[:40], True) for _ in range(300)]
        self.fr = [make_paragraph(rng, WORDS_FR + WORDS_EN[:40], True) for _ in range(300)]
        self.mixed = [make_paragraph(rng, WORDS_EN, True) for _ in range(300)]

    def pick(self, rng, lang):
        return rng.choice({"en": self.en, "de": self.de, "fr": self.fr, "mixed": self.mixed}[lang])


# ------------------------------------------------------------ header encoding

def q_encode_word(text, charset):
    out = []
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isascii() and (c.isalnum() or c in "!*+-/"):
            out.append(c)
        else:
            out.append("=%02X" % b)
    return "".join(out)


def encoded_words(text, rng):
    """RFC 2047 encoded words for text, each at most 75 characters."""
    latin1 = all(ord(c) < 256 for c in text)
    style = rng.random()
    if latin1 and style < 0.25:
        charset, mode = "ISO-8859-1", "Q"
    elif style < 0.6:
        charset, mode = "UTF-8", "Q"
    else:
        charset, mode = "UTF-8", "B"
    words, chunk = [], ""
    budget = 75 - len("=?%s?%s??=" % (charset, mode))
    for ch in text:
        trial = chunk + ch
        if mode == "B":
            size = (len(trial.encode(charset)) + 2) // 3 * 4
        else:
            size = len(q_encode_word(trial, charset))
        if size > budget and chunk:
            words.append(chunk)
            chunk = ch
        else:
            chunk = trial
    words.append(chunk)
    if mode == "B":
        return ["=?%s?B?%s?=" % (charset, base64.b64encode(w.encode(charset)).decode())
                for w in words]
    return ["=?%s?Q?%s?=" % (charset, q_encode_word(w, charset)) for w in words]


def header_text(text, rng):
    """The header form of a display string: ASCII as is, else encoded words."""
    if text.isascii():
        return text
    return "\n ".join(encoded_words(text, rng))


def mailbox(rng, person):
    name, addr = person
    if not name.isascii():
        return "%s <%s>" % (header_text(name, rng), addr)
    if rng.random() < 0.15:
        last, first = name.split(" ", 1)[::-1]
        return '"%s, %s" <%s>' % (last, first, addr)
    return "%s <%s>" % (name, addr)


def person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = "%s.%s" % (first, last)
    local = "".join(c for c in local.lower() if c.isascii() and (c.isalnum() or c == "."))
    return "%s %s" % (first, last), "%s@%s" % (local, rng.choice(DOMAINS))


def rfc5322_date(when, zone_minutes):
    local = when + datetime.timedelta(minutes=zone_minutes)
    sign = "+" if zone_minutes >= 0 else "-"
    z = abs(zone_minutes)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[local.weekday()], local.day, MONTHS[local.month - 1], local.year,
        local.hour, local.minute, local.second, sign, z // 60, z % 60)


def filename_params(name, rng):
    """Content-Disposition/Type parameters naming an attachment."""
    if name.isascii():
        return '; filename="%s"' % name
    if rng.random() < 0.15:  # what some mailers send instead of RFC 2231
        return '; filename="%s"' % " ".join(encoded_words(name, rng))
    quoted = "".join(chr(b) if chr(b).isalnum() and b < 128 or chr(b) in "-._" else "%%%02X" % b
                     for b in name.encode("utf-8"))
    if len(quoted) < 60:
        return ";\n filename*=UTF-8''%s" % quoted
    parts, i = [], 0
    while i < len(quoted):  # continuation sections, never splitting a %XX
        end = min(i + 40, len(quoted))
        while end < len(quoted) and "%" in quoted[end - 2:end]:
            end += 1
        parts.append(quoted[i:end])
        i = end
    return "".join(";\n filename*%d*=%s%s" % (n, "UTF-8''" if n == 0 else "", p)
                   for n, p in enumerate(parts))


# ----------------------------------------------------------------- bodies

def encode_text(text, rng):
    """(charset, transfer encoding, encoded body) for a text part."""
    if text.isascii():
        return "us-ascii", "7bit", text
    if all(ord(c) < 256 for c in text) and rng.random() < 0.5:
        raw, charset = text.encode("iso-8859-1"), "iso-8859-1"
    else:
        raw, charset = text.encode("utf-8"), "utf-8"
    if charset == "utf-8" and rng.random() < 0.15:
        return charset, "8bit", text
    return charset, "quoted-printable", binascii.b2a_qp(raw).decode("ascii")


def html_of(paragraphs, rng, newsletter=False):
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
           "<style>body{font-family:Arial,sans-serif;font-size:14px}"
           " td{padding:4px 8px}</style></head><body>"]
    for i, p in enumerate(paragraphs):
        p = p.replace("&", "&amp;").replace("<", "&lt;")
        if newsletter and i % 3 == 0:
            out.append('<table width="600"><tr><td bgcolor="#f0f0f0"><h2>%s</h2></td></tr>'
                       "<tr><td>%s <a href=\"https://www.example.com/n/%d?utm_source=mail\">"
                       "Read more</a></td></tr></table>" % (p[:40], p, rng.randrange(10**6)))
        else:
            out.append("<p>%s</p>" % p)
    out.append("</body></html>")
    return wrap("\n".join(out), 76)


def text_part(text, rng, subtype="plain"):
    charset, cte, body = encode_text(text, rng)
    if subtype == "html" and rng.random() < 0.2:  # some mailers base64 their HTML
        charset, cte = "utf-8", "base64"
        body = base64.encodebytes(text.encode("utf-8")).decode("ascii")
    return ("Content-Type: text/%s; charset=%s\nContent-Transfer-Encoding: %s\n\n%s\n"
            % (subtype, charset, cte, body.rstrip("\n")))


def multipart(subtype, parts, boundary):
    out = ["Content-Type: multipart/%s;\n boundary=\"%s\"\n\n" % (subtype, boundary),
           "This is a multi-part message in MIME format.\n"]
    for p in parts:
        out.append("\n--%s\n%s" % (boundary, p))
    out.append("\n--%s--\n" % boundary)
    return "".join(out)


def binary_part(rng, name, size):
    ext = name.rsplit(".", 1)[-1]
    data = MAGIC.get(ext, b"") + rng.randbytes(max(0, size - 8))
    ctype = MIME_OF.get(ext, "application/octet-stream")
    params = filename_params(name, rng)
    return ("Content-Type: %s%s\nContent-Disposition: attachment%s\n"
            "Content-Transfer-Encoding: base64\n\n%s"
            % (ctype, params.replace("filename", "name"), params,
               base64.encodebytes(data).decode("ascii")))


def calendar_part(rng, when, subject):
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "PRODID:-//bench//gen_mailbox//EN", "VERSION:2.0",
             "METHOD:REQUEST", "BEGIN:VEVENT", "UID:%032x@example.com" % rng.getrandbits(128),
             "DTSTAMP:" + stamp, "DTSTART:" + stamp, "SUMMARY:" + subject.replace("\n", " "),
             "LOCATION:Room %d" % rng.randint(1, 40)]
    lines += ["ATTENDEE;CN=Guest %d:mailto:guest%d@example.org" % (i, i)
              for i in range(rng.randint(2, 30))]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("Content-Type: text/calendar; charset=utf-8; method=REQUEST\n"
            "Content-Disposition: attachment; filename=\"invite.ics\"\n"
            "Content-Transfer-Encoding: 8bit\n\n%s\n" % "\n".join(lines))


def csv_part(rng, size):
    rows = ["date,account,amount,currency,note"]
    total = 0
    while total < size:
        row = "2024-%02d-%02d,%d,%d.%02d,EUR,%s" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randrange(10**6),
            rng.randrange(10**5), rng.randrange(100), rng.choice(WORDS_EN))
        rows.append(row)
        total += len(row) + 1
    return ("Content-Type: text/csv; charset=us-ascii; name=\"export.csv\"\n"
            "Content-Disposition: attachment; filename=\"export.csv\"\n\n%s\n" % "\n".join(rows))


# ---------------------------------------------------------------- messages

class Generator:
    def __init__(self, seed):
        self.seed = seed
        self.pools = Pools(seed)
        self.threads = []  # per message: (message_id, references, subject, sender name)
        self.start = datetime.datetime(2023, 1, 2, 8, 0, 0)

    def paragraphs(self, rng, lang, target_chars):
        out, size = [], 0
        while size < target_chars:
            p = self.pools.pick(rng, lang)
            out.append(p)
            size += len(p) + 2
        return out

    def message(self, i, big=None):
        """One message; big = (min_bytes, max_bytes) forces a large one of that size."""
        rng = random.Random("%d:%d" % (self.seed, i))
        when = self.start + datetime.timedelta(seconds=i * 3100 + rng.randrange(3000))
        lang = rng.choices(["en", "de", "fr", "mixed"], [70, 12, 8, 10])[0]
        sender, me = person(rng), ("Alice Example", "alice@example.com")
        r = rng.random()
        size_class = "small" if r < 0.86 else "medium" if r < 0.955 else "large"
        if big is not None:
            size_class = "big"

        parent = None
        if self.threads and rng.random() < 0.25:
            parent = self.threads[rng.randrange(max(0, i - 200), i)]
        if parent:
            base = parent[2]
            subject = base if base.lower().startswith(("re:", "aw:")) else \
                rng.choice(["Re: ", "Re: ", "RE: ", "AW: "]) + base
        elif lang == "en" and rng.random() < 0.85:
            subject = "%s %s" % (rng.choice(TOPICS), rng.choice(["", "", "(draft)", "- update",
                                                                  "#%d" % rng.randrange(999)]))
        else:
            subject = rng.choice(TOPICS_INTL)
        subject = subject.strip()
        msgid = "<%s.%d@%s>" % (hashlib.sha1(("%d/%d" % (self.seed, i)).encode()).hexdigest()[:20],
                                 i, sender[1].split("@")[1])
        refs = (parent[1] + [parent[0]])[-10:] if parent else []
        self.threads.append((msgid, refs, subject, sender[0]))

        to = [me] + [person(rng) for _ in range(rng.choices([0, 1, 2, 3], [55, 25, 12, 8])[0])]
        cc = [person(rng) for _ in range(rng.choices([0, 1, 2], [70, 20, 10])[0])]
        zone = rng.choice(ZONES)
        head = [
            "Return-Path: <%s>" % sender[1],
            "Delivered-To: alice@example.com",
            "Received: from mx.example.com (mx.example.com [192.0.2.10])\n"
            "\tby imap.example.com with LMTP id %016x\n\tfor <alice@example.com>; %s"
            % (rng.getrandbits(64), rfc5322_date(when, 0)),
            "Received: from out.%s (out.%s [192.0.2.%d])\n\tby mx.example.com with ESMTPS;\n\t%s"
            % (sender[1].split("@")[1], sender[1].split("@")[1], rng.randrange(11, 250),
               rfc5322_date(when, 0)),
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=mail;\n"
            "\th=from:to:subject:date:message-id; bh=%s;\n\tb=%s"
            % (sender[1].split("@")[1], base64.b64encode(rng.randbytes(32)).decode(),
               "\n\t  ".join(base64.b64encode(rng.randbytes(64)).decode() for _ in range(4))),
            "Date: " + rfc5322_date(when, zone),
            "From: " + mailbox(rng, sender),
            "To: " + ",\n\t".join(mailbox(rng, p) for p in to),
        ]
        if cc:
            head.append("Cc: " + ",\n\t".join(mailbox(rng, p) for p in cc))
        head.append("Subject: " + header_text(subject, rng))
        head.append("Message-ID: " + msgid)
        if parent:
            head.append("In-Reply-To: " + parent[0])
            head.append("References: " + "\n ".join(refs))
        mailer = rng.choice(MAILERS)
        if mailer:
            head.append("X-Mailer: " + mailer)
        head.append("MIME-Version: 1.0")

        boundary = "----=_Part_%d_%010d" % (i, rng.getrandbits(32))
        greeting = "Hi %s,\n\n" % rng.choice(["Alice", "all", "team", "everyone"])
        signoff = "\n\n%s\n%s\n" % (rng.choice(["Thanks,", "Best regards,", "Cheers,",
                                                 "Mit freundlichen Grüßen", "Cordialement,"]),
                                    sender[0])

        def quoted_tail():
            if not parent:
                return ""
            q = self.paragraphs(rng, lang, rng.randint(300, 2500))
            body = "\n>\n".join("> " + wrap(p, 70).replace("\n", "\n> ") for p in q)
            return "\n\nOn %s, %s wrote:\n%s" % (rfc5322_date(when - datetime.timedelta(
                hours=rng.randint(1, 72)), zone), parent[3], body)

        if size_class == "small":
            target = int(2000 * 10 ** rng.random())  # log-uniform 2-20 KB
            alternative = rng.random() < 0.6
            share = 0.4 if alternative else 0.75
            paras = self.paragraphs(rng, lang, max(700, int(target * share) - 1500))
            text = greeting + "\n\n".join(wrap(p) for p in paras) + signoff + quoted_tail()
            if alternative:
                body = multipart("alternative", [text_part(text, rng),
                                                 text_part(html_of(paras, rng), rng, "html")],
                                 boundary)
            else:
                body = text_part(text, rng)
        elif size_class == "medium":
            target = int(20000 * 5 ** rng.random())  # log-uniform 20-100 KB
            kind = rng.choices(["newsletter", "invite", "csv", "office"], [45, 15, 15, 25])[0]
            if kind == "newsletter":
                head.append("List-Id: Weekly digest <digest.lists.example.net>")
                head.append("List-Unsubscribe: <https://lists.example.net/u/%d>"
                            % rng.randrange(10**9))
                paras = self.paragraphs(rng, lang, int(target * 0.45))
                body = multipart("alternative", [
                    text_part("\n\n".join(wrap(p) for p in paras), rng),
                    text_part(html_of(paras, rng, newsletter=True), rng, "html")], boundary)
            else:
                paras = self.paragraphs(rng, lang, rng.randint(400, 3000))
                text = greeting + "\n\n".join(wrap(p) for p in paras) + signoff + quoted_tail()
                if kind == "invite":
                    att = calendar_part(rng, when, subject)
                elif kind == "csv":
                    att = csv_part(rng, target - len(text) - 2000)
                else:
                    name = rng.choice(ATTACH_NAMES + ATTACH_NAMES_INTL)
                    att = binary_part(rng, name, int((target - len(text) - 2000) * 0.74))
                inner = multipart("alternative", [text_part(text, rng),
                                                  text_part(html_of(paras, rng), rng, "html")],
                                  boundary + "_alt")
                body = multipart("mixed", [inner, att], boundary)
        elif size_class == "big":
            target = rng.randint(big[0], big[1])
            paras = self.paragraphs(rng, lang, rng.randint(300, 2500))
            text = greeting + "\n\n".join(wrap(p) for p in paras) + signoff + quoted_tail()
            n = rng.choices([1, 2, 3], [60, 30, 10])[0]
            parts = [text_part(text, rng)]
            room = target - len("\n".join(head)) - len(text.encode("utf-8")) - 600 * (n + 1)
            for k in range(n):
                name = rng.choice(ATTACH_NAMES + ATTACH_NAMES_INTL)
                # base64 lines carry 57 bytes in 77 characters
                parts.append(binary_part(rng, name, max(1000, room * 57 // 77 // n)))
            body = multipart("mixed", parts, boundary)
        else:
            target = int(100000 * 20 ** rng.random())  # log-uniform 100 KB-2 MB
            paras = self.paragraphs(rng, lang, rng.randint(300, 2500))
            text = greeting + "\n\n".join(wrap(p) for p in paras) + signoff + quoted_tail()
            n = rng.choices([1, 2, 3], [60, 30, 10])[0]
            parts = [text_part(text, rng)]
            for k in range(n):
                name = rng.choice(ATTACH_NAMES + ATTACH_NAMES_INTL)
                parts.append(binary_part(rng, name, int(target * 0.74 / n)))
            body = multipart("mixed", parts, boundary)

        flags = rng.choices(["S", "RS", "FS", "", "S"], [60, 12, 5, 15, 8])[0]
        data = ("\n".join(head) + "\n" + body).encode("utf-8")
        return data, when, flags, size_class


def parse_big(arg):
    """(min_bytes, max_bytes) of "--big=5-20" (MB), or exits naming the flag."""
    try:
        lo, hi = (float(x) for x in arg.split("=", 1)[1].split("-"))
    except ValueError:
        sys.exit("gen_mailbox.py: --big must be MIN-MAX in MB, e.g. --big=5-20: %r" % arg)
    if not 0.01 <= lo <= hi <= 500:
        sys.exit("gen_mailbox.py: --big=MIN-MAX needs 0.01 <= MIN <= MAX <= 500: %r" % arg)
    return int(lo * 1e6), int(hi * 1e6)


def main():
    args = sys.argv[1:]
    big = None
    if args and args[0].startswith("--big="):
        big = parse_big(args.pop(0))
    if len(args) != 3:
        sys.exit("usage: gen_mailbox.py [--big=MIN-MAX] COUNT SEED OUTDIR")
    count, seed, outdir = int(args[0]), int(args[1]), args[2]
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    gen = Generator(seed)
    total = crlf_total = 0
    classes = {"small": 0, "medium": 0, "large": 0, "big": 0}
    for i in range(count):
        data, when, flags, size_class = gen.message(i, big)
        crlf = len(data) + data.count(b"\n")  # what IMAP sends: every LF becomes CRLF
        stamp = int(when.replace(tzinfo=datetime.timezone.utc).timestamp())
        name = "%d.M%dP%d.benchgen,S=%d,W=%d:2,%s" % (stamp, i, seed, len(data), crlf, flags)
        path = os.path.join(outdir, "cur", name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (stamp + 7, stamp + 7))
        total += len(data)
        crlf_total += crlf
        classes[size_class] += 1
    print(json.dumps({"count": count, "seed": seed, "bytes": total, "crlf_bytes": crlf_total,
                      "size_classes": classes}))


if __name__ == "__main__":
    main()
