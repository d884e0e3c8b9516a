#include "imap/wire/fetch_data.h"

#include <cstddef>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap::wire {
namespace {

absl::Status ProtocolError(absl::string_view message) {
  return WithErrorKind(absl::UnavailableError(message), ErrorKind::kMalformed);
}

// What a value is, for error messages. Never the value itself: it may be a
// megabyte literal.
absl::string_view Describe(const Value& v) {
  switch (v.type) {
    case Value::Type::kAtom:
      return "an atom";
    case Value::Type::kNumber:
      return "a number";
    case Value::Type::kString:
      return "a string";
    case Value::Type::kNil:
      return "NIL";
    case Value::Type::kList:
      return "a list";
  }
  return "a value";
}

// Server text quoted for an error message: escaped and cut short.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMax)), "\"");
  if (text.size() > kMax) out += "...";
  return out;
}

std::string Join(absl::string_view prefix, size_t n) {
  return prefix.empty() ? absl::StrCat(n) : absl::StrCat(prefix, ".", n);
}

// Servers write strings as quoted strings or literals; a few send atoms or
// bare numbers where a string belongs. Any of these is accepted.
absl::Status ReadString(const Value& v, absl::string_view what, std::string* out) {
  if (!v.IsStringLike()) {
    return ProtocolError(absl::StrCat(what, ": expected a string, got ", Describe(v)));
  }
  *out = v.text;
  return absl::OkStatus();
}

absl::Status ReadNString(const Value& v, absl::string_view what, absl::optional<std::string>* out) {
  if (v.IsNil()) {
    out->reset();
    return absl::OkStatus();
  }
  if (!v.IsStringLike()) {
    return ProtocolError(absl::StrCat(what, ": expected a string or NIL, got ", Describe(v)));
  }
  *out = v.text;
  return absl::OkStatus();
}

absl::Status ReadNumber(const Value& v, absl::string_view what, uint64_t* out) {
  if (!v.IsNumber()) {
    return ProtocolError(absl::StrCat(what, ": expected a number, got ", Describe(v)));
  }
  *out = v.number;
  return absl::OkStatus();
}

// ------------------------------------------------------------------ envelope

absl::Status ParseAddressList(const Value& v, absl::string_view field, std::vector<Address>* out) {
  out->clear();
  if (v.IsNil()) return absl::OkStatus();
  if (!v.IsList()) {
    return ProtocolError(
        absl::StrCat(field, ": expected a list of addresses or NIL, got ", Describe(v)));
  }
  // RFC 3501: a group starts with host NIL and the group's name as mailbox,
  // and ends with mailbox and host NIL.
  absl::optional<std::string> group;
  bool group_has_members = false;
  auto close_group = [&]() {
    if (group.has_value() && !group_has_members) {
      Address placeholder;
      placeholder.group = std::move(group);
      out->push_back(std::move(placeholder));
    }
    group.reset();
  };
  static constexpr absl::string_view kFieldNames[4] = {"name", "adl", "mailbox", "host"};
  for (size_t i = 0; i < v.list.size(); ++i) {
    const Value& a = v.list[i];
    const std::string where = absl::StrCat(field, " address ", i + 1);
    if (!a.IsList()) {
      return ProtocolError(absl::StrCat(where, ": expected a list, got ", Describe(a)));
    }
    if (a.list.size() != 4) {
      return ProtocolError(
          absl::StrCat(where, ": expected 4 fields (name adl mailbox host), got ", a.list.size()));
    }
    absl::optional<std::string> f[4];
    for (size_t k = 0; k < 4; ++k) {
      IMAPC_RETURN_IF_ERROR(
          ReadNString(a.list[k], absl::StrCat(where, " ", kFieldNames[k]), &f[k]));
    }
    if (!f[3].has_value()) {
      if (f[2].has_value()) {
        // Group start. RFC 5322 groups do not nest; a start inside a group
        // ends the open one.
        close_group();
        group = std::move(f[2]);
        group_has_members = false;
      } else {
        close_group();  // group end; a stray one is ignored
      }
      continue;
    }
    Address addr;
    addr.name = f[0].value_or("");
    addr.adl = f[1].value_or("");
    addr.mailbox = f[2].value_or("");
    addr.host = std::move(*f[3]);
    addr.group = group;
    group_has_members = group_has_members || group.has_value();
    out->push_back(std::move(addr));
  }
  close_group();  // a group the server never closed
  return absl::OkStatus();
}

