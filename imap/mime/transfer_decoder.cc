#include "imap/mime/transfer_decoder.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace imap::mime {

void TransferDecoder::AddDefectOnce(absl::string_view what) {
  for (const Defect& d : defects_) {
    if (d.what == what) return;
  }
  defects_.push_back({where_, std::string(what)});
}

namespace {

class IdentityDecoder final : public TransferDecoder {
 public:
  explicit IdentityDecoder(absl::string_view where) : TransferDecoder(where) {}
  void Feed(absl::string_view in, std::string* out) override {
    if (!finished_) out->append(in.data(), in.size());
  }
  void Finish(std::string*) override { finished_ = true; }

 private:
  bool finished_ = false;
};

// ------------------------------------------------------------ base64

constexpr uint8_t kSpace = 64;    // skipped silently
constexpr uint8_t kPad = 65;      // '='
constexpr uint8_t kInvalid = 66;  // skipped with a defect

constexpr std::array<uint8_t, 256> MakeBase64Table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = i;
  t[' '] = t['\t'] = t['\r'] = t['\n'] = t['\f'] = t['\v'] = kSpace;
  t['='] = kPad;
  return t;
}
constexpr std::array<uint8_t, 256> kBase64 = MakeBase64Table();

class Base64Decoder final : public TransferDecoder {
 public:
  explicit Base64Decoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    // Decode straight into the output's new tail (push_back per byte costs
    // more than the decoding itself), then trim it to what was written.
    const size_t old_size = out->size();
    out->resize(old_size + in.size() / 4 * 3 + 3);
    char* const begin = &(*out)[0];
    char* dst = begin + old_size;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const auto* const end = p + in.size();
    while (p < end) {
      if (count_ == 0 && !padded_ && end - p >= 4) {
        // The common case: four alphabet characters make three bytes.
        const uint8_t a = kBase64[p[0]], b = kBase64[p[1]], c = kBase64[p[2]], d = kBase64[p[3]];
        if ((a | b | c | d) < 64) {
          const uint32_t quad = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
          *dst++ = static_cast<char>(quad >> 16);
          *dst++ = static_cast<char>(quad >> 8);
          *dst++ = static_cast<char>(quad);
          p += 4;
          continue;
        }
      }
      const uint8_t v = kBase64[*p++];
      if (padded_) {
        // A second '=' belongs to the padding; anything else is after it.
        if (v != kSpace && v != kPad) AddDefectOnce("data after base64 padding ignored");
        continue;
      }
      if (v < 64) {
        bits_ = (bits_ << 6) | v;
        if (++count_ == 4) {
          *dst++ = static_cast<char>(bits_ >> 16);
          *dst++ = static_cast<char>(bits_ >> 8);
          *dst++ = static_cast<char>(bits_);
          bits_ = 0;
          count_ = 0;
        }
      } else if (v == kPad) {
        if (count_ < 2) {
          AddDefectOnce("misplaced base64 padding ignored");
          continue;
        }
        dst = Flush(dst);
        padded_ = true;
      } else if (v == kInvalid) {
        AddDefectOnce("invalid base64 character ignored");
      }
    }
    out->resize(static_cast<size_t>(dst - begin));
  }

  void Finish(std::string* out) override {
    if (finished_) return;
    finished_ = true;
    if (padded_) return;
    if (count_ == 1) {
      AddDefectOnce("truncated base64 input: last 6 bits dropped");
    } else if (count_ > 1) {
      AddDefectOnce("base64 input without padding");
      char tail[2];
      out->append(tail, static_cast<size_t>(Flush(tail) - tail));
    }
  }

 private:
  // Writes the bytes of a partial quad of 2 or 3 sextets at `dst`;
  // returns the end of what it wrote.
  char* Flush(char* dst) {
    if (count_ == 2) {
      *dst++ = static_cast<char>(bits_ >> 4);
    } else if (count_ == 3) {
      *dst++ = static_cast<char>(bits_ >> 10);
      *dst++ = static_cast<char>(bits_ >> 2);
    }
    bits_ = 0;
    count_ = 0;
    return dst;
  }

  uint32_t bits_ = 0;
  int count_ = 0;  // sextets in bits_
  bool padded_ = false;
  bool finished_ = false;
};

