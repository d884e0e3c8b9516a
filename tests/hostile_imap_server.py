#!/usr/bin/env python3
"""A small real IMAP server that misbehaves on purpose, for tests.

It serves one INBOX of generated messages over plain TCP on 127.0.0.1 and
speaks enough IMAP4rev1 for the connector (CAPABILITY, LOGIN, NOOP, LIST,
EXAMINE/SELECT, UID SEARCH, UID FETCH, IDLE, LOGOUT), then breaks the rules
the way servers in the wild do: a greeting without its line end, answers
dripped a byte at a time, endless untagged lines, connections dropped in
the middle of a FETCH, a 93 GB literal, a message whose answer never
parses, a per-user connection limit, a refused STARTTLS, or all of that at
random (--chaos). It prints "PORT <n>" on stdout once it listens, and with
--stats-file writes its counters there (JSON) after every connection.

With --gmail it plays a small Gmail account instead of the INBOX of
generated messages: X-GM-EXT-1 and SPECIAL-USE, the [Gmail]/... folders
with their roles, labels shown as folders, X-GM-LABELS, X-GM-MSGID and
X-GM-THRID in FETCH, UID SEARCH with X-GM-RAW (a few Gmail operators),
X-GM-LABELS, X-GM-MSGID and X-GM-THRID, and every SEARCH recorded in the
stats file ("searches"). --gmail-refuse and --m365-refuse answer logins as
Gmail and Microsoft 365 refuse them.

With --vanishing-folder NAME it lists the folders of VANISHING_FOLDERS and
NAME, and answers every STATUS of NAME with NO [NONEXISTENT], as if NAME
were deleted between LIST and STATUS; with --list-status too it offers
LIST-EXTENDED and LIST-STATUS and leaves NAME's STATUS out of the LIST
answer, as RFC 5819 asks of a server that cannot give it; with --stall-list
it never answers LIST.

  hostile_imap_server.py --messages 50 --drop-after 7
  hostile_imap_server.py --gmail --stats-file /tmp/stats.json
"""
import argparse
import json
import random
import re
import socket
import sys
import threading
import time

USER, PASSWORD = "alice", "alice-password"
UIDVALIDITY = 7001


# The Gmail account of --gmail: (X-GM-MSGID, X-GM-THRID, labels, subject).
# Labels are as Gmail sends them: system labels with a backslash, others
# named like folders (modified UTF-7: "&AMk-t&AOk-" is "Ete" with accents).
# Ids are above 2^53, so a double would lose them. Message 1 carries two
# user-visible labels (INBOX and Work), as do 3 and 5.
GMAIL_MESSAGES = [
    (1278455344230334865, 1278455344230334865, ["\\Inbox", "\\Important", "Work"],
     "quarterly report"),
    (1278455344230334866, 1278455344230334865, ["\\Inbox"], "re: quarterly report"),
    (1278455344230334867, 1278455344230334867, ["Work", "&AMk-t&AOk-"], "design review"),
    (1278455344230334868, 1278455344230334868, ["\\Sent"], "lunch on friday"),
    (1278455344230334869, 1278455344230334869, ["\\Inbox", "Two words"], "invoice attached"),
]

# Folders: (name on the wire, LIST attributes, which messages: a label, or
# None for every message, or "" for none).
GMAIL_FOLDERS = [
    ("INBOX", ["\\HasNoChildren"], "\\Inbox"),
    ("Work", ["\\HasNoChildren"], "Work"),
    ("&AMk-t&AOk-", ["\\HasNoChildren"], "&AMk-t&AOk-"),
    ("Two words", ["\\HasNoChildren"], "Two words"),
    ("[Gmail]", ["\\HasChildren", "\\Noselect"], ""),
    ("[Gmail]/All Mail", ["\\HasNoChildren", "\\All"], None),
    ("[Gmail]/Important", ["\\HasNoChildren", "\\Important"], "\\Important"),
    ("[Gmail]/Sent Mail", ["\\HasNoChildren", "\\Sent"], "\\Sent"),
    ("[Gmail]/Trash", ["\\HasNoChildren", "\\Trash"], ""),
]