// --------------------------------------------------------------- body parts

absl::Status ParseParams(const Value& v, absl::string_view what, std::vector<BodyParam>* out) {
  out->clear();
  if (v.IsNil()) return absl::OkStatus();
  if (!v.IsList()) {
    return ProtocolError(
        absl::StrCat(what, ": expected a parameter list or NIL, got ", Describe(v)));
  }
  if (v.list.size() % 2 != 0) {
    return ProtocolError(
        absl::StrCat(what, ": expected name/value pairs, got ", v.list.size(), " elements"));
  }
  for (size_t i = 0; i < v.list.size(); i += 2) {
    BodyParam p;
    IMAPC_RETURN_IF_ERROR(ReadString(v.list[i], absl::StrCat(what, " name ", i / 2 + 1), &p.name));
    IMAPC_RETURN_IF_ERROR(
        ReadString(v.list[i + 1], absl::StrCat(what, " value ", i / 2 + 1), &p.value));
    out->push_back(std::move(p));
  }
  return absl::OkStatus();
}

absl::Status ParseDisposition(const Value& v, absl::string_view label,
                              absl::optional<ContentDisposition>* out) {
  out->reset();
  if (v.IsNil()) return absl::OkStatus();
  if (!v.IsList()) {
    return ProtocolError(
        absl::StrCat(label, ": disposition: expected a list or NIL, got ", Describe(v)));
  }
  if (v.list.size() != 2) {
    return ProtocolError(absl::StrCat(
        label, ": disposition: expected 2 fields (type parameters), got ", v.list.size()));
  }
  ContentDisposition d;
  IMAPC_RETURN_IF_ERROR(ReadString(v.list[0], absl::StrCat(label, ": disposition type"), &d.type));
  absl::AsciiStrToLower(&d.type);
  IMAPC_RETURN_IF_ERROR(
      ParseParams(v.list[1], absl::StrCat(label, ": disposition parameters"), &d.params));
  *out = std::move(d);
  return absl::OkStatus();
}

absl::Status ParseLanguage(const Value& v, absl::string_view label, std::vector<std::string>* out) {
  out->clear();
  if (v.IsNil()) return absl::OkStatus();
  if (v.IsStringLike()) {
    out->push_back(v.text);
    return absl::OkStatus();
  }
  // Only a list is left.
  for (size_t i = 0; i < v.list.size(); ++i) {
    std::string tag;
    IMAPC_RETURN_IF_ERROR(ReadString(v.list[i], absl::StrCat(label, ": language ", i + 1), &tag));
    out->push_back(std::move(tag));
  }
  return absl::OkStatus();
}

// Reads the extension data that begins at l[i]: for a multipart its
// parameters, for a single part its MD5; then disposition, language,
// location and whatever follows.
absl::Status ParseExtensions(const std::vector<Value>& l, size_t i, bool multipart,
                             absl::string_view label, BodyStructure* out) {
  if (i < l.size()) {
    if (multipart) {
      IMAPC_RETURN_IF_ERROR(ParseParams(l[i], absl::StrCat(label, ": parameters"), &out->params));
    } else {
      IMAPC_RETURN_IF_ERROR(ReadNString(l[i], absl::StrCat(label, ": md5"), &out->md5));
    }
    ++i;
  }
  if (i < l.size()) IMAPC_RETURN_IF_ERROR(ParseDisposition(l[i++], label, &out->disposition));
  if (i < l.size()) IMAPC_RETURN_IF_ERROR(ParseLanguage(l[i++], label, &out->language));
  if (i < l.size()) {
    IMAPC_RETURN_IF_ERROR(ReadNString(l[i++], absl::StrCat(label, ": location"), &out->location));
  }
  if (i < l.size()) out->extensions.assign(l.begin() + static_cast<std::ptrdiff_t>(i), l.end());
  return absl::OkStatus();
}

bool LooksMultipart(const Value& v) {
  if (!v.IsList() || v.list.empty()) return false;
  if (v.list[0].IsList()) return true;
  // A multipart without parts, which some servers send as ("MIXED") or
  // ("MIXED" ("BOUNDARY" "x") NIL NIL): a single part would have a subtype
  // string second.
  return v.list[0].IsStringLike() && (v.list.size() == 1 || v.list[1].IsList());
}

