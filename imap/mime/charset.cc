#include "imap/mime/charset.h"

#include <errno.h>
#include <iconv.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "imap/util/utf8.h"

namespace imap::mime {
namespace {

constexpr size_t kMaxLabelLength = 64;
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

enum class Decoder {
  kUtf8,    // validated here
  kAscii,   // 7-bit; 8-bit bytes are guessed
  kGuess,   // the label says nothing: GuessToUtf8()
  kCp1252,  // the windows-1252 table (taken from iconv once)
  kIconv,   // iconv, trying `names` in order
};

struct Resolved {
  Decoder decoder = Decoder::kIconv;
  // Candidates for kIconv: the first that reads the bytes without error
  // wins, else the one with the fewest errors.
  std::vector<std::string> names;
};

struct Alias {
  absl::string_view compact;  // lower case, without "-_ .:"
  Decoder decoder;
  const char* iconv_name;  // for kIconv
};

// Labels seen in real mail that iconv does not know, or knows as a
// narrower charset than the one senders actually use (WHATWG Encoding
// Standard choices where it has one).
constexpr Alias kAliases[] = {
    {"utf8", Decoder::kUtf8, nullptr},
    {"unicode11utf8", Decoder::kUtf8, nullptr},
    {"unicode20utf8", Decoder::kUtf8, nullptr},
    {"xunicode20utf8", Decoder::kUtf8, nullptr},
    {"usascii", Decoder::kAscii, nullptr},
    {"ascii", Decoder::kAscii, nullptr},
    {"us", Decoder::kAscii, nullptr},
    {"ansix341968", Decoder::kAscii, nullptr},
    {"ansix341986", Decoder::kAscii, nullptr},
    {"iso646us", Decoder::kAscii, nullptr},
    {"isoir6", Decoder::kAscii, nullptr},
    {"cp367", Decoder::kAscii, nullptr},
    {"ibm367", Decoder::kAscii, nullptr},
    {"csascii", Decoder::kAscii, nullptr},
    {"xunknown", Decoder::kGuess, nullptr},
    {"unknown", Decoder::kGuess, nullptr},
    {"unknown8bit", Decoder::kGuess, nullptr},
    {"xuserdefined", Decoder::kGuess, nullptr},
    {"default", Decoder::kGuess, nullptr},
    {"8bit", Decoder::kGuess, nullptr},
    {"iso88591", Decoder::kCp1252, nullptr},
    {"iso885911987", Decoder::kCp1252, nullptr},
    {"latin1", Decoder::kCp1252, nullptr},
    {"l1", Decoder::kCp1252, nullptr},
    {"isoir100", Decoder::kCp1252, nullptr},
    {"cp819", Decoder::kCp1252, nullptr},
    {"ibm819", Decoder::kCp1252, nullptr},
    {"csisolatin1", Decoder::kCp1252, nullptr},
    {"windows1252", Decoder::kCp1252, nullptr},
    {"cp1252", Decoder::kCp1252, nullptr},
    {"xcp1252", Decoder::kCp1252, nullptr},
    {"iso88599", Decoder::kIconv, "WINDOWS-1254"},
    {"latin5", Decoder::kIconv, "WINDOWS-1254"},
    {"l5", Decoder::kIconv, "WINDOWS-1254"},
    {"tis620", Decoder::kIconv, "WINDOWS-874"},
    {"iso885911", Decoder::kIconv, "WINDOWS-874"},
    {"windows874", Decoder::kIconv, "WINDOWS-874"},
    {"ksc56011987", Decoder::kIconv, "CP949"},
    {"ksc56011989", Decoder::kIconv, "CP949"},
    {"ksc5601", Decoder::kIconv, "CP949"},
    {"csksc56011987", Decoder::kIconv, "CP949"},
    {"isoir149", Decoder::kIconv, "CP949"},
    {"euckr", Decoder::kIconv, "CP949"},
    {"xeuckr", Decoder::kIconv, "CP949"},
    {"korean", Decoder::kIconv, "CP949"},
    {"windows949", Decoder::kIconv, "CP949"},
    {"xwindows949", Decoder::kIconv, "CP949"},
    {"uhc", Decoder::kIconv, "CP949"},
    {"gb2312", Decoder::kIconv, "GB18030"},
    {"gb231280", Decoder::kIconv, "GB18030"},
    {"csgb2312", Decoder::kIconv, "GB18030"},
    {"csiso58gb231280", Decoder::kIconv, "GB18030"},
    {"isoir58", Decoder::kIconv, "GB18030"},
    {"chinese", Decoder::kIconv, "GB18030"},
    {"gbk", Decoder::kIconv, "GB18030"},
    {"xgbk", Decoder::kIconv, "GB18030"},
    {"cp936", Decoder::kIconv, "GB18030"},
    {"windows936", Decoder::kIconv, "GB18030"},
    {"euccn", Decoder::kIconv, "GB18030"},
    {"xeuccn", Decoder::kIconv, "GB18030"},
    {"big5", Decoder::kIconv, "BIG5-HKSCS"},
    {"xbig5", Decoder::kIconv, "BIG5-HKSCS"},
    {"xxbig5", Decoder::kIconv, "BIG5-HKSCS"},
    {"cnbig5", Decoder::kIconv, "BIG5-HKSCS"},
    {"csbig5", Decoder::kIconv, "BIG5-HKSCS"},
    {"cp950", Decoder::kIconv, "BIG5-HKSCS"},
    {"shiftjis", Decoder::kIconv, "CP932"},
    {"sjis", Decoder::kIconv, "CP932"},
    {"xsjis", Decoder::kIconv, "CP932"},
    {"mskanji", Decoder::kIconv, "CP932"},
    {"csshiftjis", Decoder::kIconv, "CP932"},
    {"windows31j", Decoder::kIconv, "CP932"},
    {"cswindows31j", Decoder::kIconv, "CP932"},
    {"xmscp932", Decoder::kIconv, "CP932"},
    {"ms932", Decoder::kIconv, "CP932"},
    {"cp932", Decoder::kIconv, "CP932"},
    {"iso88598i", Decoder::kIconv, "ISO-8859-8"},
    {"iso88598e", Decoder::kIconv, "ISO-8859-8"},
    {"csiso88598i", Decoder::kIconv, "ISO-8859-8"},
    {"csiso88598e", Decoder::kIconv, "ISO-8859-8"},
    {"logical", Decoder::kIconv, "ISO-8859-8"},
    {"iso88596i", Decoder::kIconv, "ISO-8859-6"},
    {"iso88596e", Decoder::kIconv, "ISO-8859-6"},
    {"macintosh", Decoder::kIconv, "MACINTOSH"},
    {"mac", Decoder::kIconv, "MACINTOSH"},
    {"xmacroman", Decoder::kIconv, "MACINTOSH"},
    {"csmacintosh", Decoder::kIconv, "MACINTOSH"},
};

// A plausible charset label: what iconv_open() is ever shown. Keeps
// '/' (iconv's "//TRANSLIT" suffixes) and odd bytes away from glibc.
bool PlausibleLabel(absl::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  for (char c : label) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':' && c != '+') {
      return false;
    }
  }
  return true;
}