# The folders of --vanishing-folder: (name on the wire, LIST attributes,
# subscribed, messages, unseen). "Entw&APw-rfe" is "Entwürfe".
VANISHING_FOLDERS = [
    ("INBOX", ["\\HasNoChildren"], True, 3, 1),
    ("Projects", ["\\HasChildren", "\\Noselect"], False, 0, 0),
    ("Projects/Entw&APw-rfe", ["\\HasNoChildren", "\\Drafts"], True, 5, 2),
    ("Sent", ["\\HasNoChildren", "\\Sent"], False, 7, 0),
]


GMAIL_REFUSALS = {
    # Gmail's answers to a password login it will not take.
    "app-password": "NO [ALERT] Application-specific password required: "
                    "https://support.google.com/accounts/answer/185833 (Failure)",
    "web-login": "NO [ALERT] Please log in via your web browser: "
                 "https://support.google.com/mail/accounts/answer/78754 (Failure)",
}
M365_REFUSAL = "NO AUTHENTICATE failed."


def gmail_view(folder_index):
    """The messages of a Gmail folder as [(uid, message index)]: each folder
    numbers its messages itself, as Gmail does (the UIDs differ per label)."""
    _, _, which = GMAIL_FOLDERS[folder_index]
    out = []
    for i, (_, _, labels, _) in enumerate(GMAIL_MESSAGES):
        if which is None or which in labels:
            out.append((len(out) + 1 + 10 * folder_index, i))
    return out


def gmail_message(i):
    _, _, _, subject = GMAIL_MESSAGES[i]
    return ("From: Boss <boss@example.com>\r\n"
            "To: alice@gmail.example\r\n"
            "Subject: %s\r\n"
            "Message-ID: <g%d@gmail.test>\r\n"
            "Date: Tue, 02 Jan 2024 10:%02d:00 +0000\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
            "gmail message %d\r\n" % (subject, i + 1, i, i + 1)).encode()