absl::Status ParsePart(const Value& v, const std::string& path, int depth, BodyStructure* out);
absl::Status ParseMessageBody(const Value& v, const std::string& msg_path, int depth,
                              BodyStructure* out);

// Parses one body. `label` names it in errors; `number` is its section
// number ("" for a multipart that has none), the prefix of its children's.
absl::Status ParseNode(const Value& v, const std::string& label, const std::string& number,
                       int depth, BodyStructure* out) {
  if (depth > kMaxBodyDepth) {
    return ProtocolError(
        absl::StrCat(label, ": parts nested deeper than ", kMaxBodyDepth, " levels"));
  }
  if (!v.IsList() || v.list.empty()) {
    return ProtocolError(absl::StrCat(label, ": expected a non-empty body list, got ",
                                      v.IsList() ? "()" : Describe(v)));
  }
  const std::vector<Value>& l = v.list;
  if (LooksMultipart(v)) {
    out->type = "multipart";
    size_t i = 0;
    for (; i < l.size() && l[i].IsList(); ++i) {
      BodyStructure child;
      IMAPC_RETURN_IF_ERROR(ParsePart(l[i], Join(number, i + 1), depth + 1, &child));
      out->children.push_back(std::move(child));
    }
    if (i >= l.size()) {
      return ProtocolError(absl::StrCat(label, ": multipart without a subtype"));
    }
    IMAPC_RETURN_IF_ERROR(ReadString(l[i], absl::StrCat(label, ": subtype"), &out->subtype));
    absl::AsciiStrToLower(&out->subtype);
    return ParseExtensions(l, i + 1, /*multipart=*/true, label, out);
  }

  if (l.size() < 7) {
    return ProtocolError(absl::StrCat(
        label,
        ": expected at least 7 fields (type subtype parameters id description encoding "
        "size), got ",
        l.size()));
  }
  IMAPC_RETURN_IF_ERROR(ReadString(l[0], absl::StrCat(label, ": type"), &out->type));
  absl::AsciiStrToLower(&out->type);
  IMAPC_RETURN_IF_ERROR(ReadString(l[1], absl::StrCat(label, ": subtype"), &out->subtype));
  absl::AsciiStrToLower(&out->subtype);
  IMAPC_RETURN_IF_ERROR(ParseParams(l[2], absl::StrCat(label, ": parameters"), &out->params));
  IMAPC_RETURN_IF_ERROR(ReadNString(l[3], absl::StrCat(label, ": id"), &out->id));
  IMAPC_RETURN_IF_ERROR(ReadNString(l[4], absl::StrCat(label, ": description"), &out->description));
  // body-fld-enc may not be NIL, but a few servers send it anyway.
  if (!l[5].IsNil()) {
    IMAPC_RETURN_IF_ERROR(ReadString(l[5], absl::StrCat(label, ": encoding"), &out->encoding));
    absl::AsciiStrToLower(&out->encoding);
  }
  IMAPC_RETURN_IF_ERROR(ReadNumber(l[6], absl::StrCat(label, ": size"), &out->size));

  size_t i = 7;
  const std::string media = absl::StrCat(out->type, "/", out->subtype);
  if (out->type == "text") {
    if (l.size() <= i) {
      return ProtocolError(absl::StrCat(label, ": ", Quote(media), " part without a line count"));
    }
    uint64_t lines = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(l[i], absl::StrCat(label, ": lines"), &lines));
    out->lines = lines;
    ++i;
  } else if (out->type == "message" && (out->subtype == "rfc822" || out->subtype == "global") &&
             l.size() > i && l[i].IsList()) {
    // body-type-msg. Servers that send message/rfc822 without an envelope
    // (as body-type-basic) are read as basic parts by the branch not taken.
    if (l.size() < 10) {
      return ProtocolError(absl::StrCat(label, ": ", Quote(media),
                                        " part needs envelope, body and line count; got ", l.size(),
                                        " fields"));
    }
    absl::StatusOr<Envelope> envelope = ParseEnvelope(l[7]);
    if (!envelope.ok()) {
      return Annotate(envelope.status(), absl::StrCat(label, ": envelope"));
    }
    BodyStructure body;
    IMAPC_RETURN_IF_ERROR(ParseMessageBody(l[8], number, depth + 1, &body));
    uint64_t lines = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(l[9], absl::StrCat(label, ": lines"), &lines));
    out->envelope = *std::move(envelope);
    out->children.push_back(std::move(body));
    out->lines = lines;
    i = 10;
  }
  return ParseExtensions(l, i, /*multipart=*/false, label, out);
}

