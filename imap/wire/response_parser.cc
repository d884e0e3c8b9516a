#include "imap/wire/response_parser.h"

#include <cassert>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"

namespace imap::wire {
namespace {

absl::Status Malformed(uint64_t offset, absl::string_view what) {
  return WithErrorKind(
      absl::UnavailableError(absl::StrCat("malformed IMAP response at byte ", offset, ": ", what)),
      ErrorKind::kMalformed);
}

absl::Status LimitHit(uint64_t offset, absl::string_view what) {
  return WithErrorKind(absl::ResourceExhaustedError(
                           absl::StrCat("IMAP response at byte ", offset, " exceeds ", what)),
                       ErrorKind::kLimit);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses decimal digits into *out, refusing values above `max`.
bool ParseDecimal(absl::string_view digits, uint64_t max, uint64_t* out) {
  if (digits.empty()) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (max - d) / 10) return false;
    value = value * 10 + d;
  }
  *out = value;
  return true;
}

StatusWord StatusWordFromAtom(absl::string_view atom) {
  if (absl::EqualsIgnoreCase(atom, "OK")) return StatusWord::kOk;
  if (absl::EqualsIgnoreCase(atom, "NO")) return StatusWord::kNo;
  if (absl::EqualsIgnoreCase(atom, "BAD")) return StatusWord::kBad;
  if (absl::EqualsIgnoreCase(atom, "BYE")) return StatusWord::kBye;
  if (absl::EqualsIgnoreCase(atom, "PREAUTH")) return StatusWord::kPreauth;
  return StatusWord::kNone;
}

// True if the line (without CRLF) is a continuation request or a status
// response, whose text may end in "{N}" without that being a literal.
bool IsTextLine(absl::string_view line) {
  if (absl::StartsWith(line, "+")) return true;
  const size_t sp = line.find(' ');
  if (sp == absl::string_view::npos) return false;
  absl::string_view rest = line.substr(sp + 1);
  const size_t end = rest.find_first_of(" [");
  return StatusWordFromAtom(rest.substr(0, end)) != StatusWord::kNone;
}

// True if the text before a literal marker names a body section, whose
// literal may be streamed: "... BODY[...]<n> {", "... RFC822.TEXT {".
bool IsBodyItemBefore(absl::string_view t) {
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (!t.empty() && t.back() == '>') {  // partial fetch origin "<0>"
    const size_t lt = t.rfind('<');
    if (lt == absl::string_view::npos) return false;
    t = t.substr(0, lt);
  }
  absl::string_view name;
  if (!t.empty() && t.back() == ']') {
    // The '[' that this ']' closes; "x]]]" without one is no section.
    size_t open = absl::string_view::npos;
    int depth = 0;
    for (size_t i = t.size(); i-- > 0;) {
      if (t[i] == ']') ++depth;
      if (t[i] == '[' && --depth == 0) {
        open = i;
        break;
      }
    }
    if (open == absl::string_view::npos) return false;
    name = t.substr(0, open);
    const size_t sp = name.find_last_of(" (");
    if (sp != absl::string_view::npos) name = name.substr(sp + 1);
    return absl::EqualsIgnoreCase(name, "BODY") || absl::EqualsIgnoreCase(name, "BINARY");
  }
  const size_t sp = t.find_last_of(" (");
  name = sp == absl::string_view::npos ? t : t.substr(sp + 1);
  return absl::EqualsIgnoreCase(name, "RFC822") || absl::EqualsIgnoreCase(name, "RFC822.TEXT") ||
         absl::EqualsIgnoreCase(name, "RFC822.HEADER");
}

// Recursive-descent parser over one complete, framed response.
class FrameParser {
 public:
  // `placeholders`: whether "\0size\0" stands for a streamed literal (only
  // in frames the ResponseParser rewrote; elsewhere a NUL is an error).
  FrameParser(absl::string_view frame, uint64_t base_offset, const ParserLimits& limits,
              bool placeholders)
      : frame_(frame), base_(base_offset), limits_(limits), placeholders_(placeholders) {}

