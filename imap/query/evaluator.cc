#include "imap/query/evaluator.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "imap/util/utf8.h"

namespace imap::query {
namespace {

using imap::mime::MessageRecord;

// ------------------------------------------------------------ case folding

// Invalid UTF-8 bytes become code points above Unicode, so that they only
// match themselves (and never look like '%' or '_').
constexpr int32_t kRawByteBase = 0x110000;

// Simple (one code point to one) lower-casing for the scripts the query
// language promises: Latin, Greek and Cyrillic. Final sigma folds to sigma,
// as Unicode case folding does, so that 'ΟΔΟΣ' finds 'οδος' (written with ς).
int32_t LowerCodePoint(int32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  // Latin-1 Supplement (but not the multiplication sign).
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  // Latin Extended-A: pairs, capital first, with a few exceptions.
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';                                          // İ
    if (c == 0x178) return 0xFF;                                         // Ÿ
    if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;  // ı ĸ ŉ ſ
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
      return (c % 2 == 1) ? c + 1 : c;  // capitals on odd code points here
    }
    return (c % 2 == 0) ? c + 1 : c;
  }
  // Latin Extended Additional (Vietnamese and more): pairs, capital first.
  if (c >= 0x1E00 && c <= 0x1EFF) {
    if (c == 0x1E9E) return 0xDF;  // capital sharp s
    if (c >= 0x1E96 && c <= 0x1E9F) return c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  // Greek.
  if (c >= 0x370 && c <= 0x3FF) {
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
    if (c == 0x3C2) return 0x3C3;  // final sigma
    if (c >= 0x3D8 && c <= 0x3EF) return (c % 2 == 0) ? c + 1 : c;
    return c;
  }
  // Cyrillic and Cyrillic Supplement.
  if (c >= 0x400 && c <= 0x52F) {
    if (c <= 0x40F) return c + 80;
    if (c <= 0x42F) return c + 32;
    if (c >= 0x460 && c <= 0x481) return (c % 2 == 0) ? c + 1 : c;
    if (c >= 0x48A && c <= 0x4BF) return (c % 2 == 0) ? c + 1 : c;
    if (c == 0x4C0) return 0x4CF;
    if (c >= 0x4C1 && c <= 0x4CE) return (c % 2 == 1) ? c + 1 : c;
    if (c >= 0x4D0) return (c % 2 == 0) ? c + 1 : c;
    return c;
  }
  return c;
}

// `s` as lower-cased code points (invalid bytes as kRawByteBase + byte).
std::vector<int32_t> FoldToCodePoints(absl::string_view s) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const int32_t c = DecodeUtf8(s, &i);
    if (c < 0) {
      out.push_back(kRawByteBase + static_cast<unsigned char>(s[i]));
      ++i;
    } else {
      out.push_back(LowerCodePoint(c));
    }
  }
  return out;
}

// `s` lower-cased, as UTF-8 (invalid bytes kept). Substring search on the
// result is sound because UTF-8 is self-synchronising: a match of a folded
// needle starts and ends on character boundaries.
std::string FoldToUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(static_cast<char>(absl::ascii_tolower(b)));
      ++i;
      continue;
    }
    const int32_t c = DecodeUtf8(s, &i);
    if (c < 0) {
      out.push_back(s[i]);
      ++i;
    } else {
      AppendUtf8(static_cast<uint32_t>(LowerCodePoint(c)), &out);
    }
  }
  return out;
}

bool EqualsFolded(absl::string_view a, absl::string_view b) {
  return FoldToUtf8(a) == FoldToUtf8(b);
}

// Whole-value wildcard match: '%' any run, '_' one code point. Greedy with
// backtracking to the last '%' only, which is enough because a later '%'
// can absorb anything an earlier one could; each text position is retried
// at most once per pattern position: O(n * m) time, no extra memory.
bool LikeMatch(const std::vector<int32_t> &text, const std::vector<int32_t> &pattern) {
  const size_t n = text.size();
  const size_t m = pattern.size();
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t t = 0;
  size_t p = 0;
  size_t star = kNone;
  size_t resume = 0;
  while (t < n) {
    if (p < m && pattern[p] == '%') {
      star = p++;
      resume = t;
    } else if (p < m && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != kNone) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < m && pattern[p] == '%') ++p;
  return p == m;
}