// A part of a multipart: `path` is its section number.
absl::Status ParsePart(const Value& v, const std::string& path, int depth, BodyStructure* out) {
  return ParseNode(v, absl::StrCat("part ", path), path, depth, out);
}

// The body of a message whose part number is `msg_path` ("" for the
// top-level message): a multipart has no number of its own and numbers its
// parts msg_path.1, msg_path.2, ...; anything else is part msg_path.1.
absl::Status ParseMessageBody(const Value& v, const std::string& msg_path, int depth,
                              BodyStructure* out) {
  if (LooksMultipart(v)) {
    return ParseNode(v,
                     msg_path.empty() ? std::string("top-level multipart")
                                      : absl::StrCat("multipart body of part ", msg_path),
                     msg_path, depth, out);
  }
  const std::string number = Join(msg_path, 1);
  return ParseNode(v, absl::StrCat("part ", number), number, depth, out);
}

// ------------------------------------------------------------- INTERNALDATE

// A cursor over INTERNALDATE text.
class DateReader {
 public:
  explicit DateReader(absl::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // Reads between min and max digits.
  bool Digits(size_t min, size_t max, int* out) {
    size_t n = 0;
    int value = 0;
    while (n < max && pos_ < text_.size() && absl::ascii_isdigit(text_[pos_])) {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++n;
    }
    *out = value;
    return n >= min;
  }
  bool Month(int* out) {
    static constexpr absl::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text_.size() - pos_ < 3) return false;
    const absl::string_view m = text_.substr(pos_, 3);
    for (int i = 0; i < 12; ++i) {
      if (absl::EqualsIgnoreCase(m, kMonths[i])) {
        *out = i + 1;
        pos_ += 3;
        return true;
      }
    }
    return false;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------- FETCH

// Splits an item name like "BODY[1.2]<0>" after its `prefix_len`-byte
// prefix ("BODY[") into the normalised section and the origin.
absl::Status ParseSectionName(absl::string_view name, size_t prefix_len, bool allow_origin,
                              std::string* section, absl::optional<uint64_t>* origin) {
  const size_t close = name.find(']', prefix_len);
  if (close == absl::string_view::npos) return ProtocolError("no ']' after the section");
  *section = NormalizeSectionKey(name.substr(prefix_len, close - prefix_len));
  absl::string_view rest = name.substr(close + 1);
  origin->reset();
  if (rest.empty()) return absl::OkStatus();
  if (!allow_origin || rest.size() < 3 || rest.front() != '<' || rest.back() != '>') {
    return ProtocolError(absl::StrCat("unexpected ", Quote(rest), " after the section"));
  }
  absl::string_view digits = rest.substr(1, rest.size() - 2);
  uint64_t value = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return ProtocolError(absl::StrCat("bad origin ", Quote(rest)));
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return ProtocolError(absl::StrCat("origin ", Quote(rest), " is too large"));
    }
    value = value * 10 + d;
  }
  *origin = value;
  return absl::OkStatus();
}

// Reads the nstring of a body section; moves it out of `movable` if given.
absl::Status ReadSectionData(const Value& v, Value* movable, absl::optional<std::string>* out) {
  if (v.IsNil()) {
    out->reset();
    return absl::OkStatus();
  }
  if (!v.IsStringLike()) {
    return ProtocolError(absl::StrCat("expected a string or NIL, got ", Describe(v)));
  }
  *out = movable != nullptr ? std::move(movable->text) : v.text;
  return absl::OkStatus();
}

