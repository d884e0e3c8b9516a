#include "imap/mime/content_type.h"

#include "imap/mime/charset.h"
#include "imap/mime/encoded_words.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/mime/transfer_decoder.h"
#include "imap/util/utf8.h"

namespace imap::mime {
namespace {

// ------------------------------------------------------------ charsets
//
// Every conversion here goes through CharsetToUtf8(), which uses charset.h
// and guesses (with a defect) when the charset is unknown.

void AddDefect(Defects* defects, absl::string_view where, std::string what) {
  if (defects != nullptr) defects->push_back({std::string(where), std::move(what)});
}

// A short, printable excerpt of header text for a defect message.
std::string Abbrev(absl::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? s[i] : '?');
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// Raw text that claims no charset: kept if it is UTF-8 (RFC 6532), else
// read as windows-1252, the most common legacy charset of such bytes.
std::string RawToUtf8(absl::string_view bytes, Defects* defects, absl::string_view where) {
  if (IsValidUtf8(bytes)) return std::string(bytes);
  AddDefect(defects, where, "8-bit bytes that are not UTF-8 in a parameter; read as windows-1252");
  return GuessToUtf8(bytes);
}

// The one place that converts text in a declared charset to UTF-8.
std::string CharsetToUtf8(absl::string_view bytes, absl::string_view charset, Defects* defects,
                          absl::string_view where) {
  absl::StatusOr<std::string> utf8 = ToUtf8(bytes, charset, defects, where);
  if (utf8.ok()) return *std::move(utf8);
  AddDefect(defects, where, absl::StrCat("unknown charset '", Abbrev(charset), "'"));
  return RawToUtf8(bytes, nullptr, where);
}

// ------------------------------------------------------------ encoded words
//
// RFC 2047 words inside parameter values: real mail uses them for file
// names although RFC 2047 section 5 forbids it.

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string DecodeWordsInParam(absl::string_view s, Defects* defects, absl::string_view where) {
  return DecodeHeaderText(s, defects, where);
}

// ------------------------------------------------------------ lexing

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 2045 token characters: printable ASCII except SPACE and tspecials.
bool IsTokenChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  return absl::string_view("()<>@,;:\\\"/[]?=").find(c) == absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

class Lexer {
 public:
  Lexer(absl::string_view s, Defects* defects, absl::string_view where)
      : s_(s), defects_(defects), where_(where) {}

  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return s_[i_]; }
  void Advance() { ++i_; }
  size_t pos() const { return i_; }
  void set_pos(size_t p) { i_ = p; }
  absl::string_view rest() const { return s_.substr(i_); }

  // Skips white space and (nested) comments.
  void SkipCfws() {
    while (!AtEnd()) {
      if (IsWsp(Peek())) {
        ++i_;
      } else if (Peek() == '(') {
        SkipComment();
      } else {
        break;
      }
    }
  }

  // Reads up to the first char in `stops`, white space or '('.
  absl::string_view ReadWord(absl::string_view stops) {
    size_t start = i_;
    while (!AtEnd() && !IsWsp(Peek()) && Peek() != '(' &&
           stops.find(Peek()) == absl::string_view::npos) {
      ++i_;
    }
    return s_.substr(start, i_ - start);
  }

  // REQUIRES: Peek() == '"'. Reads a quoted string, undoing quoted pairs.
  std::string ReadQuoted(absl::string_view param) {
    std::string out;
    ++i_;
    while (!AtEnd()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\' && !AtEnd()) c = s_[i_++];
      out.push_back(c);
    }
    AddDefect(defects_, where_,
              absl::StrCat("unterminated quoted value of parameter '", param, "'"));
    return out;
  }

  // Skips to just after the next ';' outside quotes, or to the end.
  void SkipToSemicolon() {
    bool quoted = false;
    while (!AtEnd()) {
      char c = s_[i_++];
      if (quoted && c == '\\' && !AtEnd()) {
        ++i_;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ';' && !quoted) {
        return;
      }
    }
  }

 private:
  void SkipComment() {
    int depth = 0;
    while (!AtEnd()) {
      char c = s_[i_++];
      if (c == '\\' && !AtEnd()) {
        ++i_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return;
      }
    }
  }

  absl::string_view s_;
  size_t i_ = 0;
  Defects* defects_;
  absl::string_view where_;
};

// True if `s` starts with "name=" or "name =": a parameter whose ';' the
// sender forgot.
bool LooksLikeParamStart(absl::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsTokenChar(s[i])) ++i;
  if (i == 0) return false;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i < s.size() && s[i] == '=';
}