std::string Compact(absl::string_view label) {
  std::string out;
  for (char c : label) {
    if (c == '-' || c == '_' || c == '.' || c == ':' || c == ' ') continue;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool CanOpen(const std::string& name) {
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  iconv_close(cd);
  return true;
}

absl::string_view TrimLabel(absl::string_view label) {
  label = absl::StripAsciiWhitespace(label);
  while (!label.empty() && (label.front() == '"' || label.front() == '\'')) {
    label.remove_prefix(1);
  }
  while (!label.empty() && (label.back() == '"' || label.back() == '\'')) {
    label.remove_suffix(1);
  }
  return absl::StripAsciiWhitespace(label);
}

// Maps a label to a decoder; nullopt if neither we nor iconv know it.
absl::optional<Resolved> Resolve(absl::string_view raw_label) {
  absl::string_view label = TrimLabel(raw_label);
  if (!PlausibleLabel(label)) return absl::nullopt;
  const std::string compact = Compact(label);
  for (const Alias& a : kAliases) {
    if (compact == a.compact) {
      Resolved r;
      r.decoder = a.decoder;
      if (a.iconv_name != nullptr) r.names.push_back(a.iconv_name);
      return r;
    }
  }
  Resolved r;
  r.decoder = Decoder::kIconv;
  if (compact == "iso2022jp" || compact == "csiso2022jp") {
    // Senders label half-width katakana (ESC ( I) and JIS X 0212/0213 as
    // plain ISO-2022-JP; the supersets read plain ISO-2022-JP the same.
    r.names = {"ISO-2022-JP-2", "ISO-2022-JP-3", "ISO-2022-JP"};
    return r;
  }
  // Families iconv spells differently: "iso8859_5", "windows1251", "cp-1250".
  absl::string_view c = compact;
  if (absl::ConsumePrefix(&c, "iso8859") && AllDigits(c)) {
    r.names.push_back(absl::StrCat("ISO-8859-", c));
  } else if ((absl::ConsumePrefix(&c, "windows") || absl::ConsumePrefix(&c, "xcp") ||
              absl::ConsumePrefix(&c, "cp") || absl::ConsumePrefix(&c, "win")) &&
             c.size() == 4 && absl::StartsWith(c, "125") && AllDigits(c)) {
    r.names.push_back(absl::StrCat("CP", c));
  }
  std::string upper = absl::AsciiStrToUpper(label);
  r.names.push_back(upper);
  absl::string_view no_x = upper;
  if (absl::ConsumePrefix(&no_x, "X-") && !no_x.empty()) r.names.emplace_back(no_x);
  // Keep only the names iconv knows, so that "unknown" is decided here.
  std::vector<std::string> known;
  for (const std::string& n : r.names) {
    if (CanOpen(n)) known.push_back(n);
  }
  if (known.empty()) return absl::nullopt;
  r.names = std::move(known);
  return r;
}

// windows-1252 bytes 0x80..0xFF as code points, asked of iconv once.
// Bytes it leaves undefined map to the C1 control of the same value, as
// in the WHATWG index.
const std::array<uint32_t, 128>& Cp1252Table() {
  static const std::array<uint32_t, 128> table = [] {
    std::array<uint32_t, 128> t{};
    for (uint32_t i = 0; i < 128; ++i) t[i] = 0x80 + i;
    iconv_t cd = iconv_open("UTF-8", "WINDOWS-1252");
    if (cd == reinterpret_cast<iconv_t>(-1)) return t;
    for (uint32_t i = 0; i < 128; ++i) {
      char in = static_cast<char>(0x80 + i);
      char out[8];
      char* inp = &in;
      size_t inleft = 1;
      char* outp = out;
      size_t outleft = sizeof(out);
      if (iconv(cd, &inp, &inleft, &outp, &outleft) != static_cast<size_t>(-1)) {
        const absl::string_view got(out, sizeof(out) - outleft);
        size_t pos = 0;
        if (!got.empty()) {
          const int32_t cp = DecodeUtf8(got, &pos);
          if (cp >= 0 && pos == got.size()) t[i] = static_cast<uint32_t>(cp);
        }
      }
      iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset the state
    }
    iconv_close(cd);
    return t;
  }();
  return table;
}

void AppendCp1252(absl::string_view bytes, std::string* out) {
  const std::array<uint32_t, 128>& table = Cp1252Table();
  out->reserve(out->size() + bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t ascii_end = SkipAscii(bytes, i);
    out->append(bytes.data() + i, ascii_end - i);
    i = ascii_end;
    if (i < bytes.size()) AppendUtf8(table[static_cast<unsigned char>(bytes[i++]) - 0x80], out);
  }
}

// Appends `bytes` read as UTF-8, each invalid byte replaced by U+FFFD.
// Returns the number of replacements.
size_t AppendUtf8Lenient(absl::string_view bytes, std::string* out) {
  out->reserve(out->size() + bytes.size());
  size_t bad = 0;
  size_t i = 0;
  size_t run = 0;  // start of the valid bytes not yet appended
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      i = SkipAscii(bytes, i);  // the common case
      continue;
    }
    const size_t start = i;
    if (DecodeUtf8(bytes, &i) < 0) {
      out->append(bytes.data() + run, start - run);
      out->append(kReplacement);
      ++bad;
      i = start + 1;
      run = i;
    }
  }
  out->append(bytes.data() + run, bytes.size() - run);
  return bad;
}