  absl::StatusOr<Response> Parse() {
    Response r;
    if (Peek() == '+') {
      ++pos_;
      if (Peek() == ' ') ++pos_;
      r.kind = Response::Kind::kContinuation;
      r.text = std::string(RestOfLine());
      return EndOfLine(std::move(r));
    }
    if (Peek() == '*') {
      ++pos_;
      if (!Consume(' ')) return Error("expected a space after '*'");
      r.kind = Response::Kind::kUntagged;
      return ParseUntagged(std::move(r));
    }
    r.kind = Response::Kind::kTagged;
    absl::string_view tag = ReadAtomText(/*stop_at_bracket=*/false);
    if (tag.empty()) return Error("expected '*', '+' or a tag");
    r.tag = std::string(tag);
    if (!Consume(' ')) return Error("expected a space after the tag");
    const size_t word_at = pos_;
    r.status = StatusWordFromAtom(ReadAtomText(false));
    if (r.status != StatusWord::kOk && r.status != StatusWord::kNo &&
        r.status != StatusWord::kBad) {
      return Malformed(base_ + word_at, "expected OK, NO or BAD after the tag");
    }
    absl::Status s = ParseRespText(&r);
    if (!s.ok()) return s;
    return EndOfLine(std::move(r));
  }

 private:
  absl::StatusOr<Response> ParseUntagged(Response r) {
    absl::string_view first = ReadAtomText(false);
    if (first.empty()) return Error("expected a keyword or number after '* '");
    r.status = StatusWordFromAtom(first);
    if (r.status != StatusWord::kNone) {
      absl::Status s = ParseRespText(&r);
      if (!s.ok()) return s;
      return EndOfLine(std::move(r));
    }
    if (IsDigit(first[0])) {
      uint64_t n = 0;
      if (!ParseDecimal(first, std::numeric_limits<uint32_t>::max(), &n)) {
        return Error("message number is not a 32-bit number");
      }
      r.number = static_cast<uint32_t>(n);
      if (!Consume(' ')) return Error("expected a space after the message number");
      first = ReadAtomText(false);
      if (first.empty()) return Error("expected a keyword after the message number");
    }
    r.keyword = absl::AsciiStrToUpper(first);
    while (Consume(' ')) {
      if (AtLineEnd()) break;  // tolerate a trailing space
      absl::StatusOr<Value> v = ParseValue(0, false);
      if (!v.ok()) return v.status();
      r.values.push_back(*std::move(v));
    }
    return EndOfLine(std::move(r));
  }

  // resp-text = ["[" resp-text-code "]" SP] text
  absl::Status ParseRespText(Response* r) {
    if (!Consume(' ')) {
      // Some servers send "A1 OK" with no text at all.
      return AtLineEnd() ? absl::OkStatus() : Error("expected a space before the text");
    }
    if (Peek() == '[') {
      ++pos_;
      absl::string_view name = ReadAtomText(/*stop_at_bracket=*/true);
      if (name.empty()) return Error("expected a response code name after '['");
      r->code = absl::AsciiStrToUpper(name);
      const size_t close = frame_.find(']', pos_);
      const size_t eol = frame_.find_first_of("\r\n", pos_);
      if (close == absl::string_view::npos || close > eol) {
        return Error("response code without ']'");
      }
      if (Consume(' ')) {
        r->code_text = std::string(frame_.substr(pos_, close - pos_));
        // Arguments are parsed as values where they can be; free-form codes
        // keep only code_text.
        std::vector<Value> args;
        bool parsed = true;
        while (pos_ < close) {
          absl::StatusOr<Value> v = ParseValue(0, true);
          if (!v.ok() || pos_ > close) {
            parsed = false;
            break;
          }
          args.push_back(*std::move(v));
          if (Peek() == ' ') ++pos_;
        }
        if (parsed) r->code_args = std::move(args);
      }
      pos_ = close + 1;
      Consume(' ');
    }
    r->text = std::string(RestOfLine());
    return absl::OkStatus();
  }

  absl::StatusOr<Value> ParseValue(int depth, bool in_code) {
    const char c = Peek();
    if (c == '(') {
      if (depth + 1 > limits_.max_list_depth) {
        return LimitHit(base_ + pos_, absl::StrCat("the list depth limit of ",
                                                   limits_.max_list_depth));
      }
      ++pos_;
      std::vector<Value> elements;
      while (true) {
        while (Peek() == ' ') ++pos_;  // lenient about doubled spaces
        if (Peek() == ')') {
          ++pos_;
          return Value::List(std::move(elements));
        }
        if (AtLineEnd()) return Error("unterminated list");
        absl::StatusOr<Value> v = ParseValue(depth + 1, in_code);
        if (!v.ok()) return v.status();
        elements.push_back(*std::move(v));
      }
    }
    if (c == '"') return ParseQuoted();
    if (c == '\0' && pos_ < frame_.size() && placeholders_) return ParseStreamedPlaceholder();
    if (c == '{' || (c == '~' && pos_ + 1 < frame_.size() && frame_[pos_ + 1] == '{')) {
      return ParseLiteral();
    }
    absl::string_view atom = ReadAtomText(in_code);
    if (atom.empty()) return Error("expected a value");
    if (absl::EqualsIgnoreCase(atom, "NIL")) return Value::Nil();
    uint64_t n = 0;
    if (IsDigit(atom[0]) && ParseDecimal(atom, std::numeric_limits<uint64_t>::max(), &n)) {
      return Value::Number(n, std::string(atom));
    }
    return Value::Atom(std::string(atom));
  }