// Removes comments at the end of an unquoted value: "us-ascii (Plain)".
// Only a comment after white space counts, so "file(1).txt" stays whole.
absl::string_view StripTrailingComment(absl::string_view v) {
  while (!v.empty() && v.back() == ')') {
    int depth = 0;
    size_t k = v.size();
    while (k > 0) {
      --k;
      if (v[k] == ')') ++depth;
      if (v[k] == '(' && --depth == 0) break;
    }
    if (depth != 0 || k == 0 || !IsWsp(v[k - 1])) break;
    v = absl::StripTrailingAsciiWhitespace(v.substr(0, k));
  }
  return v;
}

// One "name=value" as written.
struct RawParam {
  std::string base;  // lower-case name without the RFC 2231 suffix
  int section = -1;  // RFC 2231 section, -1 for none
  bool extended = false;
  std::string value;  // unquoted
};

constexpr int kMaxSection = 999;

void SplitSectionSuffix(RawParam* p) {
  size_t star = p->base.find('*');
  if (star == std::string::npos) return;
  absl::string_view rest = absl::string_view(p->base).substr(star + 1);
  bool extended = false;
  if (!rest.empty() && rest.back() == '*') {
    extended = true;
    rest.remove_suffix(1);
  }
  int section = -1;
  if (rest.empty()) {
    if (!extended) {
      extended = true;  // "name*"
    } else {
      return;  // "name**": leave as written
    }
  } else {
    section = 0;
    for (char c : rest) {
      if (c < '0' || c > '9' || section > kMaxSection) return;
      section = section * 10 + (c - '0');
    }
    if (section > kMaxSection) return;
  }
  p->section = section;
  p->extended = extended;
  p->base.resize(star);
}

// Reads parameters until the end of the value.
std::vector<RawParam> ReadParams(Lexer* lx, Defects* defects, absl::string_view where) {
  std::vector<RawParam> out;
  if (!lx->AtEnd()) out.reserve(4);
  while (true) {
    lx->SkipCfws();
    if (lx->AtEnd()) break;
    if (lx->Peek() == ';') {  // empty parameter: ";;" or a trailing ";"
      lx->Advance();
      continue;
    }
    absl::string_view name = lx->ReadWord("=;\"");
    lx->SkipCfws();
    if (name.empty() || lx->AtEnd() || lx->Peek() != '=') {
      if (!name.empty() || (!lx->AtEnd() && lx->Peek() != ';')) {
        AddDefect(defects, where,
                  absl::StrCat("parameter '", name.empty() ? lx->rest().substr(0, 20) : name,
                               "' without a value ignored"));
      }
      if (name.empty() && !lx->AtEnd() && lx->Peek() != ';') lx->Advance();
      lx->SkipToSemicolon();
      continue;
    }
    lx->Advance();  // '='
    lx->SkipCfws();
    RawParam p;
    p.base = absl::AsciiStrToLower(name);
    if (!lx->AtEnd() && lx->Peek() == '"') {
      p.value = lx->ReadQuoted(name);
      lx->SkipCfws();
      if (!lx->AtEnd() && lx->Peek() != ';') {
        if (LooksLikeParamStart(lx->rest())) {
          AddDefect(defects, where, absl::StrCat("missing ';' after parameter '", name, "'"));
        } else {
          AddDefect(defects, where,
                    absl::StrCat("text after the quoted value of parameter '", name, "' ignored"));
          lx->SkipToSemicolon();
        }
      }
    } else {
      // Unquoted: up to ';', but a later " name=" starts a new parameter.
      absl::string_view rest = lx->rest();
      size_t end = rest.find(';');
      if (end == absl::string_view::npos) end = rest.size();
      size_t next = end;
      for (size_t k = 1; k < end; ++k) {
        if (IsWsp(rest[k - 1]) && LooksLikeParamStart(rest.substr(k, end - k))) {
          next = k;
          AddDefect(defects, where, absl::StrCat("missing ';' after parameter '", name, "'"));
          break;
        }
      }
      absl::string_view v = StripTrailingComment(absl::StripAsciiWhitespace(rest.substr(0, next)));
      for (char c : v) {
        if (c == ' ' || c == '\t') {
          AddDefect(defects, where,
                    absl::StrCat("unquoted value of parameter '", name, "' contains spaces"));
          break;
        }
      }
      p.value = std::string(v);
      lx->set_pos(lx->pos() + (next < end ? next : std::min(end + 1, rest.size())));
    }
    out.push_back(std::move(p));
  }
  for (RawParam& p : out) SplitSectionSuffix(&p);
  return out;
}

