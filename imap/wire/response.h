// What the IMAP server says, as parsed values: tagged and untagged
// responses, continuation requests, response codes and the value tree
// (atoms, numbers, strings, NIL, lists) of untagged data.
//
//   Response r = ...;  // from ResponseParser::Next()
//   if (r.kind == Response::Kind::kUntagged && r.keyword == "EXISTS") n = *r.number;
#ifndef IMAP_WIRE_RESPONSE_H_
#define IMAP_WIRE_RESPONSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace imap::wire {

// One value of an IMAP response.
struct Value {
  enum class Type { kAtom, kNumber, kString, kNil, kList };

  Type type = Type::kNil;
  // Atom text (e.g. "\Seen", "BODY[TEXT]<0>"), a number's digits, or a
  // string's bytes (from a quoted string or a literal).
  std::string text;
  // For kNumber: the value.
  uint64_t number = 0;
  // For kList: the elements.
  std::vector<Value> list;
  // For kString: the literal's bytes were streamed to the caller (see
  // ResponseParser::NextEvent) and are not in `text`; `number` is its size.
  bool streamed = false;

  static Value Atom(std::string text);
  static Value Number(uint64_t number, std::string digits);
  static Value String(std::string bytes);
  static Value Nil();
  static Value List(std::vector<Value> elements);

  bool IsAtom() const { return type == Type::kAtom; }
  bool IsNumber() const { return type == Type::kNumber; }
  bool IsString() const { return type == Type::kString; }
  bool IsNil() const { return type == Type::kNil; }
  bool IsList() const { return type == Type::kList; }
  // True for atoms, numbers and strings: IMAP's "astring" where a name is
  // expected.
  bool IsStringLike() const { return IsAtom() || IsNumber() || IsString(); }
  // Case-insensitive comparison of an atom's text.
  bool IsAtom(absl::string_view name) const;

  // A compact rendering for logs and tests, e.g. `(\Seen "a b" NIL 12)`.
  std::string DebugString() const;
};

enum class StatusWord { kNone, kOk, kNo, kBad, kBye, kPreauth };

// Returns "OK", "NO", ... or "" for kNone.
absl::string_view StatusWordName(StatusWord word);

struct Response {
  enum class Kind { kTagged, kUntagged, kContinuation };

  Kind kind = Kind::kUntagged;
  // For kTagged: the command's tag.
  std::string tag;
  // For tagged responses and untagged OK/NO/BAD/BYE/PREAUTH.
  StatusWord status = StatusWord::kNone;
  // The response code's name in upper case (e.g. "UIDVALIDITY"), or "".
  std::string code;
  // The response code's arguments, parsed as values where they parse.
  std::vector<Value> code_args;
  // The response code's arguments as the server sent them.
  std::string code_text;
  // Human-readable text of a status response, or the text of a
  // continuation request (e.g. a base64 SASL challenge).
  std::string text;
  // For untagged data with a leading number ("* 23 EXISTS"): the number.
  absl::optional<uint32_t> number;
  // For untagged data: the keyword in upper case ("EXISTS", "CAPABILITY",
  // "FETCH", "LIST", ...).
  std::string keyword;
  // For untagged data: the values after the keyword.
  std::vector<Value> values;

  bool IsStatus() const { return status != StatusWord::kNone; }
  std::string DebugString() const;
};

}  // namespace imap::wire

#endif  // IMAP_WIRE_RESPONSE_H_
