#include "imap/mime/header_block.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace imap::mime {
namespace {

// Bad lines reported one by one before they are only counted.
constexpr size_t kMaxLineDefects = 5;

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 ftext: printable US-ASCII except ':'.
bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') return false;
  }
  return true;
}

// "From sender date", not the field "From : sender" (obs-optional).
bool IsMboxFromLine(absl::string_view line) {
  if (!absl::StartsWith(line, "From ")) return false;
  size_t i = 4;
  while (i < line.size() && IsWsp(line[i])) ++i;
  return i < line.size() && line[i] != ':';
}

absl::string_view TrimWsp(absl::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

// Sets *out to `raw` unfolded and trimmed of whitespace. RFC 5322 2.2.3:
// unfolding removes the line breaks of folds. A CR not followed by LF is
// not a line break and stays.
void Unfold(absl::string_view raw, std::string* out) {
  size_t nl = raw.find('\n');
  if (nl == absl::string_view::npos) {
    // One line (most fields): nothing to remove, so trimming is all.
    const absl::string_view trimmed = TrimWsp(raw);
    out->assign(trimmed.data(), trimmed.size());
    return;
  }
  // Leading whitespace (folds included) goes before anything is copied.
  size_t b = 0;
  while (b < raw.size() && (IsWsp(raw[b]) || raw[b] == '\n' ||
                            (raw[b] == '\r' && b + 1 < raw.size() && raw[b + 1] == '\n'))) {
    ++b;
  }
  out->clear();
  out->reserve(raw.size() - b);
  // Copies each line in one piece; only the line breaks are dropped.
  while (b < raw.size()) {
    nl = raw.find('\n', b);
    if (nl == absl::string_view::npos) {
      out->append(raw.data() + b, raw.size() - b);
      break;
    }
    size_t line_end = nl;
    if (line_end > b && raw[line_end - 1] == '\r') --line_end;
    out->append(raw.data() + b, line_end - b);
    b = nl + 1;
    // Not a fold (a joined line without colon): keep the words apart.
    if (b < raw.size() && !IsWsp(raw[b])) out->push_back(' ');
  }
  size_t e = out->size();
  while (e > 0 && IsWsp((*out)[e - 1])) --e;
  out->resize(e);
}

}  // namespace

HeaderBlock HeaderBlock::Parse(absl::string_view section, Defects* defects,
                               absl::string_view where) {
  HeaderBlock block;
  // Fields average well over 32 bytes: usually one allocation instead of a
  // growing vector (counting the lines first costs more than it saves).
  block.fields_.reserve(section.size() / 32 + 4);
  size_t bad_lines = 0;
  auto bad_line = [&](size_t line_no, absl::string_view why) {
    ++bad_lines;
    if (defects != nullptr && bad_lines <= kMaxLineDefects) {
      defects->push_back({std::string(where), absl::StrCat("header line ", line_no, " ", why)});
    }
  };

  bool have_field = false;
  bool skipping = false;  // continuation lines of a skipped line
  absl::string_view name;
  size_t value_start = 0;
  size_t value_end = 0;
  auto emit = [&]() {
    if (!have_field) return;
    have_field = false;
    HeaderField& f = block.fields_.emplace_back();
    f.name.assign(name.data(), name.size());
    f.raw_value.assign(section.data() + value_start, value_end - value_start);
    Unfold(f.raw_value, &f.value);
  };

  size_t pos = 0;
  size_t line_no = 0;
  if (absl::StartsWith(section, "\xEF\xBB\xBF")) {
    // A byte order mark some tools write before the first field.
    pos = 3;
    if (defects != nullptr) defects->push_back({std::string(where), "byte order mark skipped"});
  }
  while (pos < section.size()) {
    ++line_no;
    const size_t nl = section.find('\n', pos);
    const size_t line_end = nl == absl::string_view::npos ? section.size() : nl;
    const size_t next = nl == absl::string_view::npos ? section.size() : nl + 1;
    size_t content_end = line_end;
    if (content_end > pos && section[content_end - 1] == '\r') --content_end;
    const absl::string_view line = section.substr(pos, content_end - pos);
    if (line.empty()) break;  // the blank line that ends the section
    if (IsWsp(line[0])) {
      if (have_field) {
        value_end = content_end;
      } else if (!skipping) {
        bad_line(line_no, "continues no field; skipped");
        skipping = true;
      }
      pos = next;
      continue;
    }
    if (block.fields_.empty() && !have_field && IsMboxFromLine(line)) {
      // An mbox separator ("From sender date") left on the message.
      if (defects != nullptr) {
        defects->push_back({std::string(where), "mbox \"From \" line skipped"});
      }
      skipping = true;
      pos = next;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      // Most often a fold whose whitespace was lost ("To: a@x,\r\nb@y"):
      // keep its text with the field before it rather than lose it.
      if (have_field) {
        bad_line(line_no, "has no colon; joined to the field before it");
        value_end = content_end;
      } else if (!skipping) {
        bad_line(line_no, "has no colon; skipped");
        skipping = true;
      }
      pos = next;
      continue;
    }
    emit();
    absl::string_view field_name = line.substr(0, colon);
    // obs-optional: whitespace between the name and the colon.
    while (!field_name.empty() && IsWsp(field_name.back())) field_name.remove_suffix(1);
    if (!IsValidName(field_name)) {
      bad_line(line_no, "has an invalid field name; skipped");
      skipping = true;
    } else {
      have_field = true;
      skipping = false;
      name = field_name;
      value_start = pos + colon + 1;
      value_end = content_end;
    }
    pos = next;
  }
  emit();
  if (defects != nullptr && bad_lines > kMaxLineDefects) {
    defects->push_back({std::string(where), absl::StrCat(bad_lines - kMaxLineDefects,
                                                         " more bad header lines skipped")});
  }
  return block;
}

