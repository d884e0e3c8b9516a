#include "imap/wire/command_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace imap::wire {
namespace {

constexpr size_t kLiteralMinusMax = 4096;

bool IsAtomChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

}  // namespace

bool IsAtom(absl::string_view bytes) {
  if (bytes.empty()) return false;
  for (char c : bytes) {
    if (!IsAtomChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsQuotable(absl::string_view bytes) {
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || u == '\r' || u == '\n' || u >= 0x80) return false;
  }
  return true;
}

std::string Quote(absl::string_view bytes) {
  std::string quoted = "\"";
  for (char c : bytes) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

bool IsFlag(absl::string_view flag) {
  if (!flag.empty() && flag[0] == '\\') flag.remove_prefix(1);
  return IsAtom(flag);
}

CommandBuilder::CommandBuilder(std::string tag, absl::string_view name, LiteralMode mode)
    : mode_(mode) {
  command_.tag = std::move(tag);
  current_ = absl::StrCat(command_.tag, " ", name);
  command_.redacted = current_;
}

void CommandBuilder::Separate() {
  if (!glue_) {
    current_.push_back(' ');
    command_.redacted.push_back(' ');
  }
  glue_ = false;
}

CommandBuilder& CommandBuilder::Glue() {
  glue_ = true;
  return *this;
}

CommandBuilder& CommandBuilder::Raw(absl::string_view syntax) {
  Separate();
  current_.append(syntax.data(), syntax.size());
  command_.redacted.append(syntax.data(), syntax.size());
  return *this;
}

CommandBuilder& CommandBuilder::AString(absl::string_view bytes) {
  AppendString(bytes, /*allow_atom=*/true, /*secret=*/false);
  return *this;
}

CommandBuilder& CommandBuilder::String(absl::string_view bytes) {
  AppendString(bytes, /*allow_atom=*/false, /*secret=*/false);
  return *this;
}

CommandBuilder& CommandBuilder::Secret(absl::string_view bytes) {
  AppendString(bytes, /*allow_atom=*/false, /*secret=*/true);
  return *this;
}

void CommandBuilder::AppendString(absl::string_view bytes, bool allow_atom, bool secret) {
  Separate();
  if (bytes.find('\0') != absl::string_view::npos) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("argument ", secret ? "<redacted>" : "", " of ", command_.tag,
                       " contains a NUL byte, which IMAP cannot send"));
    }
    return;
  }
  if (allow_atom && IsAtom(bytes)) {
    current_.append(bytes.data(), bytes.size());
    command_.redacted += secret ? "<redacted>" : std::string(bytes);
    return;
  }
  if (IsQuotable(bytes)) {
    const std::string quoted = Quote(bytes);
    current_ += quoted;
    command_.redacted += secret ? "<redacted>" : quoted;
    return;
  }
  const bool non_sync = mode_ == LiteralMode::kLiteralPlus ||
                        (mode_ == LiteralMode::kLiteralMinus && bytes.size() <= kLiteralMinusMax);
  const std::string marker = absl::StrCat("{", bytes.size(), non_sync ? "+" : "", "}\r\n");
  current_ += marker;
  command_.redacted += secret ? "<redacted literal>" : absl::StrCat("{", bytes.size(), "}");
  if (!non_sync) {
    // The literal's bytes go in the next segment, after the server's "+".
    command_.segments.push_back(std::move(current_));
    current_.clear();
  }
  current_.append(bytes.data(), bytes.size());
}

absl::StatusOr<Command> CommandBuilder::Build() {
  if (!status_.ok()) return status_;
  current_ += "\r\n";
  command_.segments.push_back(std::move(current_));
  current_.clear();
  return std::move(command_);
}

}  // namespace imap::wire
