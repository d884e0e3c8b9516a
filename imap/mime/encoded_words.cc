#include "imap/mime/encoded_words.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "imap/mime/charset.h"
#include "imap/util/utf8.h"

namespace imap::mime {
namespace {

// Longest charset (with language) we accept in an encoded word. RFC 2047
// limits the whole word to 75 characters.
constexpr size_t kMaxCharsetLength = 75;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

bool IsCharsetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  // RFC 2047 especials, less '.' (ANSI_X3.4-1968) and with '*' allowed
  // for the RFC 2231 language suffix.
  return absl::string_view("()<>@,;:\"/[]?=").find(c) == absl::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 2047 4.2, leniently: a '=' without two hex digits stays as is.
std::string DecodeQ(absl::string_view text, DefectSink* sink) {
  std::string out;
  out.reserve(text.size());
  bool bad = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      out.push_back(' ');
    } else if (c == '=') {
      const int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
      } else {
        out.push_back('=');
        bad = true;
      }
    } else {
      out.push_back(c);
    }
  }
  if (bad) sink->Add("'=' not followed by two hex digits in Q encoded word kept");
  return out;
}

// RFC 2047 4.1 (RFC 2045 6.8), leniently: characters outside the alphabet
// are skipped and missing padding is tolerated.
std::string DecodeB(absl::string_view text, DefectSink* sink) {
  std::string out;
  out.reserve(text.size() * 3 / 4 + 3);
  uint32_t bits = 0;
  int nbits = 0;
  size_t data_chars = 0;
  size_t pad_chars = 0;
  bool junk = false;
  for (char c : text) {
    if (c == '=') {
      ++pad_chars;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || pad_chars > 0) {
      junk = true;
      if (v < 0) continue;
    }
    ++data_chars;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  if (junk) sink->Add("invalid characters in base64 encoded word ignored");
  if (data_chars % 4 == 1) {
    sink->Add("base64 encoded word ends with a lone character");
  } else if ((data_chars + pad_chars) % 4 != 0) {
    sink->Add("base64 encoded word with incorrect padding");
  }
  return out;
}

// Finds "?=" at or after `from` in one whitespace-free run. Successive
// searches start at non-decreasing offsets, so remembering the last answer
// keeps a run full of "=?" linear rather than quadratic.
class TerminatorFinder {
 public:
  explicit TerminatorFinder(absl::string_view run) : run_(run) {}

  size_t Find(size_t from) {
    if (searched_ && from >= from_ && (found_ == absl::string_view::npos || from <= found_)) {
      return found_;
    }
    searched_ = true;
    from_ = from;
    found_ = run_.find("?=", from);
    return found_;
  }

 private:
  absl::string_view run_;
  bool searched_ = false;
  size_t from_ = 0;
  size_t found_ = absl::string_view::npos;
};

struct EncodedWord {
  size_t end = 0;       // offset just past "?="
  std::string charset;  // as written, language removed
  std::string bytes;    // decoded, still in `charset`
};

enum class ParseResult { kWord, kNotAWord, kUnterminated };

// Reads an encoded word at run[pos] (which starts "=?").
ParseResult ParseEncodedWord(absl::string_view run, size_t pos, TerminatorFinder* terminators,
                             DefectSink* sink, EncodedWord* word) {
  size_t i = pos + 2;
  const size_t cs_start = i;
  while (i < run.size() && i - cs_start <= kMaxCharsetLength && IsCharsetChar(run[i])) ++i;
  if (i == cs_start || i >= run.size() || run[i] != '?') return ParseResult::kNotAWord;
  absl::string_view charset = run.substr(cs_start, i - cs_start);
  if (i + 2 >= run.size() || run[i + 2] != '?') return ParseResult::kNotAWord;
  const char enc = absl::ascii_toupper(static_cast<unsigned char>(run[i + 1]));
  if (enc != 'B' && enc != 'Q') return ParseResult::kNotAWord;
  const size_t text_start = i + 3;
  const size_t end = terminators->Find(text_start);
  if (end == absl::string_view::npos) return ParseResult::kUnterminated;
  // RFC 2231 section 5: "charset*language".
  const size_t star = charset.find('*');
  if (star != absl::string_view::npos) charset = charset.substr(0, star);
  if (charset.empty()) return ParseResult::kNotAWord;
  absl::string_view text = run.substr(text_start, end - text_start);
  word->end = end + 2;
  word->charset = std::string(charset);
  word->bytes = enc == 'Q' ? DecodeQ(text, sink) : DecodeB(text, sink);
  return ParseResult::kWord;
}

// Removes line breaks; one not followed by whitespace (not a fold) becomes
// a space so that words do not run together.
std::string Unfold(absl::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    // Text between line breaks is copied in one piece.
    size_t brk = i;
    while (brk < raw.size() && raw[brk] != '\r' && raw[brk] != '\n') ++brk;
    out.append(raw.data() + i, brk - i);
    i = brk;
    while (i < raw.size() && (raw[i] == '\r' || raw[i] == '\n')) ++i;
    if (i < raw.size() && !IsWsp(raw[i]) && !out.empty()) out.push_back(' ');
  }
  return out;
}