absl::optional<absl::string_view> HeaderBlock::Get(absl::string_view name) const {
  for (const HeaderField& f : fields_) {
    if (absl::EqualsIgnoreCase(f.name, name)) return absl::string_view(f.value);
  }
  return absl::nullopt;
}

std::vector<absl::string_view> HeaderBlock::GetAll(absl::string_view name) const {
  std::vector<absl::string_view> out;
  for (const HeaderField& f : fields_) {
    if (absl::EqualsIgnoreCase(f.name, name)) out.emplace_back(f.value);
  }
  return out;
}

HeaderParser::HeaderParser(size_t max_bytes, std::string where)
    : max_bytes_(max_bytes), where_(std::move(where)) {}

size_t HeaderParser::Feed(absl::string_view chunk) {
  if (done_) return 0;
  for (size_t i = 0; i < chunk.size(); ++i) {
    if (consumed_ + i >= max_bytes_) {
      buffer_.append(chunk.data(), i);
      consumed_ += i;
      limit_exceeded_ = true;
      defects_.push_back({where_, absl::StrCat("header section longer than ", max_bytes_,
                                               " bytes; the rest is not read as headers")});
      Complete();
      return i;
    }
    const char c = chunk[i];
    if (at_line_start_) {
      if (c == '\n') {
        buffer_.append(chunk.data(), i + 1);
        consumed_ += i + 1;
        Complete();
        return i + 1;
      }
      if (c == '\r' && !cr_at_line_start_) {
        cr_at_line_start_ = true;
        continue;
      }
      at_line_start_ = false;
      cr_at_line_start_ = false;
    } else if (c == '\n') {
      at_line_start_ = true;
    }
  }
  buffer_.append(chunk.data(), chunk.size());
  consumed_ += chunk.size();
  return chunk.size();
}

void HeaderParser::Finish() {
  if (done_) return;
  if (!buffer_.empty()) {
    defects_.push_back({where_, "header section not ended by an empty line"});
  }
  Complete();
}

HeaderBlock HeaderParser::TakeBlock() {
  HeaderBlock out = std::move(block_);
  block_ = HeaderBlock();
  return out;
}

void HeaderParser::Complete() {
  block_ = HeaderBlock::Parse(buffer_, &defects_, where_);
  std::string().swap(buffer_);
  done_ = true;
}

}  // namespace imap::mime