// Percent-decodes an RFC 2231 extended value.
std::string PercentDecode(absl::string_view v, absl::string_view name, Defects* defects,
                          absl::string_view where) {
  std::string out;
  bool bad = false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && HexValue(v[i + 1]) >= 0 && HexValue(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(v[i + 1]) * 16 + HexValue(v[i + 2])));
      i += 2;
    } else {
      bad = bad || v[i] == '%';
      out.push_back(v[i]);
    }
  }
  if (bad) {
    AddDefect(defects, where, absl::StrCat("invalid %-escape in parameter '", name, "' kept"));
  }
  return out;
}

// Splits "charset'language'value"; without both quotes everything is value.
void SplitCharsetPrefix(absl::string_view v, std::string* charset, absl::string_view* rest) {
  size_t q1 = v.find('\'');
  size_t q2 = q1 == absl::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == absl::string_view::npos) {
    charset->clear();
    *rest = v;
    return;
  }
  *charset = std::string(v.substr(0, q1));
  *rest = v.substr(q2 + 1);
}

struct Collected {
  const RawParam* plain = nullptr;
  const RawParam* whole_extended = nullptr;  // "name*"
  std::map<int, const RawParam*> sections;   // "name*0", "name*1*", ...
};

// Joins what was written for one parameter name into its UTF-8 value.
std::string Assemble(absl::string_view base, const Collected& c, Defects* defects,
                     absl::string_view where) {
  const bool verbatim = base == "boundary";
  if (c.whole_extended == nullptr && c.sections.empty()) {
    const std::string& v = c.plain->value;
    if (verbatim) return v;
    if (v.find("=?") != std::string::npos) return DecodeWordsInParam(v, defects, where);
    return RawToUtf8(v, defects, where);
  }
  std::string charset;
  std::string bytes;
  bool any_extended = false;
  if (c.whole_extended != nullptr) {
    if (!c.sections.empty()) {
      AddDefect(defects, where,
                absl::StrCat("parameter '", base,
                             "' given both whole and in sections; "
                             "sections ignored"));
    }
    absl::string_view rest;
    SplitCharsetPrefix(c.whole_extended->value, &charset, &rest);
    bytes = PercentDecode(rest, base, defects, where);
    any_extended = true;
  } else {
    int expect = 0;
    bool gap = false;
    for (const auto& [section, p] : c.sections) {
      if (section != expect) gap = true;
      expect = section + 1;
      absl::string_view v = p->value;
      if (p->extended) {
        any_extended = true;
        if (section == c.sections.begin()->first) SplitCharsetPrefix(v, &charset, &v);
        bytes += PercentDecode(v, base, defects, where);
      } else {
        bytes.append(v.data(), v.size());
      }
    }
    if (gap) {
      AddDefect(defects, where,
                absl::StrCat("RFC 2231 sections of parameter '", base,
                             "' are not 0, 1, 2, ...; "
                             "joined in order"));
    }
  }
  if (verbatim) return bytes;
  if (!any_extended && bytes.find("=?") != std::string::npos) {
    return DecodeWordsInParam(bytes, defects, where);  // Thunderbird-style split words
  }
  if (charset.empty()) return RawToUtf8(bytes, defects, where);
  return CharsetToUtf8(bytes, charset, defects, where);
}

// True if every parameter in `raw` is plain (no RFC 2231 suffix) and
// named once: the usual case, which needs no grouping by name. Only
// short lists are checked, as the check is quadratic.
bool AllPlainAndDistinct(const std::vector<RawParam>& raw) {
  constexpr size_t kMaxChecked = 8;
  if (raw.size() > kMaxChecked) return false;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].section >= 0 || raw[i].extended) return false;
    for (size_t j = 0; j < i; ++j) {
      if (raw[j].base == raw[i].base) return false;
    }
  }
  return true;
}