// ------------------------------------------------------------ fields

enum class Kind {
  kInteger,
  kTimestamp,
  kText,     // one or more strings; any may match
  kAddress,  // mailboxes: name or address
  kTokens,   // flags, keywords, references: CONTAINS is membership
  kDefects,  // defects: CONTAINS is a substring of one of them
  kBoolean,
};

// Where a field's data comes from, for the missing-data check.
enum class Source { kAlways, kSize, kInternalDate, kRecord, kGmail, kServerOnly };

struct FieldInfo {
  absl::string_view name;
  Kind kind;
  Source source;
};

constexpr FieldInfo kFields[] = {
    {"uid", Kind::kInteger, Source::kAlways},
    {"uidvalidity", Kind::kInteger, Source::kAlways},
    {"size", Kind::kInteger, Source::kSize},
    {"folder", Kind::kText, Source::kAlways},
    {"flags", Kind::kTokens, Source::kAlways},
    {"keywords", Kind::kTokens, Source::kAlways},
    {"internal_date", Kind::kTimestamp, Source::kInternalDate},
    {"date", Kind::kTimestamp, Source::kRecord},
    {"subject", Kind::kText, Source::kRecord},
    {"message_id", Kind::kText, Source::kRecord},
    {"in_reply_to", Kind::kText, Source::kRecord},
    {"references", Kind::kTokens, Source::kRecord},
    {"header", Kind::kText, Source::kRecord},
    {"from", Kind::kAddress, Source::kRecord},
    {"sender", Kind::kAddress, Source::kRecord},
    {"reply_to", Kind::kAddress, Source::kRecord},
    {"to", Kind::kAddress, Source::kRecord},
    {"cc", Kind::kAddress, Source::kRecord},
    {"bcc", Kind::kAddress, Source::kRecord},
    {"text_body", Kind::kText, Source::kRecord},
    {"html_body", Kind::kText, Source::kRecord},
    {"body", Kind::kText, Source::kRecord},
    {"attachment_name", Kind::kText, Source::kRecord},
    {"attachment_type", Kind::kText, Source::kRecord},
    {"has_attachment", Kind::kBoolean, Source::kRecord},
    {"defects", Kind::kDefects, Source::kRecord},
    {"gmail_labels", Kind::kTokens, Source::kGmail},
    {"gmail_msgid", Kind::kInteger, Source::kGmail},
    {"gmail_thread_id", Kind::kInteger, Source::kGmail},
    {"gmail_raw", Kind::kText, Source::kServerOnly},
};