  absl::StatusOr<Value> ParseQuoted() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < frame_.size()) {
      const char c = frame_[pos_++];
      if (c == '"') return Value::String(std::move(out));
      if (c == '\r' || c == '\n') break;
      // Raw lines never hold NUL (the framer refuses it), so this is a
      // streamed literal's placeholder inside an unclosed quote.
      if (c == '\0') return Error("literal inside a quoted string");
      if (c == '\\') {
        if (pos_ >= frame_.size()) break;
        out.push_back(frame_[pos_++]);
        continue;
      }
      out.push_back(c);
    }
    return Error("unterminated quoted string");
  }

  absl::StatusOr<Value> ParseLiteral() {
    if (Peek() == '~') ++pos_;
    ++pos_;  // '{'
    const size_t digits_start = pos_;
    while (IsDigit(Peek())) ++pos_;
    uint64_t size = 0;
    if (!ParseDecimal(frame_.substr(digits_start, pos_ - digits_start),
                      std::numeric_limits<uint64_t>::max(), &size)) {
      return Error("bad literal size");
    }
    if (!Consume('}')) return Error("expected '}' after the literal size");
    if (Peek() == '\r') ++pos_;
    if (!Consume('\n')) return Error("expected CRLF after a literal's size");
    // The framer already checked the size against the limit and waited for
    // every byte, so this cannot run past the frame.
    if (size > frame_.size() - pos_) return Error("literal longer than the response");
    Value v = Value::String(std::string(frame_.substr(pos_, static_cast<size_t>(size))));
    pos_ += static_cast<size_t>(size);
    return v;
  }

  // "\0<size>\0" stands where the framer cut out a streamed literal.
  absl::StatusOr<Value> ParseStreamedPlaceholder() {
    ++pos_;
    const size_t digits_start = pos_;
    while (IsDigit(Peek())) ++pos_;
    uint64_t size = 0;
    if (!ParseDecimal(frame_.substr(digits_start, pos_ - digits_start),
                      std::numeric_limits<uint64_t>::max(), &size) ||
        pos_ >= frame_.size() || frame_[pos_] != '\0') {
      return Error("bad streamed literal placeholder");
    }
    ++pos_;
    Value v = Value::String("");
    v.streamed = true;
    v.number = size;
    return v;
  }

  // Reads atom characters: anything but SP, CR, LF, '(', ')', '"', '{' and
  // (in a response code) ']'. A '[' opens a section like BODY[HEADER.FIELDS
  // (A B)] that runs to its ']' spaces included.
  absl::string_view ReadAtomText(bool stop_at_bracket) {
    const size_t start = pos_;
    while (pos_ < frame_.size()) {
      const char c = frame_[pos_];
      if (c == ' ' || c == '\r' || c == '\n' || c == '(' || c == ')' || c == '"' || c == '{' ||
          static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        break;
      }
      if (c == ']' && stop_at_bracket) break;
      if (c == '[' && !stop_at_bracket && IsSectionItem(frame_.substr(start, pos_ - start))) {
        const size_t close = SectionEnd(pos_);
        if (close == absl::string_view::npos) break;
        pos_ = close + 1;
        continue;
      }
      ++pos_;
    }
    return frame_.substr(start, pos_ - start);
  }

  // FETCH items whose "[...]" section may hold spaces and parentheses. In
  // any other atom (a keyword flag, say) '[' is an ordinary character.
  static bool IsSectionItem(absl::string_view name) {
    for (absl::string_view item : {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"}) {
      if (absl::EqualsIgnoreCase(name, item)) return true;
    }
    return false;
  }

  // The ']' that closes the section opened at `open`, skipping quoted
  // header names (which may hold ']'); npos if the line ends first.
  size_t SectionEnd(size_t open) const {
    bool quoted = false;
    for (size_t i = open + 1; i < frame_.size(); ++i) {
      const char c = frame_[i];
      // A line end, or a streamed literal's placeholder: no section here.
      if (c == '\r' || c == '\n' || c == '\0') return absl::string_view::npos;
      if (quoted && c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ']' && !quoted) {
        return i;
      }
    }
    return absl::string_view::npos;
  }

  absl::string_view RestOfLine() {
    const size_t start = pos_;
    const size_t eol = frame_.find_first_of("\r\n", pos_);
    pos_ = eol == absl::string_view::npos ? frame_.size() : eol;
    return frame_.substr(start, pos_ - start);
  }

  absl::StatusOr<Response> EndOfLine(Response r) {
    while (Peek() == ' ') ++pos_;
    if (Peek() == '\r') ++pos_;
    if (!Consume('\n')) return Error("unexpected data before the end of the line");
    if (pos_ != frame_.size()) return Error("trailing data after the response");
    return r;
  }

  bool AtLineEnd() const { return pos_ >= frame_.size() || Peek() == '\r' || Peek() == '\n'; }
  char Peek() const { return pos_ < frame_.size() ? frame_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || pos_ >= frame_.size()) return false;
    ++pos_;
    return true;
  }
  absl::Status Error(absl::string_view what) const { return Malformed(base_ + pos_, what); }

  absl::string_view frame_;
  uint64_t base_;
  const ParserLimits& limits_;
  const bool placeholders_;
  size_t pos_ = 0;
};

}  // namespace