// Builds the decoded text piece by piece.
class TextBuilder {
 public:
  explicit TextBuilder(DefectSink* sink) : sink_(sink) {}

  void Text(absl::string_view text) {
    if (text.empty()) return;
    FlushWord();
    out_.append(held_space_);
    held_space_.clear();
    after_word_ = false;
    if (IsValidUtf8(text)) {
      out_.append(text.data(), text.size());
    } else {
      sink_->Add("8-bit header bytes that are not UTF-8 read as windows-1252");
      out_.append(GuessToUtf8(text));
    }
  }

  void Space(absl::string_view space) {
    if (after_word_) {
      held_space_.append(space.data(), space.size());
    } else {
      out_.append(space.data(), space.size());
    }
  }

  void Word(EncodedWord word) {
    // Whitespace between two encoded words is not part of the text
    // (RFC 2047 section 6.2).
    held_space_.clear();
    if (after_word_ && absl::EqualsIgnoreCase(word.charset, pending_charset_)) {
      pending_bytes_.append(word.bytes);
    } else {
      FlushWord();
      pending_charset_ = std::move(word.charset);
      pending_bytes_ = std::move(word.bytes);
      has_pending_ = true;
    }
    after_word_ = true;
  }

  std::string Finish() {
    FlushWord();
    out_.append(held_space_);
    held_space_.clear();
    return std::move(out_);
  }

 private:
  void FlushWord() {
    if (!has_pending_) return;
    has_pending_ = false;
    Defects local;
    absl::StatusOr<std::string> text = ToUtf8(pending_bytes_, pending_charset_, &local, "");
    sink_->AddAll(local);
    if (text.ok()) {
      out_.append(*text);
    } else {
      sink_->Add(absl::StrCat("encoded word in unknown charset '", pending_charset_,
                              "' read as UTF-8 or windows-1252"));
      out_.append(GuessToUtf8(pending_bytes_));
    }
    pending_bytes_.clear();
  }

  DefectSink* sink_;
  std::string out_;
  std::string held_space_;
  bool after_word_ = false;
  bool has_pending_ = false;
  std::string pending_charset_;
  std::string pending_bytes_;
};