const FieldInfo *FindField(absl::string_view name) {
  for (const FieldInfo &f : kFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Label(const Field &f) {
  return f.name == "header" ? absl::StrCat("header('", f.header_name, "')") : f.name;
}

std::string At(const Position &p) {
  return absl::StrCat("line ", p.line, ", column ", p.column, ": ");
}

bool OperatorFits(Kind kind, Operator op) {
  switch (kind) {
    case Kind::kInteger:
      return op != Operator::kContains && op != Operator::kLike;
    case Kind::kTimestamp:
      return op != Operator::kContains && op != Operator::kLike && op != Operator::kIn;
    case Kind::kText:
    case Kind::kAddress:
      return op == Operator::kEq || op == Operator::kNe || op == Operator::kContains ||
             op == Operator::kLike || op == Operator::kIn;
    case Kind::kTokens:
    case Kind::kDefects:
      return op == Operator::kContains || op == Operator::kIn;
    case Kind::kBoolean:
      return op == Operator::kEq || op == Operator::kNe;
  }
  return false;
}

Literal::Kind LiteralKindFor(Kind kind) {
  switch (kind) {
    case Kind::kInteger:
      return Literal::Kind::kNumber;
    case Kind::kTimestamp:
      return Literal::Kind::kTimestamp;
    case Kind::kBoolean:
      return Literal::Kind::kBoolean;
    default:
      return Literal::Kind::kString;
  }
}

// Checks one comparison before anything is evaluated: that it is well
// formed and that the data it needs was fetched.
absl::Status CheckCompare(const Expr &e, const MessageFacts &facts) {
  const FieldInfo *info = FindField(e.field.name);
  if (info == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(At(e.field.position), "cannot filter on '", e.field.name, "'"));
  }
  if (!OperatorFits(info->kind, e.op)) {
    return absl::InvalidArgumentError(absl::StrCat(
        At(e.field.position), Label(e.field), " cannot be compared with ", OperatorName(e.op)));
  }
  if (e.values.empty() || (e.op != Operator::kIn && e.values.size() != 1)) {
    return absl::InvalidArgumentError(absl::StrCat(At(e.field.position), Label(e.field), " ",
                                                   OperatorName(e.op), " has ", e.values.size(),
                                                   " values"));
  }
  for (const Literal &v : e.values) {
    if (v.kind != LiteralKindFor(info->kind)) {
      return absl::InvalidArgumentError(
          absl::StrCat(At(v.position), "a value of the wrong kind for ", Label(e.field)));
    }
  }
  switch (info->source) {
    case Source::kAlways:
      break;
    case Source::kSize:
      if (!facts.size.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            At(e.field.position), "cannot evaluate size: RFC822.SIZE was not fetched"));
      }
      break;
    case Source::kInternalDate:
      if (!facts.internal_date.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            At(e.field.position), "cannot evaluate internal_date: INTERNALDATE was not fetched"));
      }
      break;
    case Source::kGmail: {
      const bool fetched = e.field.name == "gmail_labels" ? facts.gmail_labels.has_value()
                           : e.field.name == "gmail_msgid" ? facts.gmail_msgid.has_value()
                                                           : facts.gmail_thread_id.has_value();
      if (!fetched) {
        return absl::FailedPreconditionError(absl::StrCat(
            At(e.field.position), "cannot evaluate ", e.field.name,
            ": it was not fetched (X-GM-LABELS, X-GM-MSGID, X-GM-THRID)"));
      }
      break;
    }
    case Source::kServerOnly:
      return absl::FailedPreconditionError(absl::StrCat(
          At(e.field.position), "cannot evaluate ", e.field.name,
          " on the client: only the server runs a Gmail search"));
    case Source::kRecord:
      if (facts.record == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat(At(e.field.position), "cannot evaluate ", Label(e.field),
                         ": the message (header or body) was not fetched"));
      }
      break;
  }
  return absl::OkStatus();
}