// Parses the value of item `name` into `f`; items we do not know are left
// out.
absl::Status ParseItem(absl::string_view name, const Value& v, Value* movable, FetchAttributes* f) {
  const std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "UID") {
    uint64_t uid = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(v, "value", &uid));
    if (uid == 0 || uid > std::numeric_limits<uint32_t>::max()) {
      return ProtocolError(absl::StrCat(uid, " is not a valid UID (1 to 4294967295)"));
    }
    f->uid = static_cast<uint32_t>(uid);
  } else if (upper == "FLAGS") {
    if (!v.IsList()) {
      return ProtocolError(absl::StrCat("expected a list of flags, got ", Describe(v)));
    }
    std::vector<std::string> flags;
    for (size_t i = 0; i < v.list.size(); ++i) {
      std::string flag;
      IMAPC_RETURN_IF_ERROR(ReadString(v.list[i], absl::StrCat("flag ", i + 1), &flag));
      flags.push_back(std::move(flag));
    }
    f->flags = std::move(flags);
  } else if (upper == "INTERNALDATE") {
    std::string text;
    IMAPC_RETURN_IF_ERROR(ReadString(v, "value", &text));
    IMAPC_ASSIGN_OR_RETURN(f->internal_date, ParseInternalDate(text));
  } else if (upper == "RFC822.SIZE") {
    uint64_t size = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(v, "value", &size));
    f->rfc822_size = size;
  } else if (upper == "MODSEQ") {
    // "MODSEQ (12345)" (RFC 7162 section 3.1.4.1).
    if (!v.IsList() || v.list.size() != 1) {
      return ProtocolError(
          absl::StrCat("expected a list of one number, got ",
                       v.IsList() ? absl::StrCat("a list of ", v.list.size()) : Describe(v)));
    }
    uint64_t modseq = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(v.list[0], "value", &modseq));
    f->modseq = modseq;
  } else if (upper == "X-GM-LABELS") {
    // X-GM-LABELS ("\\Inbox" Work "Two words"): a list of astrings; a few
    // proxies send NIL for none.
    std::vector<std::string> labels;
    if (!v.IsNil()) {
      if (!v.IsList()) {
        return ProtocolError(absl::StrCat("expected a list of labels, got ", Describe(v)));
      }
      for (size_t i = 0; i < v.list.size(); ++i) {
        std::string label;
        IMAPC_RETURN_IF_ERROR(ReadString(v.list[i], absl::StrCat("label ", i + 1), &label));
        labels.push_back(std::move(label));
      }
    }
    f->gmail_labels = std::move(labels);
  } else if (upper == "X-GM-MSGID" || upper == "X-GM-THRID") {
    uint64_t id = 0;
    IMAPC_RETURN_IF_ERROR(ReadNumber(v, "value", &id));
    (upper == "X-GM-MSGID" ? f->gmail_msgid : f->gmail_thrid) = id;
  } else if (upper == "ENVELOPE") {
    IMAPC_ASSIGN_OR_RETURN(f->envelope, ParseEnvelope(v));
  } else if (upper == "BODYSTRUCTURE" || upper == "BODY") {
    IMAPC_ASSIGN_OR_RETURN(f->body_structure, ParseBodyStructure(v));
  } else if (upper == "RFC822" || upper == "RFC822.HEADER" || upper == "RFC822.TEXT") {
    BodySection s;
    s.item = std::string(name);
    s.section = upper == "RFC822" ? "" : upper.substr(7);  // after "RFC822."
    IMAPC_RETURN_IF_ERROR(ReadSectionData(v, movable, &s.data));
    f->sections.push_back(std::move(s));
  } else if (absl::StartsWith(upper, "BODY[") || absl::StartsWith(upper, "BINARY[")) {
    BodySection s;
    s.item = std::string(name);
    s.binary = upper[1] == 'I';
    IMAPC_RETURN_IF_ERROR(
        ParseSectionName(name, s.binary ? 7 : 5, /*allow_origin=*/true, &s.section, &s.origin));
    IMAPC_RETURN_IF_ERROR(ReadSectionData(v, movable, &s.data));
    f->sections.push_back(std::move(s));
  } else if (absl::StartsWith(upper, "BINARY.SIZE[")) {
    BinarySize b;
    absl::optional<uint64_t> no_origin;
    IMAPC_RETURN_IF_ERROR(
        ParseSectionName(name, 12, /*allow_origin=*/false, &b.section, &no_origin));
    IMAPC_RETURN_IF_ERROR(ReadNumber(v, "value", &b.size));
    f->binary_sizes.push_back(std::move(b));
  }
  return absl::OkStatus();
}