MimeParams BuildParams(const std::vector<RawParam>& raw, Defects* defects,
                       absl::string_view where) {
  if (AllPlainAndDistinct(raw)) {
    MimeParams out;
    out.reserve(raw.size());
    for (const RawParam& p : raw) {
      Collected c;
      c.plain = &p;
      out.emplace_back(p.base, Assemble(p.base, c, defects, where));
    }
    return out;
  }
  // Keys view the names in `raw`, which outlives both containers.
  std::vector<std::pair<absl::string_view, const Collected*>> order;
  std::map<absl::string_view, Collected> by_name;
  for (const RawParam& p : raw) {
    auto [it, inserted] = by_name.try_emplace(p.base);
    if (inserted) order.emplace_back(p.base, &it->second);
    Collected& c = it->second;
    const RawParam** slot = nullptr;
    if (p.section >= 0) {
      slot = &c.sections[p.section];
    } else if (p.extended) {
      slot = &c.whole_extended;
    } else {
      slot = &c.plain;
    }
    if (*slot != nullptr) {
      AddDefect(defects, where,
                absl::StrCat("duplicate parameter '", p.base,
                             p.section >= 0 ? absl::StrCat("*", p.section) : "",
                             p.extended ? "*" : "", "'; the first is used"));
      continue;
    }
    *slot = &p;
  }
  MimeParams out;
  out.reserve(order.size());
  for (const auto& [base, collected] : order) {
    out.emplace_back(std::string(base), Assemble(base, *collected, defects, where));
  }
  return out;
}

// Returns `value` without CR and LF: `value` itself when it has none (a
// field on one line), else a copy in *storage.
absl::string_view Unfold(absl::string_view value, std::string* storage) {
  auto is_break = [](char c) { return c == '\r' || c == '\n'; };
  auto brk = std::find_if(value.begin(), value.end(), is_break);
  if (brk == value.end()) return value;
  storage->reserve(value.size());
  storage->assign(value.begin(), brk);
  std::copy_if(brk, value.end(), std::back_inserter(*storage),
               [&](char c) { return !is_break(c); });
  return *storage;
}

}  // namespace

const std::string* FindParam(const MimeParams& params, absl::string_view name) {
  for (const auto& [n, v] : params) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

ContentType ParseContentType(absl::string_view value, Defects* defects, absl::string_view where) {
  std::string unfolded;
  const absl::string_view v = Unfold(value, &unfolded);
  Lexer lx(v, defects, where);
  lx.SkipCfws();
  ContentType ct;
  std::string type = absl::AsciiStrToLower(lx.ReadWord("/;"));
  std::string subtype;
  lx.SkipCfws();
  bool slash = false;
  if (!lx.AtEnd() && lx.Peek() == '/') {
    slash = true;
    lx.Advance();
    lx.SkipCfws();
    subtype = absl::AsciiStrToLower(lx.ReadWord(";"));
    lx.SkipCfws();
  }
  if (IsToken(type) && IsToken(subtype)) {
    ct.type = std::move(type);
    ct.subtype = std::move(subtype);
  } else if (type.empty() && !slash) {
    AddDefect(defects, where, "empty Content-Type; text/plain assumed");
  } else if (IsToken(type) && subtype.empty() && (type == "text" || type == "multipart")) {
    ct.type = type;
    ct.subtype = type == "text" ? "plain" : "mixed";
    AddDefect(
        defects, where,
        absl::StrCat("Content-Type '", type, "' without subtype; ", ct.MediaType(), " assumed"));
  } else {
    AddDefect(defects, where,
              absl::StrCat("invalid Content-Type '", Abbrev(slash ? type + "/" + subtype : type),
                           "'; text/plain assumed"));
  }
  if (!lx.AtEnd() && lx.Peek() != ';') {
    if (!LooksLikeParamStart(lx.rest())) {
      AddDefect(defects, where,
                absl::StrCat("junk after the media type ignored: '", Abbrev(lx.rest()), "'"));
      lx.SkipToSemicolon();
    } else {
      AddDefect(defects, where, "missing ';' before the parameters");
    }
  }
  ct.params = BuildParams(ReadParams(&lx, defects, where), defects, where);
  return ct;
}

ContentDisposition ParseContentDisposition(absl::string_view value, Defects* defects,
                                           absl::string_view where) {
  std::string unfolded;
  const absl::string_view v = Unfold(value, &unfolded);
  Lexer lx(v, defects, where);
  lx.SkipCfws();
  ContentDisposition cd;
  const size_t start = lx.pos();
  absl::string_view type = lx.ReadWord(";=");
  lx.SkipCfws();
  if (!lx.AtEnd() && lx.Peek() == '=') {
    AddDefect(defects, where, "Content-Disposition without a type");
    lx.set_pos(start);
  } else if (IsToken(type)) {
    cd.type = absl::AsciiStrToLower(type);
    if (!lx.AtEnd() && lx.Peek() != ';') {
      if (LooksLikeParamStart(lx.rest())) {
        AddDefect(defects, where, "missing ';' before the parameters");
      } else {
        AddDefect(
            defects, where,
            absl::StrCat("junk after the disposition type ignored: '", Abbrev(lx.rest()), "'"));
        lx.SkipToSemicolon();
      }
    }
  } else {
    if (!type.empty() || (!lx.AtEnd() && lx.Peek() != ';')) {
      AddDefect(defects, where,
                absl::StrCat("invalid Content-Disposition type '", Abbrev(type), "' ignored"));
      lx.SkipToSemicolon();
    } else {
      AddDefect(defects, where, "Content-Disposition without a type");
    }
  }
  cd.params = BuildParams(ReadParams(&lx, defects, where), defects, where);
  return cd;
}

absl::optional<std::string> PartFileName(const ContentType& type,
                                         const ContentDisposition& disposition) {
  const std::string* name = disposition.Param("filename");
  if (name == nullptr) name = type.Param("name");
  if (name == nullptr) return absl::nullopt;
  return std::string(absl::StripAsciiWhitespace(*name));
}

absl::string_view TransferEncodingName(TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7Bit:
      return "7bit";
    case TransferEncoding::k8Bit:
      return "8bit";
    case TransferEncoding::kBinary:
      return "binary";
    case TransferEncoding::kBase64:
      return "base64";
    case TransferEncoding::kQuotedPrintable:
      return "quoted-printable";
    case TransferEncoding::kUuencode:
      return "x-uuencode";
  }
  return "7bit";
}