// ------------------------------------------------------------ quoted-printable

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class QuotedPrintableDecoder final : public TransferDecoder {
 public:
  explicit QuotedPrintableDecoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    out->reserve(out->size() + in.size());
    size_t i = 0;
    while (i < in.size()) {
      // Fast path: plain text up to the next byte that needs thought.
      if (state_ == State::kText && space_.empty()) {
        size_t j = i;
        while (j < in.size() && !Special(in[j])) ++j;
        out->append(in.data() + i, j - i);
        i = j;
        if (i == in.size()) break;
      }
      if (Step(in[i], out)) ++i;
    }
  }

  void Finish(std::string* out) override {
    if (finished_) return;
    finished_ = true;
    switch (state_) {
      case State::kText:
        break;  // white space at the end of the last line is dropped
      case State::kCr:
        out->append(space_);
        out->push_back('\r');
        break;
      case State::kEqHex:
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->push_back(hex1_);
        break;
      case State::kEq:
      case State::kEqSpace:
      case State::kEqCr:
        break;  // a soft line break at the very end
    }
    space_.clear();
  }

 private:
  // Longest run of white space held back while it may be trailing. No
  // conforming line is longer; a longer run is text and is passed on.
  static constexpr size_t kMaxSpace = 76;
  static constexpr absl::string_view kInvalidEscape =
      "invalid quoted-printable escape kept literally";

  enum class State {
    kText,     // in a line
    kCr,       // after CR in text (space_ may hold white space before it)
    kEq,       // after '='
    kEqHex,    // after '=' and one hex digit (hex1_)
    kEqSpace,  // after '=' and white space (space_)
    kEqCr,     // after '=', maybe white space, and CR
  };

  static bool Special(char c) {
    return c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  // Consumes `c` in the current state; returns false if `c` must be seen
  // again in the new state.
  bool Step(char c, std::string* out) {
    switch (state_) {
      case State::kText:
        if (c == ' ' || c == '\t') {
          if (space_.size() >= kMaxSpace) {
            out->append(space_);
            space_.clear();
          }
          space_.push_back(c);
        } else if (c == '\r') {
          state_ = State::kCr;
        } else if (c == '\n') {
          space_.clear();
          out->push_back('\n');
        } else {
          out->append(space_);
          space_.clear();
          if (c == '=') {
            state_ = State::kEq;
          } else {
            out->push_back(c);
          }
        }
        return true;
      case State::kCr:
        state_ = State::kText;
        if (c == '\n') {
          space_.clear();
          out->append("\r\n");
          return true;
        }
        out->append(space_);
        space_.clear();
        out->push_back('\r');
        return false;
      case State::kEq:
        if (Hex(c) >= 0) {
          hex1_ = c;
          state_ = State::kEqHex;
        } else if (c == '\r') {
          state_ = State::kEqCr;
        } else if (c == '\n') {
          state_ = State::kText;  // soft line break
        } else if (c == ' ' || c == '\t') {
          space_.push_back(c);
          state_ = State::kEqSpace;
        } else {
          AddDefectOnce(kInvalidEscape);
          out->push_back('=');
          state_ = State::kText;
          return false;
        }
        return true;
      case State::kEqHex:
        state_ = State::kText;
        if (Hex(c) >= 0) {
          out->push_back(static_cast<char>(Hex(hex1_) * 16 + Hex(c)));
          return true;
        }
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->push_back(hex1_);
        return false;
      case State::kEqSpace:
        if ((c == ' ' || c == '\t') && space_.size() < kMaxSpace) {
          space_.push_back(c);
          return true;
        }
        if (c == '\r') {
          state_ = State::kEqCr;
          return true;
        }
        state_ = State::kText;
        if (c == '\n') {  // "=  \n": a soft line break with trailing space
          space_.clear();
          return true;
        }
        // '=' then white space then text: the '=' was literal; the white
        // space is ordinary (maybe trailing) white space.
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        return false;
      case State::kEqCr:
        state_ = State::kText;
        if (c == '\n') {
          space_.clear();
          return true;
        }
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->append(space_);
        space_.clear();
        out->push_back('\r');
        return false;
    }
    return true;
  }

  State state_ = State::kText;
  std::string space_;  // pending white space, at most kMaxSpace bytes
  char hex1_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<TransferDecoder> TransferDecoder::For(TransferEncoding encoding,
                                                      absl::string_view where) {
  switch (encoding) {
    case TransferEncoding::kBase64:
      return std::make_unique<Base64Decoder>(where);
    case TransferEncoding::kQuotedPrintable:
      return std::make_unique<QuotedPrintableDecoder>(where);
    case TransferEncoding::k7Bit:
    case TransferEncoding::k8Bit:
    case TransferEncoding::kBinary:
      break;
  }
  return std::make_unique<IdentityDecoder>(where);
}

}  // namespace imap::mime
