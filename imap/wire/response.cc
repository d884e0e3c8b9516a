#include "imap/wire/response.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace imap::wire {

Value Value::Atom(std::string text) {
  Value v;
  v.type = Type::kAtom;
  v.text = std::move(text);
  return v;
}

Value Value::Number(uint64_t number, std::string digits) {
  Value v;
  v.type = Type::kNumber;
  v.number = number;
  v.text = std::move(digits);
  return v;
}

Value Value::String(std::string bytes) {
  Value v;
  v.type = Type::kString;
  v.text = std::move(bytes);
  return v;
}

Value Value::Nil() { return Value(); }

Value Value::List(std::vector<Value> elements) {
  Value v;
  v.type = Type::kList;
  v.list = std::move(elements);
  return v;
}

bool Value::IsAtom(absl::string_view name) const {
  return type == Type::kAtom && absl::EqualsIgnoreCase(text, name);
}

std::string Value::DebugString() const {
  switch (type) {
    case Type::kAtom:
    case Type::kNumber:
      return text;
    case Type::kNil:
      return "NIL";
    case Type::kString: {
      if (streamed) return absl::StrCat("<streamed ", number, " bytes>");
      std::string out = "\"";
      for (char c : text) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
      }
      out.push_back('"');
      return out;
    }
    case Type::kList: {
      std::string out = "(";
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out.push_back(' ');
        out += list[i].DebugString();
      }
      out.push_back(')');
      return out;
    }
  }
  return "";
}

absl::string_view StatusWordName(StatusWord word) {
  switch (word) {
    case StatusWord::kNone:
      return "";
    case StatusWord::kOk:
      return "OK";
    case StatusWord::kNo:
      return "NO";
    case StatusWord::kBad:
      return "BAD";
    case StatusWord::kBye:
      return "BYE";
    case StatusWord::kPreauth:
      return "PREAUTH";
  }
  return "";
}

std::string Response::DebugString() const {
  std::string out;
  switch (kind) {
    case Kind::kContinuation:
      return absl::StrCat("+ ", text);
    case Kind::kTagged:
      out = tag;
      break;
    case Kind::kUntagged:
      out = "*";
      break;
  }
  if (IsStatus()) {
    absl::StrAppend(&out, " ", StatusWordName(status));
    if (!code.empty()) {
      absl::StrAppend(&out, " [", code, code_text.empty() ? "" : " ", code_text, "]");
    }
    if (!text.empty()) absl::StrAppend(&out, " ", text);
    return out;
  }
  if (number.has_value()) absl::StrAppend(&out, " ", *number);
  absl::StrAppend(&out, " ", keyword);
  for (const Value& v : values) absl::StrAppend(&out, " ", v.DebugString());
  return out;
}

}  // namespace imap::wire