TransferEncoding ParseTransferEncoding(absl::string_view value, Defects* defects,
                                       absl::string_view where) {
  std::string unfolded;
  const absl::string_view v = Unfold(value, &unfolded);
  Lexer lx(v, defects, where);
  lx.SkipCfws();
  // The value up to ';' or a comment, without quotes.
  std::string word;
  bool sloppy = false;  // quotes, a ';' or text after a comment
  while (!lx.AtEnd() && lx.Peek() != ';' && lx.Peek() != '(') {
    if (lx.Peek() == '"') {
      sloppy = true;
    } else {
      word.push_back(lx.Peek());
    }
    lx.Advance();
  }
  lx.SkipCfws();
  sloppy = sloppy || !lx.AtEnd();
  absl::string_view raw = absl::StripAsciiWhitespace(word);
  std::string canon = absl::AsciiStrToLower(raw);
  static constexpr struct {
    absl::string_view name;
    TransferEncoding encoding;
  } kNames[] = {
      {"7bit", TransferEncoding::k7Bit},
      {"8bit", TransferEncoding::k8Bit},
      {"binary", TransferEncoding::kBinary},
      {"base64", TransferEncoding::kBase64},
      {"quoted-printable", TransferEncoding::kQuotedPrintable},
      {"x-uuencode", TransferEncoding::kUuencode},
      {"x-uue", TransferEncoding::kUuencode},
      {"uuencode", TransferEncoding::kUuencode},
      {"x-uuencoded", TransferEncoding::kUuencode},
  };
  for (const auto& n : kNames) {
    if (canon == n.name) {
      if (sloppy) {
        AddDefect(defects, where,
                  absl::StrCat("Content-Transfer-Encoding '", Abbrev(value), "' read as ", n.name));
      }
      return n.encoding;
    }
  }
  // Variants mailers write: "7-bit", "8bits", "quoted printable", "Base-64".
  std::string squeezed;
  for (char c : canon) {
    if (c != '-' && c != '_' && c != ' ' && c != '\t') squeezed.push_back(c);
  }
  if (absl::EndsWith(squeezed, "bits")) squeezed.pop_back();
  static constexpr struct {
    absl::string_view name;
    TransferEncoding encoding;
  } kVariants[] = {
      {"7bit", TransferEncoding::k7Bit},
      {"8bit", TransferEncoding::k8Bit},
      {"binary", TransferEncoding::kBinary},
      {"base64", TransferEncoding::kBase64},
      {"quotedprintable", TransferEncoding::kQuotedPrintable},
      {"xuuencode", TransferEncoding::kUuencode},
      {"uue", TransferEncoding::kUuencode},
      {"xuue", TransferEncoding::kUuencode},
  };
  for (const auto& n : kVariants) {
    if (squeezed == n.name) {
      AddDefect(defects, where,
                absl::StrCat("Content-Transfer-Encoding '", Abbrev(value), "' read as ",
                             TransferEncodingName(n.encoding)));
      return n.encoding;
    }
  }
  if (canon.empty()) {
    AddDefect(defects, where, "empty Content-Transfer-Encoding; read as 7bit");
  } else {
    AddDefect(defects, where,
              absl::StrCat("unknown Content-Transfer-Encoding '", Abbrev(raw), "'; read as 7bit"));
  }
  return TransferEncoding::k7Bit;
}

}  // namespace imap::mime
