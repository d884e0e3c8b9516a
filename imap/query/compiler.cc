#include "imap/query/compiler.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "imap/query/evaluator.h"
#include "imap/query/schema.h"
#include "imap/wire/command_writer.h"
#include "imap/wire/mutf7.h"

namespace imap::query {
namespace {

constexpr uint64_t kMaxUid = std::numeric_limits<uint32_t>::max();

// One search key as compiled: the parts of a single key (parenthesised if
// it holds several), whether it matches exactly what the predicate
// matches (else it matches a superset), and `all` for "no restriction".
struct Pushed {
  std::vector<SearchPart> key;
  bool exact = true;
  bool all = false;
  // Whether `key` is one search key (else several, ANDed, that need
  // parentheses under NOT and OR).
  bool single = true;
};

Pushed All(bool exact) {
  Pushed p;
  p.all = true;
  p.exact = exact;
  return p;
}

Pushed Key(std::string syntax, bool exact = true, bool single = true) {
  Pushed p;
  p.key.push_back({false, std::move(syntax)});
  p.exact = exact;
  p.single = single;
  return p;
}

Pushed KeyWithString(std::string syntax, std::string value, bool exact) {
  Pushed p;
  p.key.push_back({false, std::move(syntax)});
  p.key.push_back({true, std::move(value)});
  p.exact = exact;
  return p;
}

// Nothing matches; "NOT ALL" is a valid search key.
Pushed None() { return Key("NOT ALL"); }

bool IsAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Wraps several keys in parentheses, so they can stand as one.
std::vector<SearchPart> Grouped(const Pushed& p) {
  if (p.single) return p.key;
  std::vector<SearchPart> out;
  out.push_back({false, "("});
  out.insert(out.end(), p.key.begin(), p.key.end());
  out.push_back({false, ")"});
  return out;
}

std::string ImapDate(absl::CivilDay day) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return absl::StrCat(day.day(), "-", kMonths[day.month() - 1], "-", day.year());
}

// SEARCH compares dates by day, in a time zone it chooses (the server's for
// internal dates, the header's own for Date): a day either side of ours
// covers every zone. The exact comparison is left to the client.
Pushed DateRange(absl::string_view since_key, absl::string_view before_key, Operator op,
                 const Literal& value) {
  const absl::CivilDay day = absl::ToCivilDay(value.time, absl::UTCTimeZone());
  switch (op) {
    case Operator::kGe:
    case Operator::kGt:
      return Key(absl::StrCat(since_key, " ", ImapDate(day - 1)), false);
    case Operator::kLt:
    case Operator::kLe:
      return Key(absl::StrCat(before_key, " ", ImapDate(day + 2)), false);
    case Operator::kEq:
      return Key(absl::StrCat(since_key, " ", ImapDate(day - 1), " ", before_key, " ",
                              ImapDate(day + 2)),
                 false, /*single=*/false);
    default:
      return All(false);
  }
}

// The longest run of a LIKE pattern without wildcards: every match holds it.
std::string LongestLiteral(absl::string_view pattern) {
  std::string best;
  std::string current;
  for (char c : pattern) {
    if (c == '%' || c == '_') {
      if (current.size() > best.size()) best = current;
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  return current.size() > best.size() ? current : best;
}

Pushed Or(Pushed a, Pushed b) {
  // "Everything" on one side: everything, exactly so if that side is exact.
  if ((a.all && a.exact) || (b.all && b.exact)) return All(true);
  if (a.all || b.all) return All(false);
  Pushed p;
  p.exact = a.exact && b.exact;
  p.key.push_back({false, "OR"});
  for (SearchPart& part : Grouped(a)) p.key.push_back(std::move(part));
  for (SearchPart& part : Grouped(b)) p.key.push_back(std::move(part));
  return p;
}

// The SEARCH key for text in a field ("SUBJECT", "FROM", "HEADER X-Y",
// "BODY"), exact or as a superset.
Pushed TextKey(const std::string& key, Operator op, const std::vector<Literal>& values,
               bool contains_is_exact) {
  const bool is_header = key.rfind("HEADER ", 0) == 0;
  auto one = [&](const std::string& needle, bool exact) -> Pushed {
    // Every text contains "", but only a present header has a text:
    // HEADER X "" asks for messages that have X (RFC 3501 6.4.4).
    if (needle.empty()) return is_header ? KeyWithString(key, "", exact) : All(exact);
    if (!IsAscii(needle)) return All(false);  // server case folding may differ
    return KeyWithString(key, needle, exact);
  };
  switch (op) {
    case Operator::kContains:
      return one(values[0].text, contains_is_exact);
    case Operator::kEq:
      return one(values[0].text, false);
    case Operator::kLike:
      return one(LongestLiteral(values[0].text), false);
    case Operator::kIn: {
      // OR of supersets, nested two at a time.
      Pushed acc = one(values[0].text, false);
      for (size_t i = 1; i < values.size(); ++i) acc = Or(std::move(acc), one(values[i].text, false));
      return acc;
    }
    default:
      return All(false);
  }
}

Pushed CompileCompare(const Expr& e) {
  const std::string& f = e.field.name;
  const std::vector<Literal>& v = e.values;
  if (f == "uid") {
    auto range = [](uint64_t lo, uint64_t hi) -> Pushed {
      if (lo < 1) lo = 1;
      if (hi > kMaxUid) hi = kMaxUid;
      if (lo > hi) return None();
      // An explicit top, not "*": "n:*" also matches the last message when
      // every UID is below n (RFC 3501 6.4.8).
      return Key(lo == hi ? absl::StrCat("UID ", lo) : absl::StrCat("UID ", lo, ":", hi));
    };
    const auto n = static_cast<uint64_t>(std::max<int64_t>(0, v[0].number));
    switch (e.op) {
      case Operator::kEq:
        return range(n, n);
      case Operator::kNe: {
        Pushed p = range(n, n);
        if (p.key[0].text == "NOT ALL") return All(true);
        p.key.insert(p.key.begin(), {false, "NOT"});
        return p;
      }
      case Operator::kLt:
        return n == 0 ? None() : range(1, n - 1);
      case Operator::kLe:
        return range(1, n);
      case Operator::kGt:
        return range(n + 1, kMaxUid);
      case Operator::kGe:
        return range(n, kMaxUid);
      case Operator::kIn: {
        std::set<uint64_t> uids;
        for (const Literal& l : v) {
          if (l.number >= 1 && static_cast<uint64_t>(l.number) <= kMaxUid) {
            uids.insert(static_cast<uint64_t>(l.number));
          }
        }
        if (uids.empty()) return None();
        std::string set;
        for (uint64_t u : uids) absl::StrAppend(&set, set.empty() ? "" : ",", u);
        return Key(absl::StrCat("UID ", set));
      }
      default:
        return All(false);
    }
  }
  if (f == "size") {
    const int64_t n = v[0].number;
    switch (e.op) {
      case Operator::kGt:
        return Key(absl::StrCat("LARGER ", n));
      case Operator::kGe:
        return n == 0 ? All(true) : Key(absl::StrCat("LARGER ", n - 1));
      case Operator::kLt:
        return n == 0 ? None() : Key(absl::StrCat("SMALLER ", n));
      case Operator::kLe:
        return Key(absl::StrCat("SMALLER ", n + 1));
      case Operator::kEq:
        return n == 0 ? Key("SMALLER 1")
                      : Key(absl::StrCat("LARGER ", n - 1, " SMALLER ", n + 1), true, false);
      case Operator::kNe:
        return n == 0 ? Key("LARGER 0")
                      : Key(absl::StrCat("OR SMALLER ", n, " LARGER ", n));
      default:
        return All(false);  // IN: left to the client
    }
  }
  if (f == "internal_date") return DateRange("SINCE", "BEFORE", e.op, v[0]);
  if (f == "date") return DateRange("SENTSINCE", "SENTBEFORE", e.op, v[0]);
  if (f == "subject") return TextKey("SUBJECT", e.op, v, /*contains_is_exact=*/true);
  // SEARCH BODY also looks into attachments and other parts: a superset of
  // our "body" (the text and HTML bodies).
  if (f == "body" || f == "text_body" || f == "html_body") return TextKey("BODY", e.op, v, false);
  if (f == "header") {
    if (!wire::IsAtom(e.field.header_name)) return All(false);
    return TextKey(absl::StrCat("HEADER ", e.field.header_name), e.op, v, true);
  }
  if (f == "message_id" || f == "in_reply_to") {
    return TextKey(f == "message_id" ? "HEADER Message-ID" : "HEADER In-Reply-To", e.op, v, true);
  }
  if (f == "from" || f == "to" || f == "cc" || f == "bcc") {
    // The server matches the header's text, where a string can also span
    // name and address ("Smith <"): a superset of "any address matches".
    return TextKey(absl::AsciiStrToUpper(f), e.op, v, false);
  }
  if (f == "reply_to" || f == "sender") {
    return TextKey(f == "reply_to" ? "HEADER Reply-To" : "HEADER Sender", e.op, v, false);
  }
  if (f == "keywords" || f == "flags") {
    static constexpr std::pair<absl::string_view, absl::string_view> kSystem[] = {
        {"\\seen", "SEEN"},       {"\\answered", "ANSWERED"}, {"\\flagged", "FLAGGED"},
        {"\\deleted", "DELETED"}, {"\\draft", "DRAFT"},       {"\\recent", "RECENT"}};
    Pushed acc;
    bool first = true;
    for (const Literal& l : v) {
      Pushed p;
      if (f == "flags") {
        // A system flag SEARCH knows; other "\X" flags are checked on the
        // client; without a backslash it is a keyword, never in flags.
        p = l.text.empty() || l.text[0] != '\\' ? None() : All(false);
        for (const auto& [name, key] : kSystem) {
          if (absl::AsciiStrToLower(l.text) == name) p = Key(std::string(key));
        }
      } else {
        p = wire::IsAtom(l.text) && l.text[0] != '\\' ? Key(absl::StrCat("KEYWORD ", l.text))
                                                     : All(false);
      }
      acc = first ? std::move(p) : Or(std::move(acc), std::move(p));
      first = false;
    }
    return acc;
  }
  if (f == "gmail_raw") {
    // Gmail's own search syntax: the server decides, exactly (the
    // compiler refuses plans that would leave it to the client).
    return KeyWithString("X-GM-RAW", v[0].text, /*exact=*/true);
  }
  if (f == "gmail_labels") {
    // Labels are named like folders on the wire (modified UTF-7). ASCII
    // names match exactly as the client would (case-insensitively); for
    // others Gmail's case folding may differ from ours, so the client
    // checks again.
    Pushed acc;
    bool first = true;
    for (const Literal& l : v) {
      Pushed p = All(false);
      absl::StatusOr<std::string> wire_name = wire::EncodeMailboxName(l.text);
      if (wire_name.ok()) p = KeyWithString("X-GM-LABELS", *wire_name, IsAscii(l.text));
      acc = first ? std::move(p) : Or(std::move(acc), std::move(p));
      first = false;
    }
    return acc;
  }
  if (f == "gmail_msgid" || f == "gmail_thread_id") {
    // Gmail searches ids by equality only; ranges are left to the client.
    const std::string key = f == "gmail_msgid" ? "X-GM-MSGID" : "X-GM-THRID";
    if (e.op == Operator::kEq) return Key(absl::StrCat(key, " ", v[0].number));
    if (e.op == Operator::kIn) {
      Pushed acc = Key(absl::StrCat(key, " ", v[0].number));
      for (size_t i = 1; i < v.size(); ++i) {
        acc = Or(std::move(acc), Key(absl::StrCat(key, " ", v[i].number)));
      }
      return acc;
    }
    if (e.op == Operator::kNe) return Key(absl::StrCat("NOT ", key, " ", v[0].number));
    return All(false);
  }
  // has_attachment, attachment_name, attachment_type, uidvalidity, folder:
  // the client decides.
  return All(false);
}

Pushed Compile(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kFlag:
      return Key(absl::AsciiStrToUpper(e.flag));
    case Expr::Kind::kNot: {
      Pushed inner = Compile(e.children[0]);
      if (!inner.exact) return All(false);
      if (inner.all) return None();
      Pushed p;
      p.key.push_back({false, "NOT"});
      for (SearchPart& part : Grouped(inner)) p.key.push_back(std::move(part));
      return p;
    }
    case Expr::Kind::kAnd: {
      Pushed p;
      int keys = 0;
      for (const Expr& child : e.children) {
        Pushed c = Compile(child);
        p.exact = p.exact && c.exact;
        if (c.all) continue;
        keys += c.single ? 1 : 2;
        for (SearchPart& part : c.key) p.key.push_back(std::move(part));
      }
      if (keys == 0) return All(p.exact);
      p.single = keys == 1;
      return p;
    }
    case Expr::Kind::kOr: {
      Pushed acc = Compile(e.children[0]);
      for (size_t i = 1; i < e.children.size(); ++i) acc = Or(std::move(acc), Compile(e.children[i]));
      return acc;
    }
    case Expr::Kind::kCompare:
      return CompileCompare(e);
  }
  return All(false);
}

// What a plan must fetch: FETCH items, the header fields it reads (when it
// needs no more of the header than those), and whether it needs it whole.
struct Needs {
  std::set<std::string> items;
  std::set<std::string> header_fields;  // upper case, e.g. "SUBJECT"
  bool whole_header = false;
  bool whole_message = false;
  bool text_parts = false;  // text_body, html_body, body
};

// A header name that can go into HEADER.FIELDS as an atom.
bool IsPlainHeaderName(absl::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// Adds to `need` what fetching `field` requires; `header_name` is the
// name inside header('X').
void Need(absl::string_view field, absl::string_view header_name, Needs* need) {
  if (field == "flags" || field == "keywords") need->items.insert("FLAGS");
  if (field == "internal_date") need->items.insert("INTERNALDATE");
  if (field == "size") need->items.insert("RFC822.SIZE");
  if (field == "gmail_labels") need->items.insert("X-GM-LABELS");
  if (field == "gmail_msgid") need->items.insert("X-GM-MSGID");
  if (field == "gmail_thread_id") need->items.insert("X-GM-THRID");
  // Columns read from one or two header fields: only those are fetched
  // (servers answer them from their caches, without opening the message).
  static constexpr std::pair<absl::string_view, absl::string_view> kFieldHeaders[] = {
      {"message_id", "MESSAGE-ID"}, {"subject", "SUBJECT"},     {"from", "FROM"},
      {"sender", "SENDER"},         {"to", "TO"},               {"cc", "CC"},
      {"bcc", "BCC"},               {"reply_to", "REPLY-TO"},   {"date", "DATE"},
      {"in_reply_to", "IN-REPLY-TO"}, {"references", "REFERENCES"}};
  for (const auto& [column, header] : kFieldHeaders) {
    if (field == column) need->header_fields.insert(std::string(header));
  }
  if (field == "header") {
    if (IsPlainHeaderName(header_name)) {
      need->header_fields.insert(absl::AsciiStrToUpper(header_name));
    } else {
      need->whole_header = true;
    }
  }
  if (field == "headers") need->whole_header = true;
  static constexpr absl::string_view kTextFields[] = {"text_body", "html_body", "body"};
  for (absl::string_view t : kTextFields) {
    if (field == t) need->text_parts = true;
  }
  static constexpr absl::string_view kBodyFields[] = {
      "attachments", "has_attachment", "attachment_name", "attachment_type", "raw", "defects"};
  for (absl::string_view b : kBodyFields) {
    if (field == b) need->whole_message = true;
  }
}

void NeedForExpr(const Expr& e, Needs* need) {
  if (e.kind == Expr::Kind::kCompare) Need(e.field.name, e.field.header_name, need);
  if (e.kind == Expr::Kind::kFlag) need->items.insert("FLAGS");
  for (const Expr& c : e.children) NeedForExpr(c, need);
}

}  // namespace

void RequireGmailMessageIds(Plan* plan, absl::string_view why) {
  if (plan->fetch_items.find("X-GM-MSGID") == std::string::npos &&
      absl::StartsWith(plan->fetch_items, "(UID")) {
    plan->fetch_items.insert(4, " X-GM-MSGID");
  }
  if (std::find(plan->gmail_fields.begin(), plan->gmail_fields.end(), why) ==
      plan->gmail_fields.end()) {
    plan->gmail_fields.push_back(std::string(why));
  }
}

std::string SearchText(const std::vector<SearchPart>& parts) {
  std::string out;
  for (const SearchPart& p : parts) {
    if (!out.empty() && p.text != ")" && out.back() != '(') out.push_back(' ');
    if (p.is_string) {
      absl::StrAppend(&out, "\"", p.text, "\"");
    } else {
      out += p.text;
    }
  }
  return out;
}

absl::StatusOr<Plan> Compile(const Query& query) {
  Plan plan;
  plan.folders = query.folders;
  plan.descending = query.descending;
  plan.limit = query.limit;
  if (query.columns.empty()) {
    for (const Column& c : Columns()) {
      if (c.in_default_set) plan.columns.push_back(std::string(c.name));
    }
  } else {
    plan.columns = query.columns;
  }

  if (query.where.has_value()) {
    const Expr& where = *query.where;
    Pushed pushed = Compile(where);
    plan.search_is_exact = pushed.exact;
    plan.search = pushed.all ? std::vector<SearchPart>{{false, "ALL"}} : pushed.key;
    if (!pushed.exact) {
      // Under a top-level AND only the inexact conditions need checking.
      if (where.kind == Expr::Kind::kAnd) {
        Expr rest;
        rest.kind = Expr::Kind::kAnd;
        rest.position = where.position;
        for (const Expr& child : where.children) {
          if (!Compile(child).exact) rest.children.push_back(child);
        }
        plan.residual = rest.children.size() == 1 ? rest.children[0] : rest;
      } else {
        plan.residual = where;
      }
    }
  } else {
    plan.search = {{false, "ALL"}};
  }
  if (plan.residual.has_value()) {
    const std::vector<std::string> used = FieldsUsed(*plan.residual);
    if (std::find(used.begin(), used.end(), "gmail_raw") != used.end()) {
      return absl::InvalidArgumentError(
          "gmail_raw is a Gmail search only the server can run, and here it would have to be "
          "checked on each message: combine it with AND, or with OR only with conditions IMAP "
          "SEARCH decides exactly (not LIKE, body, attachments, dates)");
    }
  }
  // What needs a Gmail server, in the order the query names it.
  auto note_gmail = [&plan](const std::string& field) {
    if (IsGmailField(field) && std::find(plan.gmail_fields.begin(), plan.gmail_fields.end(),
                                         field) == plan.gmail_fields.end()) {
      plan.gmail_fields.push_back(field);
    }
  };
  for (const std::string& c : plan.columns) note_gmail(c);
  if (query.where.has_value()) {
    for (const std::string& f : FieldsUsed(*query.where)) note_gmail(f);
  }

  plan.needs_header_list =
      std::find(plan.columns.begin(), plan.columns.end(), "headers") != plan.columns.end();
  if (plan.residual.has_value()) {
    const std::vector<std::string> used = FieldsUsed(*plan.residual);
    plan.needs_header_list |= std::find(used.begin(), used.end(), "header") != used.end();
  }
  Needs need;
  for (const std::string& c : plan.columns) Need(c, "", &need);
  if (plan.residual.has_value()) NeedForExpr(*plan.residual, &need);
  plan.needs_full_message = need.whole_message;
  std::vector<std::string> items = {"UID"};
  for (const char* item :
       {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "X-GM-LABELS", "X-GM-MSGID", "X-GM-THRID"}) {
    if (need.items.count(item)) items.push_back(item);
  }
  plan.text_parts_only = need.text_parts && !need.whole_message;
  if (plan.text_parts_only) items.push_back("BODYSTRUCTURE");
  if (need.whole_message) {
    items.push_back("BODY.PEEK[]");
  } else if (need.whole_header) {
    items.push_back("BODY.PEEK[HEADER]");
  } else if (!need.header_fields.empty()) {
    items.push_back(absl::StrCat("BODY.PEEK[HEADER.FIELDS (", absl::StrJoin(need.header_fields, " "), ")]"));
  }
  plan.fetch_items = absl::StrCat("(", absl::StrJoin(items, " "), ")");
  return plan;
}

}  // namespace imap::query
