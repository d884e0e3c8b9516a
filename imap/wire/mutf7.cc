#include "imap/wire/mutf7.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "imap/util/utf8.h"

namespace imap::wire {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int AlphabetIndex(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

void FlushUtf16(std::vector<uint16_t>* units, std::string* out) {
  if (units->empty()) return;
  out->push_back('&');
  uint32_t bits = 0;
  int nbits = 0;
  for (uint16_t u : *units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out->push_back(kAlphabet[(bits >> nbits) & 0x3F]);
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) out->push_back(kAlphabet[(bits << (6 - nbits)) & 0x3F]);
  out->push_back('-');
  units->clear();
}

}  // namespace

absl::StatusOr<std::string> EncodeMailboxName(absl::string_view utf8) {
  std::string out;
  std::vector<uint16_t> pending;
  size_t i = 0;
  while (i < utf8.size()) {
    const size_t at = i;
    const int32_t cp = DecodeUtf8(utf8, &i);
    if (cp < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("folder name is not valid UTF-8 at byte ", at));
    }
    if (cp >= 0x20 && cp <= 0x7E) {
      FlushUtf16(&pending, &out);
      if (cp == '&') {
        out += "&-";
      } else {
        out.push_back(static_cast<char>(cp));
      }
      continue;
    }
    if (cp >= 0x10000) {
      const uint32_t v = static_cast<uint32_t>(cp) - 0x10000;
      pending.push_back(static_cast<uint16_t>(0xD800 + (v >> 10)));
      pending.push_back(static_cast<uint16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      pending.push_back(static_cast<uint16_t>(cp));
    }
  }
  FlushUtf16(&pending, &out);
  return out;
}

absl::StatusOr<std::string> DecodeMailboxName(absl::string_view mutf7) {
  std::string out;
  size_t i = 0;
  auto bad = [&](size_t at, absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("folder name is not valid modified UTF-7 at byte ", at, ": ", why));
  };
  while (i < mutf7.size()) {
    const char c = mutf7[i];
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
      return bad(i, "byte outside printable ASCII");
    }
    if (c != '&') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t start = i;
    ++i;
    if (i < mutf7.size() && mutf7[i] == '-') {
      out.push_back('&');
      ++i;
      continue;
    }
    uint32_t bits = 0;
    int nbits = 0;
    uint32_t high_surrogate = 0;
    bool any = false;
    while (i < mutf7.size() && mutf7[i] != '-') {
      const int v = AlphabetIndex(mutf7[i]);
      if (v < 0) return bad(i, "character outside the base64 alphabet");
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      ++i;
      if (nbits >= 16) {
        nbits -= 16;
        const uint32_t unit = (bits >> nbits) & 0xFFFF;
        bits &= (1u << nbits) - 1;
        any = true;
        if (high_surrogate != 0) {
          if (unit < 0xDC00 || unit > 0xDFFF) return bad(i, "unpaired surrogate");
          AppendUtf8(0x10000 + ((high_surrogate - 0xD800) << 10) + (unit - 0xDC00), &out);
          high_surrogate = 0;
        } else if (unit >= 0xD800 && unit <= 0xDBFF) {
          high_surrogate = unit;
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return bad(i, "unpaired surrogate");
        } else if (unit >= 0x20 && unit <= 0x7E) {
          return bad(i, "printable ASCII must not be base64-encoded");
        } else {
          AppendUtf8(unit, &out);
        }
      }
    }
    if (i >= mutf7.size()) return bad(start, "'&' without closing '-'");
    if (!any || high_surrogate != 0 || nbits >= 6 || bits != 0) {
      return bad(start, "incomplete or padded base64 run");
    }
    ++i;  // '-'
  }
  return out;
}

}  // namespace imap::wire