absl::Status Check(const Expr &e, const MessageFacts &facts) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
      break;
    case Expr::Kind::kNot:
      if (e.children.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(At(e.position), "NOT with ", e.children.size(), " operands"));
      }
      break;
    case Expr::Kind::kFlag: {
      static constexpr absl::string_view kFlags[] = {"seen",    "answered", "flagged",
                                                     "deleted", "draft",    "recent"};
      if (std::find(std::begin(kFlags), std::end(kFlags), e.flag) == std::end(kFlags)) {
        return absl::InvalidArgumentError(
            absl::StrCat(At(e.position), "unknown flag '", e.flag, "'"));
      }
      return absl::OkStatus();
    }
    case Expr::Kind::kCompare:
      return CheckCompare(e, facts);
  }
  for (const Expr &c : e.children) {
    absl::Status s = Check(c, facts);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------ comparisons

// a <=> b for an unsigned value against a (non-negative) literal.
int CompareNumbers(uint64_t a, int64_t b) {
  if (b < 0) return 1;
  const auto ub = static_cast<uint64_t>(b);
  return a < ub ? -1 : (a > ub ? 1 : 0);
}

bool Ordered(int cmp, Operator op) {
  switch (op) {
    case Operator::kEq:
    case Operator::kIn:
      return cmp == 0;
    case Operator::kNe:
      return cmp != 0;
    case Operator::kLt:
      return cmp < 0;
    case Operator::kLe:
      return cmp <= 0;
    case Operator::kGt:
      return cmp > 0;
    case Operator::kGe:
      return cmp >= 0;
    default:
      return false;
  }
}

bool MatchInteger(uint64_t value, const Expr &e) {
  if (e.op == Operator::kIn) {
    for (const Literal &v : e.values) {
      if (CompareNumbers(value, v.number) == 0) return true;
    }
    return false;
  }
  return Ordered(CompareNumbers(value, e.values[0].number), e.op);
}

bool MatchTimestamp(const absl::optional<absl::Time> &value, const Expr &e) {
  if (!value.has_value()) return false;  // e.g. an unreadable Date header
  const absl::Time t = *value;
  const Literal &v = e.values[0];
  if (!v.date_only) return Ordered(t < v.time ? -1 : (t > v.time ? 1 : 0), e.op);
  // The literal is the UTC day [start, end).
  const absl::CivilDay day = absl::ToCivilDay(v.time, absl::UTCTimeZone());
  const absl::Time start = absl::FromCivil(day, absl::UTCTimeZone());
  const absl::Time end = absl::FromCivil(day + 1, absl::UTCTimeZone());
  const int cmp = t < start ? -1 : (t >= end ? 1 : 0);
  return Ordered(cmp, e.op);
}

// One string a text condition may match. `fold_eq`: `=` ignores case
// (addresses, content types, flags) instead of comparing bytes.
struct Candidate {
  absl::string_view text;
  bool fold_eq = false;
};

bool CandidateEquals(const Candidate &c, absl::string_view literal) {
  return c.fold_eq ? EqualsFolded(c.text, literal) : c.text == literal;
}

// Applies a text operator to the candidates: true if any matches; `!=` is
// the negation of `=`. `contains_is_membership`: CONTAINS means "one
// candidate equals" (folded), as for flags.
bool MatchCandidates(const std::vector<Candidate> &candidates, const Expr &e,
                     bool contains_is_membership) {
  switch (e.op) {
    case Operator::kEq:
    case Operator::kNe:
    case Operator::kIn: {
      bool any = false;
      for (const Candidate &c : candidates) {
        for (const Literal &v : e.values) {
          if (CandidateEquals(c, v.text)) {
            any = true;
            break;
          }
        }
        if (any) break;
      }
      return e.op == Operator::kNe ? !any : any;
    }
    case Operator::kContains: {
      const std::string needle = FoldToUtf8(e.values[0].text);
      for (const Candidate &c : candidates) {
        if (contains_is_membership) {
          if (FoldToUtf8(c.text) == needle) return true;
        } else if (FoldToUtf8(c.text).find(needle) != std::string::npos) {
          return true;
        }
      }
      return false;
    }
    case Operator::kLike: {
      const std::vector<int32_t> pattern = FoldToCodePoints(e.values[0].text);
      for (const Candidate &c : candidates) {
        if (LikeMatch(FoldToCodePoints(c.text), pattern)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

bool HasFlag(const std::vector<std::string> &flags, absl::string_view flag) {
  for (const std::string &f : flags) {
    if (absl::EqualsIgnoreCase(f, flag)) return true;
  }
  return false;
}

const std::vector<imap::mime::Mailbox> &Mailboxes(const MessageRecord &r, absl::string_view f) {
  if (f == "from") return r.from;
  if (f == "sender") return r.sender;
  if (f == "reply_to") return r.reply_to;
  if (f == "to") return r.to;
  if (f == "cc") return r.cc;
  return r.bcc;
}

bool EvalCompare(const Expr &e, const MessageFacts &facts) {
  const std::string &f = e.field.name;
  const FieldInfo &info = *FindField(f);  // Check() saw it
  const MessageRecord *r = facts.record;
  switch (info.kind) {
    case Kind::kInteger: {
      const uint64_t value = f == "uid"               ? facts.uid
                             : f == "uidvalidity"     ? facts.uid_validity
                             : f == "gmail_msgid"     ? *facts.gmail_msgid
                             : f == "gmail_thread_id" ? *facts.gmail_thread_id
                                                      : *facts.size;
      return MatchInteger(value, e);
    }
    case Kind::kTimestamp:
      return MatchTimestamp(f == "date" ? r->date.utc : facts.internal_date, e);
    case Kind::kBoolean: {
      const bool value = !r->attachments.empty();  // has_attachment
      const bool wanted = e.values[0].number != 0;
      return e.op == Operator::kEq ? value == wanted : value != wanted;
    }
    case Kind::kAddress: {
      std::vector<Candidate> candidates;
      for (const imap::mime::Mailbox &m : Mailboxes(*r, f)) {
        candidates.push_back({m.address, /*fold_eq=*/true});
        if (!m.name.empty()) candidates.push_back({m.name, false});
      }
      return MatchCandidates(candidates, e, false);
    }
    case Kind::kTokens: {
      std::vector<Candidate> candidates;
      if (f == "references") {
        for (const std::string &id : r->references) candidates.push_back({id, true});
      } else if (f == "gmail_labels") {
        // Gmail treats label names case-insensitively.
        for (const std::string &label : *facts.gmail_labels) candidates.push_back({label, true});
      } else {
        const bool system = f == "flags";
        for (const std::string &flag : facts.flags) {
          if (absl::StartsWith(flag, "\\") == system) candidates.push_back({flag, true});
        }
      }
      return MatchCandidates(candidates, e, /*contains_is_membership=*/true);
    }
    case Kind::kDefects: {
      std::vector<std::string> texts;
      for (const imap::mime::Defect &d : r->defects)
        texts.push_back(absl::StrCat(d.where, ": ", d.what));
      std::vector<Candidate> candidates;
      for (const std::string &t : texts) candidates.push_back({t, false});
      return MatchCandidates(candidates, e, false);
    }
    case Kind::kText:
      break;
  }
  std::vector<Candidate> candidates;
  if (f == "folder") {
    // IMAP's INBOX is case-insensitive (RFC 3501 5.1); other names are not.
    const bool inbox = absl::EqualsIgnoreCase(facts.folder, "INBOX");
    candidates.push_back({facts.folder, inbox});
  } else if (f == "subject") {
    candidates.push_back({r->subject});
  } else if (f == "message_id") {
    candidates.push_back({r->message_id});
  } else if (f == "in_reply_to") {
    candidates.push_back({r->in_reply_to});
  } else if (f == "text_body" || f == "html_body") {
    const absl::optional<std::string> &body = f == "text_body" ? r->text_body : r->html_body;
    candidates.push_back({body.has_value() ? absl::string_view(*body) : absl::string_view()});
  } else if (f == "body") {
    if (r->text_body.has_value()) candidates.push_back({*r->text_body});
    if (r->html_body.has_value()) candidates.push_back({*r->html_body});
    if (candidates.empty()) candidates.push_back({absl::string_view()});
  } else if (f == "header") {
    for (const imap::mime::HeaderValue &h : r->headers) {
      if (absl::EqualsIgnoreCase(h.name, e.field.header_name)) candidates.push_back({h.value});
    }
  } else if (f == "attachment_name") {
    for (const imap::mime::Attachment &a : r->attachments) {
      if (!a.filename.empty()) candidates.push_back({a.filename});
    }
  } else if (f == "attachment_type") {
    for (const imap::mime::Attachment &a : r->attachments) {
      candidates.push_back({a.content_type, /*fold_eq=*/true});
    }
  }
  return MatchCandidates(candidates, e, false);
}

bool Eval(const Expr &e, const MessageFacts &facts) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
      for (const Expr &c : e.children) {
        if (!Eval(c, facts)) return false;
      }
      return true;
    case Expr::Kind::kOr:
      for (const Expr &c : e.children) {
        if (Eval(c, facts)) return true;
      }
      return false;
    case Expr::Kind::kNot:
      return !Eval(e.children[0], facts);
    case Expr::Kind::kFlag:
      return HasFlag(facts.flags, absl::StrCat("\\", e.flag));
    case Expr::Kind::kCompare:
      return EvalCompare(e, facts);
  }
  return false;
}

void CollectFields(const Expr &e, std::set<std::string> *out) {
  if (e.kind == Expr::Kind::kCompare) out->insert(e.field.name);
  if (e.kind == Expr::Kind::kFlag) out->insert("flags");
  for (const Expr &c : e.children) CollectFields(c, out);
}

}  // namespace

absl::StatusOr<bool> Evaluate(const Expr &expr, const MessageFacts &facts) {
  absl::Status s = Check(expr, facts);
  if (!s.ok()) return s;
  return Eval(expr, facts);
}

std::vector<std::string> FieldsUsed(const Expr &expr) {
  std::set<std::string> fields;
  CollectFields(expr, &fields);
  return std::vector<std::string>(fields.begin(), fields.end());
}

}  // namespace imap::query
