// The parsed form of a query (see docs/query.md):
//   SELECT <columns> FROM <folders> WHERE <expression> ORDER BY uid [ASC|DESC] LIMIT <n>
#ifndef IMAP_QUERY_AST_H_
#define IMAP_QUERY_AST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace imap::query {

// 1-based line and column (in bytes) of a token in the query text.
struct Position {
  int line = 1;
  int column = 1;
};

struct Literal {
  enum class Kind { kString, kNumber, kTimestamp, kBoolean };
  Kind kind = Kind::kString;
  std::string text;    // kString: the value, unescaped (any bytes but NUL)
  int64_t number = 0;  // kNumber (size units applied: 5MB = 5242880), kBoolean (0/1)
  absl::Time time;     // kTimestamp
  bool date_only = false;  // kTimestamp written as 'YYYY-MM-DD' (a whole day, UTC)
  Position position;
};

// What a predicate looks at.
struct Field {
  // A column name from the schema (lower case), or one of the pseudo
  // fields "header" (with header_name), "body", "attachment_name",
  // "attachment_type".
  std::string name;
  std::string header_name;
  Position position;
};

enum class Operator { kEq, kNe, kLt, kLe, kGt, kGe, kContains, kLike, kIn };

// How the operator is written in a query: "=", "!=", "CONTAINS", ...
inline absl::string_view OperatorName(Operator op) {
  switch (op) {
    case Operator::kEq:
      return "=";
    case Operator::kNe:
      return "!=";
    case Operator::kLt:
      return "<";
    case Operator::kLe:
      return "<=";
    case Operator::kGt:
      return ">";
    case Operator::kGe:
      return ">=";
    case Operator::kContains:
      return "CONTAINS";
    case Operator::kLike:
      return "LIKE";
    case Operator::kIn:
      return "IN";
  }
  return "?";
}

struct Expr {
  enum class Kind {
    kAnd,      // children
    kOr,       // children
    kNot,      // children[0]
    kFlag,     // flag: "seen", "answered", "flagged", "deleted", "draft", "recent"
    kCompare,  // field op values (one value, or several for kIn)
  };
  Kind kind = Kind::kAnd;
  std::vector<Expr> children;
  std::string flag;
  Field field;
  Operator op = Operator::kEq;
  std::vector<Literal> values;
  Position position;
};

struct Query {
  // Selected columns in order (schema names); empty means the default set.
  std::vector<std::string> columns;
  // Folder names or patterns (UTF-8, may hold * and %), or folder roles
  // written as their special-use attribute ("\Sent" for role:sent; a name
  // that starts with a backslash is a role); empty means the connection's
  // default folder.
  std::vector<std::string> folders;
  absl::optional<Expr> where;
  bool descending = false;  // ORDER BY uid DESC
  absl::optional<uint64_t> limit;
};

}  // namespace imap::query

#endif  // IMAP_QUERY_AST_H_