absl::StatusOr<FetchAttributes> ParseFetchImpl(const Response& r, Response* movable) {
  if (r.kind != Response::Kind::kUntagged || r.keyword != "FETCH") {
    return absl::InvalidArgumentError(
        absl::StrCat("not an untagged FETCH response: ", Quote(r.keyword)));
  }
  if (!r.number.has_value() || *r.number == 0) {
    return ProtocolError("FETCH response without a message sequence number");
  }
  FetchAttributes f;
  f.seq = *r.number;
  const std::string context = absl::StrCat("FETCH response for message ", f.seq);
  if (r.values.size() != 1 || !r.values[0].IsList()) {
    return ProtocolError(absl::StrCat(
        context, ": expected one parenthesised list of items, got ", r.values.size(), " values",
        r.values.empty() ? "" : absl::StrCat(", the first ", Describe(r.values[0]))));
  }
  const std::vector<Value>& items = r.values[0].list;
  for (size_t i = 0; i < items.size(); i += 2) {
    const Value& name = items[i];
    if (!name.IsAtom()) {
      return ProtocolError(absl::StrCat(context, ": element ", i + 1,
                                        ": expected an item name, got ", Describe(name)));
    }
    const std::string where = absl::StrCat(context, ": item ", Quote(name.text));
    if (i + 1 >= items.size()) return ProtocolError(absl::StrCat(where, ": no value"));
    Value* mv = movable != nullptr ? &movable->values[0].list[i + 1] : nullptr;
    absl::Status s = ParseItem(name.text, items[i + 1], mv, &f);
    if (!s.ok()) return Annotate(s, where);
  }
  return f;
}

}  // namespace

std::string Address::Email() const {
  return host.empty() ? mailbox : absl::StrCat(mailbox, "@", host);
}

absl::optional<std::string> BodyStructure::Param(absl::string_view name) const {
  for (const BodyParam& p : params) {
    if (absl::EqualsIgnoreCase(p.name, name)) return p.value;
  }
  return absl::nullopt;
}

const BodySection* FetchAttributes::FindSection(absl::string_view section, bool binary) const {
  const std::string key = NormalizeSectionKey(section);
  for (const BodySection& s : sections) {
    if (s.binary == binary && s.section == key) return &s;
  }
  return nullptr;
}

absl::StatusOr<const BodyStructure*> FindPart(const BodyStructure& root,
                                              absl::string_view section) {
  std::vector<size_t> numbers;
  for (absl::string_view piece : absl::StrSplit(section, '.')) {
    // Numbers too large for any real message saturate, and are not found.
    constexpr size_t kHuge = 1000000000;
    size_t n = 0;
    bool ok = !piece.empty() && piece[0] != '0';
    for (char c : piece) {
      if (!absl::ascii_isdigit(c)) ok = false;
      if (ok) n = n >= kHuge ? kHuge : n * 10 + static_cast<size_t>(c - '0');
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "section ", Quote(section), " is not a part number like \"1\" or \"2.1.3\""));
    }
    numbers.push_back(n);
  }
  // Walks down. Until a number has picked `part`, and after it picked an
  // encapsulated message, numbers count in `body`, a message's body.
  const BodyStructure* body = &root;
  const BodyStructure* part = nullptr;
  for (size_t n : numbers) {
    const BodyStructure* next = nullptr;
    if (part != nullptr && part->IsMultipart()) {
      if (n <= part->children.size()) next = &part->children[n - 1];
    } else {
      if (part != nullptr) body = part->MessageBody();  // null unless a message
      if (body != nullptr && body->IsMultipart()) {
        if (n <= body->children.size()) next = &body->children[n - 1];
      } else if (body != nullptr && n == 1) {
        next = body;  // a non-multipart body is its message's part 1
      }
    }
    if (next == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no part ", Quote(section), " in the body structure"));
    }
    part = next;
  }
  return part;
}

std::vector<PartRef> LeafParts(const BodyStructure& root, NestedMessages nested) {
  struct Frame {
    const BodyStructure* node;
    std::string number;
    bool message_body;  // node is a message's body: numbered by the rule
  };
  std::vector<PartRef> out;
  std::vector<Frame> stack;
  stack.push_back({&root, "", true});
  while (!stack.empty()) {
    Frame f = std::move(stack.back());
    stack.pop_back();
    const BodyStructure* node = f.node;
    if (node->IsMultipart()) {
      // A message's multipart body has no number; its parts continue the
      // message's. Pushed in reverse so they come out in order.
      for (size_t i = node->children.size(); i > 0; --i) {
        stack.push_back({&node->children[i - 1], Join(f.number, i), false});
      }
      continue;
    }
    if (f.message_body) {
      stack.push_back({node, Join(f.number, 1), false});
      continue;
    }
    if (node->IsMessage() && nested == NestedMessages::kDescend) {
      stack.push_back({node->MessageBody(), std::move(f.number), true});
      continue;
    }
    out.push_back({std::move(f.number), node});
  }
  return out;
}