// Converts with an open descriptor; returns the number of replacements.
size_t ConvertWithIconv(iconv_t cd, absl::string_view in, std::string* out) {
  size_t errors = 0;
  // iconv(3) takes char** but never writes through the input pointer.
  char* inp = const_cast<char*>(in.data());
  size_t inleft = in.size();
  std::string buf(in.size() < (1u << 20) ? in.size() * 2 + 16 : in.size() + (1u << 20), '\0');
  size_t used = 0;
  bool flushing = false;
  auto ensure_room = [&](size_t n) {
    if (buf.size() - used < n) buf.resize(buf.size() * 2 + n);
  };
  auto replace = [&]() {
    ensure_room(sizeof(kReplacement));
    for (size_t k = 0; k + 1 < sizeof(kReplacement); ++k) buf[used++] = kReplacement[k];
    ++errors;
  };
  while (true) {
    ensure_room(16);
    char* outp = &buf[used];
    size_t outleft = buf.size() - used;
    const size_t rc = flushing ? iconv(cd, nullptr, nullptr, &outp, &outleft)
                               : iconv(cd, &inp, &inleft, &outp, &outleft);
    const int err = errno;
    used = buf.size() - outleft;
    if (rc != static_cast<size_t>(-1)) {
      if (flushing || inleft != 0) break;
      flushing = true;
      continue;
    }
    if (err == E2BIG) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (flushing) break;
    if (err == EILSEQ && inleft > 0) {
      replace();
      ++inp;
      --inleft;
      continue;
    }
    // EINVAL (truncated sequence at the end) or anything unexpected.
    replace();
    inp += inleft;
    inleft = 0;
    flushing = true;
  }
  buf.resize(used);
  out->append(buf);
  return errors;
}