ResponseParser::ResponseParser(ParserLimits limits) : limits_(limits) {}

void ResponseParser::Feed(absl::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }

absl::StatusOr<ResponseParser::Frame> ResponseParser::FindFrameEnd(size_t* end) {
  while (true) {
    if (streaming_remaining_ > 0) return Frame::kIncomplete;  // ReadLiteral() first
    if (literal_remaining_ > 0) {
      const uint64_t available = buffer_.size() - scan_pos_;
      if (available < literal_remaining_) {
        literal_remaining_ -= available;
        scan_pos_ = buffer_.size();
        return Frame::kIncomplete;
      }
      scan_pos_ += static_cast<size_t>(literal_remaining_);
      literal_remaining_ = 0;
      line_start_ = scan_pos_;
    }
    const size_t lf = buffer_.find('\n', scan_pos_);
    if (lf == std::string::npos) {
      if (buffer_.size() - line_start_ > limits_.max_line_length) {
        return LimitHit(stream_offset_ + line_start_,
                        absl::StrCat("the line length limit of ", limits_.max_line_length));
      }
      scan_pos_ = buffer_.size();
      return Frame::kIncomplete;
    }
    if (lf + 1 - line_start_ > limits_.max_line_length) {
      return LimitHit(stream_offset_ + line_start_,
                      absl::StrCat("the line length limit of ", limits_.max_line_length));
    }
    const size_t this_line_start = line_start_;
    absl::string_view line(buffer_.data() + line_start_, lf - line_start_);
    // NUL never appears outside literals; refusing it keeps the streamed
    // literal placeholder ("\0size\0") unambiguous.
    if (const size_t nul = line.find('\0'); nul != absl::string_view::npos) {
      return Malformed(stream_offset_ + line_start_ + nul, "NUL byte outside a literal");
    }
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    const bool text_line = first_line_ && IsTextLine(line);
    first_line_ = false;
    scan_pos_ = lf + 1;
    line_start_ = scan_pos_;
    *end = lf + 1;
    // A line ending in "{N}" announces N bytes of literal, then the line goes on.
    if (text_line || !absl::EndsWith(line, "}")) return Frame::kComplete;
    const size_t open = line.rfind('{');
    if (open == absl::string_view::npos) return Frame::kComplete;
    absl::string_view digits = line.substr(open + 1, line.size() - open - 2);
    if (digits.empty() || digits.find_first_not_of("0123456789") != absl::string_view::npos) {
      return Frame::kComplete;
    }
    uint64_t size = 0;
    const bool parsed = ParseDecimal(digits, std::numeric_limits<uint64_t>::max(), &size);
    // "~{N}" (literal8) only where a value starts; in "x~{N}" the '~' ends an atom.
    const bool literal8 = open > 0 && line[open - 1] == '~' &&
                          (open == 1 || line[open - 2] == ' ' || line[open - 2] == '(');
    const size_t marker_at = this_line_start + open - (literal8 ? 1 : 0);
    const bool stream =
        parsed && limits_.stream_body_literals_from > 0 &&
        size >= limits_.stream_body_literals_from &&
        IsBodyItemBefore(absl::string_view(buffer_).substr(this_line_start, marker_at - this_line_start));
    const uint64_t limit = stream ? limits_.max_streamed_literal : limits_.max_inline_literal;
    if (!parsed || size > limit) {
      return LimitHit(stream_offset_ + this_line_start + open,
                      absl::StrCat("the literal size limit of ", limit, " bytes (announced {",
                                   digits, "})"));
    }
    if (!stream) {
      literal_remaining_ = size;
      continue;
    }
    // Replace "{N}\r\n" by a placeholder the frame parser understands, and
    // hand the literal's bytes out through ReadLiteral() as they arrive.
    const std::string placeholder = absl::StrCat(std::string(1, '\0'), size, std::string(1, '\0'));
    buffer_.replace(marker_at, lf + 1 - marker_at, placeholder);
    streaming_at_ = marker_at + placeholder.size();
    streaming_remaining_ = size;
    scan_pos_ = line_start_ = streaming_at_;
    *end = streaming_at_;
    return Frame::kLiteralStart;
  }
}