def imap_quote(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def gmail_label_wire(label):
    # Gmail quotes system labels (escaping the backslash) and names with
    # spaces, and sends other names as atoms.
    if label.startswith("\\") or " " in label:
        return imap_quote(label)
    return label


def search_tokens(text):
    """Splits SEARCH criteria into atoms, ("str", s) strings and parentheses."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == " ":
            i += 1
        elif c in "()":
            out.append(c)
            i += 1
        elif c == '"':
            i += 1
            value = ""
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                value += text[i]
                i += 1
            i += 1
            out.append(("str", value))
        else:
            j = i
            while j < len(text) and text[j] not in " ()":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def gmail_raw_matches(query, labels, subject):
    """A few of Gmail's search operators: label:, in:, is:, subject:, plain
    words (in the subject), and '-' before any of them."""
    for term in query.split():
        negate = term.startswith("-")
        term = term[1:] if negate else term
        key, _, value = term.partition(":")
        value_l = value.lower().replace("-", " ")
        lower_labels = [l.lower() for l in labels]
        if not value:
            ok = term.lower() in subject.lower()
        elif key.lower() == "label":
            ok = value_l in lower_labels
        elif key.lower() in ("in", "is"):
            ok = ("\\" + value_l) in lower_labels
        elif key.lower() == "subject":
            ok = value.lower() in subject.lower()
        else:
            ok = False
        if ok == negate:
            return False
    return True


def make_message(uid, body_size):
    head = (
        "From: Sender %d <sender%d@example.com>\r\n"
        "To: alice@example.com\r\n"
        "Subject: message %d\r\n"
        "Message-ID: <m%d@hostile.test>\r\n"
        "Date: Tue, 02 Jan 2024 10:%02d:00 +0000\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n" % (uid, uid, uid, uid, uid % 60)
    )
    line = "line of message %d, padding the body to its size.\r\n" % uid
    body = (line * (body_size // len(line) + 1))[:body_size]
    return (head + body).encode()


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.values = {"connections": 0, "closed": 0, "logins": 0, "refused_logins": 0, "concurrent": 0,
                       "max_concurrent": 0, "fetched": 0, "faults": 0}
        self.searches = None  # a list with --gmail: every UID SEARCH's criteria

    def record_search(self, criteria):
        with self.lock:
            self.searches.append(criteria)
            self.write()

    def add(self, key, n=1):
        with self.lock:
            self.values[key] += n
            if key == "concurrent":
                self.values["max_concurrent"] = max(self.values["max_concurrent"],
                                                    self.values["concurrent"])
            self.write()

    def write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        values = dict(self.values)
        if self.searches is not None:
            values["searches"] = list(self.searches)
        with open(tmp, "w") as f:
            json.dump(values, f)
        import os
        os.replace(tmp, self.path)


class Closed(Exception):
    pass


class Connection:
    def __init__(self, server, sock):
        self.server = server
        self.args = server.args
        self.sock = sock
        self.buf = b""
        self.fetched = 0
        self.logged_in = False
        self.rng = random.Random(server.next_seed())
        self.gmail_folder = None  # --gmail: the index of the selected folder

    # --- sending -------------------------------------------------------
    def send(self, data, drip=None):
        if isinstance(data, str):
            data = data.encode()
        drip = self.args.drip if drip is None else drip
        try:
            if drip > 0:
                for i in range(len(data)):
                    self.sock.sendall(data[i:i + 1])
                    time.sleep(drip)
            else:
                self.sock.sendall(data)
        except OSError:
            raise Closed()

    def hold(self):
        """Says nothing more until the client hangs up."""
        self.sock.settimeout(None)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        raise Closed()

    # --- reading -------------------------------------------------------
    def read_line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                raise Closed()
            if not chunk:
                raise Closed()
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_bytes(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                raise Closed()
            if not chunk:
                raise Closed()
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data.decode("utf-8", "replace")

    def read_command(self):
        """--gmail: a command line with its literals ({n} or {n+}) folded in
        as quoted strings. Otherwise just the line, as always."""
        line = self.read_line()
        while self.args.gmail:
            m = re.search(r"\{(\d+)(\+?)\}$", line)
            if not m:
                break
            if not m.group(2):
                self.send("+ go ahead\r\n")
            data = self.read_bytes(int(m.group(1)))
            line = line[:m.start()] + imap_quote(data) + self.read_line()
        return line

    # --- the session ---------------------------------------------------
    def capabilities(self):
        caps = ["IMAP4rev1", "LITERAL+", "IDLE", "UIDPLUS"]
        if self.args.starttls != "none" and self.args.starttls != "strip":
            caps.append("STARTTLS")
        if self.args.gmail:
            caps += ["X-GM-EXT-1", "SPECIAL-USE"]
        if self.args.m365_refuse:
            caps += ["AUTH=PLAIN", "AUTH=XOAUTH2", "SASL-IR"]
        if self.args.vanishing_folder and self.args.list_status:
            caps += ["LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE"]
        return " ".join(caps)

    def run(self):
        if self.args.greeting_stall:
            self.send("* OK")
            self.hold()
        if self.args.flood_greeting:
            while True:
                self.send("* OK still starting up\r\n", drip=0)
                time.sleep(0.05)
        self.send("* OK [CAPABILITY %s] hostile test server ready\r\n" % self.capabilities())
        while True:
            line = self.read_command()
            parts = line.split(" ", 2)
            if len(parts) < 2:
                self.send("* BAD no tag\r\n")
                continue
            tag, verb = parts[0], parts[1].upper()
            rest = parts[2] if len(parts) > 2 else ""
            if verb == "UID" and rest:
                sub, _, rest = rest.partition(" ")
                verb = "UID " + sub.upper()
            handler = getattr(self, "cmd_" + verb.replace(" ", "_"), None)
            if handler is None:
                self.send("%s BAD unknown command %s\r\n" % (tag, verb))
                continue
            handler(tag, rest)

    def cmd_CAPABILITY(self, tag, rest):
        self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (self.capabilities(), tag))

    def cmd_NOOP(self, tag, rest):
        self.send("%s OK noop\r\n" % tag)

    def cmd_LOGOUT(self, tag, rest):
        self.send("* BYE bye\r\n%s OK logged out\r\n" % tag)
        raise Closed()

    def cmd_STARTTLS(self, tag, rest):
        if self.args.starttls == "refuse-bad":
            self.send("%s BAD STARTTLS not available\r\n" % tag)
        else:
            self.send("%s NO STARTTLS is disabled here\r\n" % tag)

    def refusal(self):
        """The provider's refusal of every login, or None."""
        if self.args.gmail_refuse:
            return GMAIL_REFUSALS[self.args.gmail_refuse]
        if self.args.m365_refuse:
            return M365_REFUSAL
        return None

    def cmd_AUTHENTICATE(self, tag, rest):
        refusal = self.refusal()
        if refusal is None:
            # As before this handler existed.
            self.send("%s BAD unknown command AUTHENTICATE\r\n" % tag)
            return
        if len(rest.split()) < 2:
            # No initial response: ask for it, then refuse whatever comes.
            self.send("+ \r\n")
            self.read_line()
        self.server.stats.add("refused_logins")
        self.send("%s %s\r\n" % (tag, refusal))

    def cmd_LOGIN(self, tag, rest):
        refusal = self.refusal()
        if refusal is not None:
            self.server.stats.add("refused_logins")
            self.send("%s %s\r\n" % (tag, refusal))
            return
        if self.args.login_alert:
            self.send("%s NO [ALERT] %s\r\n" % (tag, self.args.login_alert))
            return
        words = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', rest)
        values = [a or b for a, b in words]
        if self.server.throttled():
            # The first --throttle logins are turned away as providers do
            # under load: Microsoft 365's [THROTTLED], then Gmail-style BYE.
            self.server.stats.add("refused_logins")
            if self.server.stats.values["refused_logins"] % 2:
                self.send("%s NO [THROTTLED] Request is throttled. Suggested Backoff Time: 100 "
                          "milliseconds\r\n" % tag)
                return
            self.send("* BYE [UNAVAILABLE] Too many simultaneous connections\r\n")
            raise Closed()
        if len(values) != 2 or values[0] != USER or values[1] != PASSWORD:
            self.send("%s NO [AUTHENTICATIONFAILED] invalid credentials\r\n" % tag)
            return
        with self.server.lock:
            limit = self.args.max_connections
            if limit and self.server.authenticated >= limit:
                refuse = True
            else:
                refuse = False
                self.server.authenticated += 1
                self.logged_in = True
        if refuse:
            self.server.stats.add("refused_logins")
            self.send("%s NO [LIMIT] too many connections for this user\r\n" % tag)
            return
        self.server.stats.add("logins")
        self.server.stats.add("concurrent")
        self.send("%s OK [CAPABILITY %s] logged in\r\n" % (tag, self.capabilities()))

    def cmd_LIST(self, tag, rest):
        if self.args.gmail:
            self.gmail_list(tag, rest)
            return
        if self.args.vanishing_folder:
            self.vanishing_list(tag, rest, "LIST")
            return
        self.send('* LIST (\\HasNoChildren) "/" INBOX\r\n%s OK list\r\n' % tag)

    # --- --vanishing-folder ---------------------------------------------
    def vanishing_folders(self):
        return VANISHING_FOLDERS + [(self.args.vanishing_folder, ["\\HasNoChildren"], True, 2, 2)]

    def vanishing_list(self, tag, rest, verb):
        if self.args.stall_list:
            self.hold()
        extended = verb == "LIST" and "RETURN" in rest.upper()
        with_status = extended and "STATUS" in rest.upper().split("RETURN", 1)[1]
        out = []
        for name, attributes, subscribed, messages, unseen in self.vanishing_folders():
            if verb == "LSUB" and not subscribed:
                continue
            attrs = list(attributes)
            if extended and subscribed:
                attrs.append("\\Subscribed")
            out.append('* %s (%s) "/" %s\r\n' % (verb, " ".join(attrs), imap_quote(name)))
            if with_status and "\\Noselect" not in attributes \
                    and name != self.args.vanishing_folder:
                out.append("* STATUS %s (MESSAGES %d UNSEEN %d UIDNEXT %d UIDVALIDITY %d)\r\n"
                           % (imap_quote(name), messages, unseen, messages + 1, UIDVALIDITY))
        self.send("".join(out) + "%s OK %s done\r\n" % (tag, verb))

    def cmd_LSUB(self, tag, rest):
        if not self.args.vanishing_folder:
            self.send("%s BAD unknown command LSUB\r\n" % tag)
            return
        self.vanishing_list(tag, rest, "LSUB")

    def cmd_STATUS(self, tag, rest):
        if not self.args.vanishing_folder:
            self.send("%s BAD unknown command STATUS\r\n" % tag)
            return
        tokens = search_tokens(rest)
        name = tokens[0][1] if tokens and isinstance(tokens[0], tuple) else (tokens or [""])[0]
        for folder, attributes, _, messages, unseen in VANISHING_FOLDERS:
            if folder == name and "\\Noselect" not in attributes:
                self.send("* STATUS %s (MESSAGES %d UNSEEN %d UIDNEXT %d UIDVALIDITY %d)\r\n"
                          "%s OK status done\r\n"
                          % (imap_quote(name), messages, unseen, messages + 1, UIDVALIDITY, tag))
                return
        self.send("%s NO [NONEXISTENT] Mailbox does not exist\r\n" % tag)

    def gmail_list(self, tag, rest):
        args = [t[1] if isinstance(t, tuple) else t for t in search_tokens(rest)]
        pattern = args[1] if len(args) > 1 else ""
        if pattern == "":
            self.send('* LIST (\\Noselect) "/" ""\r\n%s OK Success\r\n' % tag)
            return
        regex = "".join(".*" if c == "*" else "[^/]*" if c == "%" else re.escape(c)
                        for c in pattern)
        out = []
        for name, attributes, _ in GMAIL_FOLDERS:
            if re.fullmatch(regex, name, re.I if name == "INBOX" else 0):
                out.append('* LIST (%s) "/" %s\r\n' % (" ".join(attributes), imap_quote(name)))
        self.send("".join(out) + "%s OK Success\r\n" % tag)

    def gmail_examine(self, tag, rest, verb):
        tokens = search_tokens(rest)
        name = tokens[0][1] if tokens and isinstance(tokens[0], tuple) else (tokens or [""])[0]
        for index, (folder, attributes, _) in enumerate(GMAIL_FOLDERS):
            if (folder == name or (folder == "INBOX" and name.upper() == "INBOX")) \
                    and "\\Noselect" not in attributes:
                break
        else:
            self.send("%s NO [NONEXISTENT] Unknown Mailbox: %s (Failure)\r\n" % (tag, name))
            return
        self.gmail_folder = index
        view = gmail_view(index)
        uidnext = (view[-1][0] if view else 10 * index) + 1
        self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n"
                  "* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY %d] ok\r\n"
                  "* OK [UIDNEXT %d] ok\r\n%s OK [READ-ONLY] %s (Success)\r\n"
                  % (len(view), UIDVALIDITY + index, uidnext, tag, verb))

    def cmd_EXAMINE(self, tag, rest, verb="EXAMINE"):
        if self.args.gmail:
            self.gmail_examine(tag, rest, verb)
            return
        if self.args.flood_after_login:
            while True:
                self.send("* OK still looking for your mailbox\r\n", drip=0)
                time.sleep(0.05)
        n = self.args.messages
        self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n"
                  "* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY %d] ok\r\n"
                  "* OK [UIDNEXT %d] ok\r\n%s OK [READ-ONLY] %s done\r\n"
                  % (n, UIDVALIDITY, n + 1, tag, verb))

    def cmd_SELECT(self, tag, rest):
        self.cmd_EXAMINE(tag, rest, "SELECT")

    def cmd_IDLE(self, tag, rest):
        self.send("+ idling\r\n")
        while self.read_line().upper() != "DONE":
            pass
        self.send("%s OK idle done\r\n" % tag)

    def uid_set(self, text, n=None):
        n = self.args.messages if n is None else n
        out = []
        for part in text.split(","):
            if ":" in part:
                a, b = part.split(":", 1)
                a = n if a == "*" else int(a)
                b = n if b == "*" else int(b)
                lo, hi = min(a, b), max(a, b)
                out.extend(range(max(lo, 1), min(hi, n) + 1))
            else:
                v = n if part == "*" else int(part)
                if 1 <= v <= n:
                    out.append(v)
        return sorted(set(out))

    def gmail_search(self, tag, rest):
        self.server.stats.record_search(rest)
        view = gmail_view(self.gmail_folder)
        top = view[-1][0] if view else 0
        tokens = search_tokens(rest)
        if len(tokens) >= 2 and tokens[0] == "CHARSET":
            tokens = tokens[2:]

        def value(t):
            return t[1] if isinstance(t, tuple) else t

        def key():
            t = tokens.pop(0)
            word = value(t).upper()
            if t == "(":
                preds = []
                while tokens and tokens[0] != ")":
                    preds.append(key())
                tokens.pop(0)
                return lambda uid, m: all(p(uid, m) for p in preds)
            if word == "ALL":
                return lambda uid, m: True
            if word == "NOT":
                inner = key()
                return lambda uid, m: not inner(uid, m)
            if word == "OR":
                a, b = key(), key()
                return lambda uid, m: a(uid, m) or b(uid, m)
            if word == "UID":
                allowed = set(self.uid_set(value(tokens.pop(0)), top))
                return lambda uid, m: uid in allowed
            if word == "X-GM-RAW":
                q = value(tokens.pop(0))
                return lambda uid, m: gmail_raw_matches(q, m[2], m[3])
            if word == "X-GM-LABELS":
                label = value(tokens.pop(0)).lower()
                return lambda uid, m: label in [l.lower() for l in m[2]]
            if word in ("X-GM-MSGID", "X-GM-THRID"):
                n = int(value(tokens.pop(0)))
                column = 0 if word == "X-GM-MSGID" else 1
                return lambda uid, m: m[column] == n
            if word == "SUBJECT":
                text = value(tokens.pop(0)).lower()
                return lambda uid, m: text in m[3].lower()
            raise ValueError("unsupported search key %s" % word)

        try:
            preds = []
            while tokens:
                preds.append(key())
        except (ValueError, IndexError) as e:
            self.send("%s BAD Could not parse command: %s\r\n" % (tag, e))
            return
        uids = [uid for uid, i in view if all(p(uid, GMAIL_MESSAGES[i]) for p in preds)]
        self.send("* SEARCH%s\r\n%s OK SEARCH completed (Success)\r\n"
                  % ("".join(" %d" % u for u in uids), tag))

    def cmd_UID_SEARCH(self, tag, rest):
        if self.args.gmail:
            self.gmail_search(tag, rest)
            return
        uids = list(range(1, self.args.messages + 1))
        m = re.search(r"\bUID (\S+)", rest, re.I)
        if m:
            allowed = set(self.uid_set(m.group(1)))
            uids = [u for u in uids if u in allowed]
        self.send("* SEARCH%s\r\n%s OK search done\r\n"
                  % ("".join(" %d" % u for u in uids), tag))

    def fetch_items(self, text):
        text = text.strip()
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
        items, depth, cur = [], 0, ""
        for ch in text:
            if ch in "[(":
                depth += 1
            elif ch in "])":
                depth -= 1
            if ch == " " and depth == 0:
                if cur:
                    items.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            items.append(cur)
        return items

    def section_bytes(self, message, section):
        header, _, body = message.partition(b"\r\n\r\n")
        header += b"\r\n\r\n"
        sec = section.upper()
        if sec == "":
            return message
        if sec == "HEADER":
            return header
        if sec == "TEXT" or sec == "1":
            return body
        m = re.match(r"HEADER\.FIELDS(\.NOT)? \((.*)\)", section, re.I)
        if m:
            names = [x.lower() for x in m.group(2).split()]
            keep = []
            for line in header.decode().split("\r\n"):
                if not line:
                    continue
                name = line.split(":", 1)[0].lower()
                if (name in names) != bool(m.group(1)):
                    keep.append(line + "\r\n")
            return ("".join(keep) + "\r\n").encode()
        return b""

    def fetch_one(self, uid, items, message=None, seq=None, gmail=None):
        if message is None:
            message = make_message(uid, self.args.body_size)
        out = [b"* %d FETCH (" % (uid if seq is None else seq)]
        first = True
        for item in items:
            up = item.upper()
            piece = None
            if up == "UID":
                piece = b"UID %d" % uid
            elif up == "FLAGS":
                piece = b"FLAGS ()"
            elif up == "INTERNALDATE":
                piece = b'INTERNALDATE "02-Jan-2024 10:00:00 +0000"'
            elif up == "RFC822.SIZE":
                piece = b"RFC822.SIZE %d" % len(message)
            elif up == "BODYSTRUCTURE" or up == "BODY":
                header, _, body = message.partition(b"\r\n\r\n")
                piece = (b'%s ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" %d %d NIL NIL NIL NIL)'
                         % (up.encode(), len(body), body.count(b"\n")))
            elif up.startswith("BODY.PEEK[") or up.startswith("BODY["):
                section = item[item.index("[") + 1:item.rindex("]")]
                data = self.section_bytes(message, section)
                piece = b"BODY[%s] {%d}\r\n%s" % (section.encode(), len(data), data)
            elif gmail is not None and up == "X-GM-LABELS":
                piece = ("X-GM-LABELS (%s)"
                         % " ".join(gmail_label_wire(l) for l in gmail[2])).encode()
            elif gmail is not None and up == "X-GM-MSGID":
                piece = b"X-GM-MSGID %d" % gmail[0]
            elif gmail is not None and up == "X-GM-THRID":
                piece = b"X-GM-THRID %d" % gmail[1]
            if piece is None:
                continue
            if not first:
                out.append(b" ")
            out.append(piece)
            first = False
        out.append(b")\r\n")
        return b"".join(out)

    def gmail_fetch(self, tag, set_text, items):
        view = gmail_view(self.gmail_folder)
        wanted = set(self.uid_set(set_text, view[-1][0] if view else 0))
        for seq, (uid, i) in enumerate(view, 1):
            if uid in wanted:
                self.send(self.fetch_one(uid, items, gmail_message(i), seq, GMAIL_MESSAGES[i]))
                self.fetched += 1
                self.server.stats.add("fetched")
        self.send("%s OK Success\r\n" % tag)

    def cmd_UID_FETCH(self, tag, rest):
        set_text, _, item_text = rest.partition(" ")
        items = self.fetch_items(item_text)
        if self.args.gmail:
            self.gmail_fetch(tag, set_text, items)
            return
        args = self.args
        for uid in self.uid_set(set_text):
            if args.drop_after and self.fetched >= args.drop_after:
                self.server.stats.add("faults")
                raise Closed()
            if uid == args.huge_literal:
                self.send("* %d FETCH (UID %d RFC822.SIZE 93000000000 BODY[] {93000000000}\r\n"
                          "Subject: a very large message\r\n" % (uid, uid))
                self.hold()
            if uid == args.garble or (uid == args.garble_once and self.server.first_garble(uid)):
                self.server.stats.add("faults")
                self.send("* %d FETCH (UID %d BODY[] \"unterminated\r\n" % (uid, uid))
                continue
            data = self.fetch_one(uid, items)
            if args.chaos is not None and self.rng.random() < args.chaos_rate:
                self.server.stats.add("faults")
                fault = self.rng.choice(["drop", "stall", "drip", "garble", "bye"])
                cut = self.rng.randrange(len(data))
                if fault == "drop":
                    self.send(data[:cut], drip=0)
                    raise Closed()
                if fault == "stall":
                    self.send(data[:cut], drip=0)
                    self.hold()
                if fault == "drip":
                    self.send(data[:cut], drip=0)
                    self.send(data[cut:cut + 40], drip=0.05)
                    raise Closed()
                if fault == "garble":
                    self.send(b"* %d FETCH (UID %d BODY[] \"garbled\r\n" % (uid, uid), drip=0)
                    continue
                if fault == "bye":
                    self.send(b"* BYE server shutting down\r\n", drip=0)
                    raise Closed()
            self.send(data)
            self.fetched += 1
            self.server.stats.add("fetched")
        self.send("%s OK fetch done\r\n" % tag)


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.authenticated = 0
        self.seed = args.chaos if args.chaos is not None else 1
        self.garbled = set()
        self.throttle_left = args.throttle
        self.stats = Stats(args.stats_file)

    def next_seed(self):
        with self.lock:
            self.seed += 1
            return self.seed

    def throttled(self):
        """Whether this login is one of the first --throttle ones."""
        with self.lock:
            if self.throttle_left <= 0:
                return False
            self.throttle_left -= 1
            return True

    def first_garble(self, uid):
        with self.lock:
            if uid in self.garbled:
                return False
            self.garbled.add(uid)
            return True

    def serve(self, sock):
        self.stats.add("connections")
        conn = Connection(self, sock)
        try:
            conn.run()
        except (Closed, OSError, ValueError):
            pass
        finally:
            if conn.logged_in:
                with self.lock:
                    self.authenticated -= 1
                self.stats.add("concurrent", -1)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            self.stats.add("closed")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=20)
    p.add_argument("--body-size", type=int, default=2000)
    p.add_argument("--greeting-stall", action="store_true",
                   help='send "* OK" without a line end, then nothing')
    p.add_argument("--flood-greeting", action="store_true",
                   help="send untagged lines forever instead of a greeting")
    p.add_argument("--flood-after-login", action="store_true",
                   help="answer EXAMINE/SELECT with untagged lines forever")
    p.add_argument("--drip", type=float, default=0.0,
                   help="seconds between the bytes of everything sent")
    p.add_argument("--drop-after", type=int, default=0,
                   help="close each connection after this many FETCH answers")
    p.add_argument("--huge-literal", type=int, default=0,
                   help="announce a 93 GB body for this UID, then hold")
    p.add_argument("--garble", type=int, default=0,
                   help="the FETCH answer for this UID never parses")
    p.add_argument("--garble-once", type=int, default=0,
                   help="the first FETCH answer for this UID does not parse")
    p.add_argument("--throttle", type=int, default=0,
                   help="refuse the first N logins as throttled ([THROTTLED] or BYE)")
    p.add_argument("--max-connections", type=int, default=0,
                   help="refuse logins beyond this many at once with [LIMIT]")
    p.add_argument("--starttls", default="none",
                   choices=["none", "strip", "refuse-bad", "refuse-no"])
    p.add_argument("--login-alert", default="", help="refuse LOGIN with this [ALERT]")
    p.add_argument("--gmail", action="store_true",
                   help="play a small Gmail account (X-GM-EXT-1, SPECIAL-USE, labels)")
    p.add_argument("--gmail-refuse", default="", choices=["", "app-password", "web-login"],
                   help="refuse every login as Gmail does (implies --gmail)")
    p.add_argument("--m365-refuse", action="store_true",
                   help="refuse every login as Microsoft 365 does: NO AUTHENTICATE failed.")
    p.add_argument("--vanishing-folder", default="", metavar="NAME",
                   help="list a few folders and NAME, whose STATUS answers NO [NONEXISTENT]")
    p.add_argument("--list-status", action="store_true",
                   help="with --vanishing-folder: offer LIST-EXTENDED and LIST-STATUS")
    p.add_argument("--stall-list", action="store_true",
                   help="with --vanishing-folder: never answer LIST")
    p.add_argument("--chaos", type=int, default=None, help="seed: faults at random")
    p.add_argument("--chaos-rate", type=float, default=0.02)
    p.add_argument("--stats-file", default="")
    args = p.parse_args()
    if args.gmail_refuse:
        args.gmail = True

    server = Server(args)
    if args.gmail:
        server.stats.searches = []
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    server.stats.write()
    print("PORT %d" % listener.getsockname()[1], flush=True)
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=server.serve, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