// Splits one whitespace-free run into text and encoded words.
void DecodeRun(absl::string_view run, TextBuilder* builder, DefectSink* sink) {
  TerminatorFinder terminators(run);
  size_t text_start = 0;
  size_t search = 0;
  while (search < run.size()) {
    const size_t at = run.find("=?", search);
    if (at == absl::string_view::npos) break;
    EncodedWord word;
    switch (ParseEncodedWord(run, at, &terminators, sink, &word)) {
      case ParseResult::kWord: {
        if (at > text_start || word.end < run.size()) {
          // Allowed only between whitespace, but senders glue them to
          // punctuation and to each other.
          const bool glued_to_text =
              at > text_start || (word.end < run.size() && run.compare(word.end, 2, "=?") != 0);
          if (glued_to_text) sink->Add("encoded word not separated from text by whitespace");
        }
        builder->Text(run.substr(text_start, at - text_start));
        const size_t end = word.end;
        builder->Word(std::move(word));
        text_start = end;
        search = end;
        break;
      }
      case ParseResult::kUnterminated:
        sink->Add("unterminated encoded word kept as text");
        search = at + 1;
        break;
      case ParseResult::kNotAWord:
        search = at + 1;
        break;
    }
  }
  builder->Text(run.substr(text_start));
}

bool HasLineBreak(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; });
}

// DecodeHeaderText() of text already unfolded.
std::string DecodeUnfolded(std::string text, Defects* defects, absl::string_view where) {
  // Most header text holds no encoded word and is valid UTF-8 (plain
  // ASCII above all): the steps below would return it unchanged.
  if (text.find("=?") == std::string::npos && IsValidUtf8(text)) return text;
  DefectSink sink(defects, where);
  const absl::string_view view(text);
  TextBuilder builder(&sink);
  size_t i = 0;
  while (i < view.size()) {
    size_t j = i;
    if (IsWsp(view[i])) {
      while (j < view.size() && IsWsp(view[j])) ++j;
      builder.Space(view.substr(i, j - i));
    } else {
      while (j < view.size() && !IsWsp(view[j])) ++j;
      DecodeRun(view.substr(i, j - i), &builder, &sink);
    }
    i = j;
  }
  return builder.Finish();
}

}  // namespace

std::string DecodeHeaderText(absl::string_view raw, Defects* defects, absl::string_view where) {
  return DecodeUnfolded(Unfold(raw), defects, where);
}

std::string DecodePhrase(absl::string_view raw, Defects* defects, absl::string_view where) {
  DefectSink sink(defects, where);
  std::string text;
  text.reserve(raw.size());
  bool space_due = false;
  auto append = [&](char c) {
    if (space_due && !text.empty()) text.push_back(' ');
    space_due = false;
    text.push_back(c);
  };
  size_t i = 0;
  while (i < raw.size()) {
    const char c = raw[i];
    if (c == '"') {
      size_t j = i + 1;
      bool closed = false;
      // An empty quoted string still separates words.
      if (space_due && !text.empty()) text.push_back(' ');
      space_due = false;
      while (j < raw.size()) {
        const char q = raw[j];
        if (q == '"') {
          closed = true;
          ++j;
          break;
        }
        if (q == '\\' && j + 1 < raw.size()) {
          text.push_back(raw[j + 1]);
          j += 2;
        } else {
          if (q != '\r' && q != '\n') text.push_back(q);
          ++j;
        }
      }
      if (!closed) sink.Add("unterminated quoted string");
      i = j;
    } else if (c == '(') {
      int depth = 0;
      size_t j = i;
      while (j < raw.size()) {
        const char q = raw[j];
        if (q == '\\' && j + 1 < raw.size()) {
          j += 2;
          continue;
        }
        ++j;
        if (q == '(') ++depth;
        if (q == ')' && --depth == 0) break;
      }
      if (depth > 0) sink.Add("unterminated comment");
      space_due = true;
      i = j;
    } else if (IsWsp(c) || c == '\r' || c == '\n') {
      space_due = true;
      ++i;
    } else {
      append(c);
      ++i;
    }
  }
  // A quoted pair can hold a line break; otherwise `text` is unfolded.
  return DecodeUnfolded(HasLineBreak(text) ? Unfold(text) : std::move(text), defects, where);
}

}  // namespace imap::mime