size_t ResponseParser::ReadLiteral(char* buf, size_t capacity) {
  if (streaming_remaining_ == 0) return 0;
  const uint64_t n64 = std::min<uint64_t>({static_cast<uint64_t>(capacity), streaming_remaining_,
                                           static_cast<uint64_t>(buffer_.size() - streaming_at_)});
  const size_t n = static_cast<size_t>(n64);
  buffer_.copy(buf, n, streaming_at_);
  buffer_.erase(streaming_at_, n);
  streaming_remaining_ -= n;
  return n;
}

void ResponseParser::LiteralReadElsewhere(size_t n) {
  assert(buffer_.size() == streaming_at_ && n <= streaming_remaining_);
  streaming_remaining_ -= n;
}

namespace {

// The response text before a streamed literal, with the placeholders of
// earlier streamed literals shown as "{N}" and the current one dropped.
std::string ReadablePrefix(absl::string_view raw) {
  // `raw` ends with the current placeholder "\0size\0": drop it.
  raw = raw.substr(0, raw.rfind('\0', raw.size() - 2));
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t a = raw.find('\0', pos);
    if (a == absl::string_view::npos) break;
    const size_t b = raw.find('\0', a + 1);
    out.append(raw.data() + pos, a - pos);
    if (b == absl::string_view::npos) return out;  // cannot happen: placeholders are whole
    absl::StrAppend(&out, "{", raw.substr(a + 1, b - a - 1), "}");
    pos = b + 1;
  }
  out.append(raw.data() + pos, raw.size() - pos);
  return out;
}

}  // namespace

absl::StatusOr<ParserEvent> ResponseParser::NextEvent() {
  ParserEvent event;
  if (!error_.ok()) return error_;
  Compact();
  size_t end = 0;
  absl::StatusOr<Frame> frame = FindFrameEnd(&end);
  if (!frame.ok()) {
    error_ = frame.status();
    return error_;
  }
  if (*frame == Frame::kIncomplete) return event;
  if (*frame == Frame::kLiteralStart) {
    event.kind = ParserEvent::Kind::kLiteralStart;
    event.literal_prefix =
        ReadablePrefix(absl::string_view(buffer_).substr(frame_start_, end - frame_start_));
    event.literal_size = streaming_remaining_;
    return event;
  }
  absl::string_view frame_bytes(buffer_.data() + frame_start_, end - frame_start_);
  absl::StatusOr<Response> r =
      FrameParser(frame_bytes, stream_offset_ + frame_start_, limits_, /*placeholders=*/true).Parse();
  frame_start_ = end;
  line_start_ = scan_pos_ = frame_start_;
  first_line_ = true;
  if (!r.ok()) {
    error_ = r.status();
    return error_;
  }
  event.kind = ParserEvent::Kind::kResponse;
  event.response = *std::move(r);
  return event;
}

absl::StatusOr<absl::optional<Response>> ResponseParser::Next() {
  absl::StatusOr<ParserEvent> event = NextEvent();
  if (!event.ok()) return event.status();
  switch (event->kind) {
    case ParserEvent::Kind::kNeedMore:
      return absl::optional<Response>();
    case ParserEvent::Kind::kResponse:
      return absl::optional<Response>(std::move(event->response));
    case ParserEvent::Kind::kLiteralStart:
      break;
  }
  error_ = absl::FailedPreconditionError("a streamed literal started; use NextEvent()");
  return error_;
}

void ResponseParser::Compact() {
  // Drop consumed bytes once they are the larger part of the buffer, so the
  // cost stays linear in the bytes fed.
  if (frame_start_ == 0 || frame_start_ < buffer_.size() / 2) return;
  buffer_.erase(0, frame_start_);
  stream_offset_ += frame_start_;
  line_start_ -= frame_start_;
  scan_pos_ -= frame_start_;
  if (streaming_remaining_ > 0) streaming_at_ -= frame_start_;
  frame_start_ = 0;
}

absl::StatusOr<Response> ParseResponse(absl::string_view frame, const ParserLimits& limits) {
  return FrameParser(frame, 0, limits, /*placeholders=*/false).Parse();
}

}  // namespace imap::wire