bool HasHighBit(absl::string_view s) { return SkipAscii(s, 0) < s.size(); }

void AddDefect(Defects* defects, absl::string_view where, std::string what) {
  if (defects != nullptr) defects->push_back({std::string(where), std::move(what)});
}

}  // namespace

bool IsKnownCharset(absl::string_view charset) { return Resolve(charset).has_value(); }

std::string GuessToUtf8(absl::string_view raw) {
  if (IsValidUtf8(raw)) return std::string(raw);
  std::string out;
  out.reserve(raw.size() + raw.size() / 2);
  size_t i = 0;
  while (i < raw.size()) {
    const size_t start = i;
    if (DecodeUtf8(raw, &i) >= 0) {
      out.append(raw.data() + start, i - start);
    } else {
      AppendCp1252(raw.substr(start, 1), &out);
      i = start + 1;
    }
  }
  return out;
}

absl::StatusOr<std::string> ToUtf8(absl::string_view bytes, absl::string_view charset,
                                   Defects* defects, absl::string_view where) {
  absl::optional<Resolved> r = Resolve(charset);
  if (!r.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("unknown charset '", charset.substr(0, kMaxLabelLength), "'"));
  }
  std::string out;
  switch (r->decoder) {
    case Decoder::kUtf8:
      if (AppendUtf8Lenient(bytes, &out) > 0) {
        AddDefect(defects, where, "invalid UTF-8 bytes replaced by U+FFFD");
      }
      return out;
    case Decoder::kAscii:
      if (!HasHighBit(bytes)) return std::string(bytes);
      AddDefect(defects, where,
                "8-bit bytes in text labelled us-ascii read as UTF-8 or windows-1252");
      return GuessToUtf8(bytes);
    case Decoder::kGuess:
      if (HasHighBit(bytes)) {
        AddDefect(defects, where,
                  absl::StrCat("charset '", TrimLabel(charset),
                               "' names no charset; read as UTF-8 or windows-1252"));
      }
      return GuessToUtf8(bytes);
    case Decoder::kCp1252:
      AppendCp1252(bytes, &out);
      return out;
    case Decoder::kIconv:
      break;
  }
  if (bytes.empty()) return out;
  bool have_best = false;
  size_t best_score = 0;
  size_t best_errors = 0;
  for (const std::string& name : r->names) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) continue;
    std::string candidate;
    const size_t errors = ConvertWithIconv(cd, bytes, &candidate);
    iconv_close(cd);
    // glibc passes escape sequences a stateful charset does not know
    // through as text; an ESC left in the output is a failure too.
    size_t score = errors;
    if (r->names.size() > 1) {
      for (char c : candidate) score += c == '\x1b' ? 1 : 0;
    }
    if (!have_best || score < best_score) {
      have_best = true;
      best_score = score;
      best_errors = errors;
      out = std::move(candidate);
    }
    if (score == 0) break;
  }
  if (!have_best) {
    return absl::NotFoundError(absl::StrCat("charset '", TrimLabel(charset), "' cannot be opened"));
  }
  if (best_errors > 0) {
    AddDefect(defects, where,
              absl::StrCat("invalid ", TrimLabel(charset), " bytes replaced by U+FFFD"));
  }
  return out;
}

}  // namespace imap::mime