absl::StatusOr<Envelope> ParseEnvelope(const Value& v) {
  if (!v.IsList()) {
    return ProtocolError(absl::StrCat("expected a list of 10 fields, got ", Describe(v)));
  }
  if (v.list.size() != 10) {
    return ProtocolError(
        absl::StrCat("expected 10 fields (date subject from sender reply-to to cc bcc in-reply-to "
                     "message-id), got ",
                     v.list.size()));
  }
  const std::vector<Value>& l = v.list;
  Envelope e;
  IMAPC_RETURN_IF_ERROR(ReadNString(l[0], "date", &e.date));
  IMAPC_RETURN_IF_ERROR(ReadNString(l[1], "subject", &e.subject));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[2], "from", &e.from));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[3], "sender", &e.sender));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[4], "reply-to", &e.reply_to));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[5], "to", &e.to));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[6], "cc", &e.cc));
  IMAPC_RETURN_IF_ERROR(ParseAddressList(l[7], "bcc", &e.bcc));
  IMAPC_RETURN_IF_ERROR(ReadNString(l[8], "in-reply-to", &e.in_reply_to));
  IMAPC_RETURN_IF_ERROR(ReadNString(l[9], "message-id", &e.message_id));
  return e;
}

absl::StatusOr<BodyStructure> ParseBodyStructure(const Value& v) {
  BodyStructure b;
  IMAPC_RETURN_IF_ERROR(ParseMessageBody(v, "", 0, &b));
  return b;
}

absl::StatusOr<absl::Time> ParseInternalDate(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return ProtocolError(absl::StrCat("INTERNALDATE ", Quote(text), " ", why,
                                      " (expected \"dd-Mon-yyyy hh:mm:ss +zzzz\")"));
  };
  DateReader in(text);
  int day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0, zh = 0, zm = 0;
  in.Consume(' ');  // date-day-fixed: a space-padded single digit
  if (!in.Digits(1, 2, &day)) return bad("does not start with a day");
  if (!in.Consume('-') || !in.Month(&month) || !in.Consume('-')) {
    return bad("has no \"-Mon-\" month after the day");
  }
  if (!in.Digits(4, 4, &year) || !in.Consume(' ')) return bad("has no 4-digit year");
  if (!in.Digits(2, 2, &hour) || !in.Consume(':') || !in.Digits(2, 2, &minute) ||
      !in.Consume(':') || !in.Digits(2, 2, &second) || !in.Consume(' ')) {
    return bad("has no \"hh:mm:ss\" time");
  }
  const bool east = in.Consume('+');
  if (!east && !in.Consume('-')) return bad("has no \"+\" or \"-\" before the zone");
  if (!in.Digits(2, 2, &zh) || !in.Digits(2, 2, &zm)) return bad("has no 4-digit zone");
  if (!in.AtEnd()) return bad("has text after the zone");
  if (hour > 23 || minute > 59 || second > 60 || zm > 59) return bad("is out of range");
  const absl::CivilDay civil_day(year, month, day);
  if (day < 1 || civil_day.day() != day || civil_day.month() != month) {
    return bad("names a day that does not exist");
  }
  // A leap second (:60) normalises to the next minute's :00.
  const absl::CivilSecond local(year, month, day, hour, minute, second);
  const int offset_seconds = (east ? 1 : -1) * (zh * 3600 + zm * 60);
  return absl::FromCivil(local, absl::UTCTimeZone()) - absl::Seconds(offset_seconds);
}

std::string NormalizeSectionKey(absl::string_view section) {
  std::string out;
  out.reserve(section.size());
  bool pending_space = false;
  for (char c : section) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty() && out.back() != '(' && c != ')') out.push_back(' ');
    pending_space = false;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

absl::StatusOr<FetchAttributes> ParseFetch(const Response& r) { return ParseFetchImpl(r, nullptr); }

absl::StatusOr<FetchAttributes> ParseFetch(Response&& r) { return ParseFetchImpl(r, &r); }

}  // namespace imap::wire
