#include "imap/mime/address.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "imap/mime/charset.h"
#include "imap/mime/encoded_words.h"
#include "imap/util/utf8.h"

namespace imap::mime {
namespace {

// How far an atom that starts like an encoded word may reach for its "?="
// across specials ("=?utf-8?Q?Doe,_John?=").
constexpr size_t kMaxEncodedWordScan = 512;

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecial(char c) {
  switch (c) {
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
      return true;
    default:
      return false;
  }
}

// Characters that end an atom. '.' is part of atoms here (dot-atoms and
// obs-phrase), as are stray ')', ']' and '\'.
bool EndsAtom(char c) {
  // Every such character is ASCII punctuation or whitespace, at most '['.
  if (static_cast<unsigned char>(c) > '[') return false;
  return IsWsp(c) || IsSpecial(c) || c == '"' || c == '(' || c == '[';
}

enum class Tok { kAtom, kQuoted, kComment, kLiteral, kSpecial, kSpace };

struct Token {
  Tok type = Tok::kAtom;
  size_t begin = 0;  // raw span in the input
  size_t end = 0;
  // kAtom, kLiteral: as written; kQuoted: content without quotes and
  // escapes; kComment: content without the outer parentheses and escapes;
  // kSpecial: the character.
  std::string text;

  bool Is(char special) const {
    return type == Tok::kSpecial && text.size() == 1 && text[0] == special;
  }
  bool Significant() const { return type != Tok::kSpace && type != Tok::kComment; }
};

// If raw[pos] starts an encoded word whose text runs through specials
// before "?=", returns the offset just past it; else pos.
size_t SkipEncodedWord(absl::string_view raw, size_t pos) {
  if (raw[pos] != '=' || pos + 1 >= raw.size() || raw[pos + 1] != '?') return pos;
  size_t i = pos + 2;
  while (i < raw.size() && i - pos < 80 && raw[i] != '?' && !EndsAtom(raw[i])) ++i;
  if (i == pos + 2 || i + 2 >= raw.size() || raw[i] != '?' || raw[i + 2] != '?') return pos;
  const char enc = absl::ascii_toupper(static_cast<unsigned char>(raw[i + 1]));
  if (enc != 'B' && enc != 'Q') return pos;
  for (size_t j = i + 3; j + 1 < raw.size() && j - pos < kMaxEncodedWordScan; ++j) {
    if (IsWsp(raw[j])) return pos;
    if (raw[j] == '?' && raw[j + 1] == '=') return j + 2;
  }
  return pos;
}

std::vector<Token> Tokenize(absl::string_view raw, DefectSink* sink) {
  std::vector<Token> tokens;
  // A mailbox is about ten tokens; one allocation covers most fields.
  tokens.reserve(std::min<size_t>(raw.size() / 2 + 1, 64));
  size_t i = 0;
  while (i < raw.size()) {
    Token t;
    t.begin = i;
    const char c = raw[i];
    if (IsWsp(c)) {
      t.type = Tok::kSpace;
      while (i < raw.size() && IsWsp(raw[i])) ++i;
    } else if (IsSpecial(c)) {
      t.type = Tok::kSpecial;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '"') {
      t.type = Tok::kQuoted;
      ++i;
      bool closed = false;
      while (i < raw.size()) {
        // Ordinary characters are copied a run at a time.
        size_t run_end = i;
        while (run_end < raw.size() && raw[run_end] != '"' && raw[run_end] != '\\' &&
               raw[run_end] != '\r' && raw[run_end] != '\n') {
          ++run_end;
        }
        t.text.append(raw.data() + i, run_end - i);
        i = run_end;
        if (i == raw.size()) break;
        const char q = raw[i];
        if (q == '"') {
          closed = true;
          ++i;
          break;
        }
        if (q == '\\' && i + 1 < raw.size()) {
          t.text.push_back(raw[i + 1]);
          i += 2;
          continue;
        }
        if (q != '\r' && q != '\n') t.text.push_back(q);
        ++i;
      }
      if (!closed) sink->Add("unterminated quoted string");
    } else if (c == '(') {
      t.type = Tok::kComment;
      int depth = 1;
      ++i;
      while (i < raw.size()) {
        const char q = raw[i];
        if (q == '\\' && i + 1 < raw.size()) {
          t.text.push_back(raw[i + 1]);
          i += 2;
          continue;
        }
        ++i;
        if (q == '(') ++depth;
        if (q == ')' && --depth == 0) break;
        t.text.push_back(q);
      }
      if (depth > 0) sink->Add("unterminated comment");
    } else if (c == '[') {
      t.type = Tok::kLiteral;
      ++i;
      bool closed = false;
      while (i < raw.size()) {
        const char q = raw[i];
        if (q == '\\' && i + 1 < raw.size()) {
          i += 2;
          continue;
        }
        ++i;
        if (q == ']') {
          closed = true;
          break;
        }
      }
      if (!closed) sink->Add("unterminated domain literal");
      t.text = std::string(raw.substr(t.begin, i - t.begin));
    } else {
      t.type = Tok::kAtom;
      while (i < raw.size() && !EndsAtom(raw[i])) {
        const size_t past = raw[i] == '=' ? SkipEncodedWord(raw, i) : i;
        i = past > i ? past : i + 1;
      }
      t.text = std::string(raw.substr(t.begin, i - t.begin));
    }
    t.end = i;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// RFC 5322 atext, '.', and RFC 6532 UTF8-non-ascii.
bool IsAtextOrDot(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80 || absl::ascii_isalnum(u)) return true;
  return absl::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != absl::string_view::npos;
}

std::string QuoteLocalPart(absl::string_view local) {
  bool needs = local.empty();
  for (char c : local) {
    if (!IsAtextOrDot(c)) needs = true;
  }
  if (!needs) return std::string(local);
  std::string out = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

class ListParser {
 public:
  ListParser(absl::string_view raw, DefectSink* sink, int depth)
      : raw_(raw), sink_(sink), depth_(depth) {}

  std::vector<Mailbox> Run() {
    tokens_ = Tokenize(raw_, sink_);
    SplitElements();
    return std::move(out_);
  }

 private:
  // Splits the token list at top-level ',' and ';' and tracks groups.
  void SplitElements() {
    std::string group;
    bool in_group = false;
    size_t start = 0;
    int angle = 0;
    bool in_route = false;
    size_t angle_significant = 0;
    // Whether the element so far is a phrase (words and comments only),
    // kept up to date so that a ':' is judged in constant time.
    bool words = false;
    bool not_phrase = false;
    auto next_element = [&](size_t k) {
      start = k + 1;
      words = false;
      not_phrase = false;
    };
    for (size_t k = 0; k < tokens_.size(); ++k) {
      const Token& t = tokens_[k];
      if (t.type != Tok::kSpecial) {
        if (angle > 0 && t.Significant()) ++angle_significant;
        if (t.type == Tok::kAtom || t.type == Tok::kQuoted) words = true;
        if (t.type == Tok::kLiteral) not_phrase = true;
        continue;
      }
      const char c = t.text[0];
      if (angle > 0) {
        if (c == '@' && angle_significant == 0) in_route = true;
        if (c == ':') in_route = false;
        if (c == '<') ++angle;
        if (c == '>') --angle;
        if (c == ',' && !in_route) {
          sink_->Add("missing '>'");
          angle = 0;
          Element(start, k, group);
          next_element(k);
        }
        if (angle > 0 && t.Significant()) ++angle_significant;
        continue;
      }
      switch (c) {
        case '<':
          angle = 1;
          in_route = false;
          angle_significant = 0;
          not_phrase = true;
          break;
        case '>':
          sink_->Add("'>' without '<' ignored");
          not_phrase = true;
          break;
        case ',':
          Element(start, k, group);
          next_element(k);
          break;
        case ';':
          Element(start, k, group);
          next_element(k);
          if (in_group) {
            in_group = false;
            group.clear();
          } else {
            sink_->Add("';' used to separate addresses");
          }
          break;
        case ':':
          if (words && !not_phrase) {
            if (in_group) sink_->Add("group inside a group");
            group = PhraseText(start, k);
            in_group = true;
            next_element(k);
          } else {
            not_phrase = true;
          }
          break;
        default:  // '@'
          not_phrase = true;
          break;
      }
    }
    if (angle > 0) sink_->Add("missing '>'");
    Element(start, tokens_.size(), group);
    if (in_group) sink_->Add("group without closing ';'");
  }

  absl::string_view Span(size_t b, size_t e) const {
    if (b >= e) return absl::string_view();
    return raw_.substr(tokens_[b].begin, tokens_[e - 1].end - tokens_[b].begin);
  }

  std::string PhraseText(size_t b, size_t e) {
    Defects local;
    std::string text = DecodePhrase(Span(b, e), &local, sink_->where());
    sink_->AddAll(local);
    return text;
  }

  void Emit(std::string name, std::string address, const std::string& group) {
    if (!IsValidUtf8(address)) {
      sink_->Add("8-bit address bytes that are not UTF-8 read as windows-1252");
      address = GuessToUtf8(address);
    }
    out_.push_back({std::move(name), std::move(address), group});
  }

  // Parses one list element, tokens [b, e).
  void Element(size_t b, size_t e, const std::string& group) {
    while (b < e) {
      size_t lt = e;
      bool significant = false;
      for (size_t k = b; k < e; ++k) {
        if (tokens_[k].Significant()) significant = true;
        if (tokens_[k].Is('<')) {
          lt = k;
          break;
        }
      }
      if (!significant) return;  // empty element or comments only
      if (lt == e) {
        BareElement(b, e, group);
        return;
      }
      size_t gt = e;
      for (size_t k = lt + 1; k < e; ++k) {
        if (tokens_[k].Is('>')) {
          gt = k;
          break;
        }
      }
      std::string name;
      bool has_phrase = false;
      for (size_t k = b; k < lt; ++k) {
        if (!tokens_[k].Significant()) continue;
        has_phrase = true;
        if (tokens_[k].type == Tok::kSpecial) {
          sink_->Add(absl::StrCat("unquoted '", tokens_[k].text, "' in display name"));
        }
      }
      if (has_phrase) name = PhraseText(b, lt);
      std::string address = AddressFromTokens(lt + 1, gt, /*in_angle=*/true);
      // After '>': comments, or another address that lacks its comma.
      size_t rest = gt < e ? gt + 1 : e;
      bool more = false;
      for (size_t k = rest; k < e && !more; ++k) more = tokens_[k].Significant();
      if (address.empty()) {
        sink_->Add("empty address dropped");
      } else {
        Emit(std::move(name), std::move(address), group);
      }
      if (!more) return;
      sink_->Add("missing ',' between addresses");
      b = rest;
    }
  }

  // An element without '<': addr-specs, perhaps preceded by a display name
  // without angle brackets, perhaps several separated by whitespace.
  void BareElement(size_t b, size_t e, const std::string& group) {
    // Obsolete route without angle brackets: "@a,@b:user@host".
    size_t first = b;
    while (first < e && !tokens_[first].Significant()) ++first;
    if (first < e && tokens_[first].Is('@')) {
      for (size_t k = first; k < e; ++k) {
        if (tokens_[k].Is(':')) {
          sink_->Add("obsolete route removed");
          b = k + 1;
          break;
        }
      }
    }
    // Segments: runs of words glued by '@', by dots, or by nothing.
    struct Segment {
      size_t b, e;  // token range
      bool has_at;
    };
    std::vector<Segment> segments;
    size_t prev = e;  // last significant token
    for (size_t k = b; k < e; ++k) {
      const Token& t = tokens_[k];
      if (!t.Significant()) continue;
      if (t.type == Tok::kSpecial && !t.Is('@')) {
        sink_->Add(absl::StrCat("stray '", t.text, "' in address ignored"));
        prev = e;
        continue;
      }
      bool glue = false;
      if (prev != e) {
        const Token& p = tokens_[prev];
        glue = p.end == t.begin || p.Is('@') || t.Is('@') ||
               (p.type == Tok::kAtom && p.text.back() == '.') ||
               (t.type == Tok::kAtom && t.text.front() == '.');
      }
      if (glue) {
        segments.back().e = k + 1;
        segments.back().has_at = segments.back().has_at || t.Is('@');
      } else {
        segments.push_back({k, k + 1, t.Is('@')});
      }
      prev = k;
    }
    size_t first_address = segments.size();
    for (size_t s = 0; s < segments.size(); ++s) {
      if (segments[s].has_at) {
        first_address = s;
        break;
      }
    }
    if (first_address == segments.size()) {
      NoAddress(b, e, segments.size() == 1 && segments[0].e - segments[0].b == 1, group);
      return;
    }
    std::string name;
    if (first_address > 0) {
      sink_->Add("display name without angle brackets");
      name = PhraseText(segments[0].b, segments[first_address - 1].e);
    }
    size_t addresses = 0;
    for (size_t s = first_address; s < segments.size(); ++s) {
      if (segments[s].has_at) ++addresses;
    }
    if (addresses > 1) sink_->Add("addresses separated by whitespace");
    for (size_t s = first_address; s < segments.size(); ++s) {
      const Segment& seg = segments[s];
      if (!seg.has_at) {
        sink_->Add("words after an address ignored");
        continue;
      }
      std::string address = AddressFromTokens(seg.b, seg.e, /*in_angle=*/false);
      if (address.empty()) continue;
      // Comments are not names (RFC 5322 3.2.2): "a@x (Al)" has none.
      std::string mailbox_name = std::move(name);
      name.clear();
      Emit(std::move(mailbox_name), std::move(address), group);
    }
  }

  // An element with no '@' and no '<'.
  void NoAddress(size_t b, size_t e, bool single_word, const std::string& group) {
    const absl::string_view span = Span(b, e);
    if (depth_ == 0 && span.find("=?") != absl::string_view::npos) {
      // Senders that encode the whole mailbox: "=?utf-8?Q?Name_=3Ca=40b=3E?=".
      Defects local;
      const std::string decoded = DecodePhrase(span, &local, sink_->where());
      if (decoded.find('@') != std::string::npos) {
        sink_->Add("address inside encoded words");
        sink_->AddAll(local);
        ListParser inner(decoded, sink_, depth_ + 1);
        for (Mailbox& m : inner.Run()) {
          if (m.group.empty()) m.group = group;
          out_.push_back(std::move(m));
        }
        return;
      }
    }
    if (single_word) {
      for (size_t k = b; k < e; ++k) {
        const Token& t = tokens_[k];
        if (t.type != Tok::kAtom && t.type != Tok::kQuoted) continue;
        sink_->Add("address without domain");
        std::string local = t.type == Tok::kQuoted ? QuoteLocalPart(t.text) : t.text;
        Emit(std::string(), std::move(local), group);
        return;
      }
    }
    sink_->Add("text without an address dropped");
  }

  // The addr-spec in tokens [b, e): an angle-addr's content (route and
  // all) or one segment of a bare element. Empty if there is none.
  std::string AddressFromTokens(size_t b, size_t e, bool in_angle) {
    if (in_angle) {
      // obs-route "@a,@b:" (or anything else before a ':') is dropped.
      for (size_t k = e; k > b; --k) {
        if (tokens_[k - 1].Is(':')) {
          sink_->Add("obsolete route removed");
          b = k;
          break;
        }
      }
    }
    std::vector<const Token*> words;
    for (size_t k = b; k < e; ++k) {
      const Token& t = tokens_[k];
      if (!t.Significant()) continue;
      if (t.type == Tok::kSpecial && !t.Is('@')) {
        sink_->Add(absl::StrCat("stray '", t.text, "' in address ignored"));
        continue;
      }
      if (t.Is('@') && !words.empty() && words.back()->Is('@')) {
        sink_->Add("doubled '@' in address");
        continue;
      }
      words.push_back(&t);
    }
    if (!words.empty() && words.back()->Is('@')) {
      sink_->Add("address without domain");
      words.pop_back();
    }
    if (words.empty()) return std::string();
    if (words.front()->Is('@')) {
      sink_->Add("address without local part dropped");
      return std::string();
    }
    size_t last_at = words.size();
    size_t ats = 0;
    for (size_t k = 0; k < words.size(); ++k) {
      if (words[k]->Is('@')) {
        last_at = k;
        ++ats;
      }
    }
    if (ats > 1) sink_->Add("more than one '@' in address");
    if (ats == 0) sink_->Add("address without domain");
    std::string local;
    bool quoted = false;
    for (size_t k = 0; k < last_at && k < words.size(); ++k) {
      local += words[k]->text;
      if (words[k]->type == Tok::kQuoted) quoted = true;
    }
    if (quoted) local = QuoteLocalPart(local);
    if (last_at == words.size()) return local;
    std::string domain;
    for (size_t k = last_at + 1; k < words.size(); ++k) domain += words[k]->text;
    return absl::StrCat(local, "@", domain);
  }

  absl::string_view raw_;
  DefectSink* sink_;
  int depth_;
  std::vector<Token> tokens_;
  std::vector<Mailbox> out_;
};

}  // namespace

std::vector<Mailbox> ParseAddressList(absl::string_view raw, Defects* defects,
                                      absl::string_view where) {
  DefectSink sink(defects, where);
  ListParser parser(raw, &sink, 0);
  return parser.Run();
}

Mailbox ParseSingle(absl::string_view raw, Defects* defects, absl::string_view where) {
  std::vector<Mailbox> all = ParseAddressList(raw, defects, where);
  if (all.empty()) return Mailbox();
  if (all.size() > 1 && defects != nullptr) {
    defects->push_back({std::string(where), "more than one address where one is expected"});
  }
  return std::move(all.front());
}

}  // namespace imap::mime
