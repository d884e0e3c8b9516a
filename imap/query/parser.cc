#include "imap/query/parser.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "imap/query/schema.h"

namespace imap::query {
namespace {

// ----------------------------------------------------------------- lexer

struct Token {
  enum class Kind { kEnd, kWord, kString, kQuotedName, kNumber, kSymbol };
  Kind kind = Kind::kEnd;
  std::string text;  // word as written, string/name unescaped, symbol, digits+unit
  Position position;
  // kString/kQuotedName: where the first control character (below 0x20, or
  // 0x7f) sits in the query text, for the places that refuse them.
  absl::optional<Position> first_control;
  char control = 0;  // that character
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd:
      return "the end of the query";
    case Token::Kind::kString:
      return absl::StrCat("the string '", t.text.substr(0, 40), "'");
    case Token::Kind::kQuotedName:
      return absl::StrCat("the name \"", t.text.substr(0, 40), "\"");
    default:
      return absl::StrCat("'", t.text.substr(0, 40), "'");
  }
}

absl::Status ErrorAt(Position p, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", p.line, ", column ", p.column, ": ", message));
}

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.position = {line_, column_};
      if (pos_ >= text_.size()) {
        tokens.push_back(t);
        return tokens;
      }
      const char c = text_[pos_];
      if (c == '\'' || c == '"') {
        t.kind = c == '\'' ? Token::Kind::kString : Token::Kind::kQuotedName;
        absl::Status s = ReadQuoted(c, &t);
        if (!s.ok()) return s;
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        t.kind = Token::Kind::kNumber;
        while (pos_ < text_.size() && absl::ascii_isalnum(static_cast<unsigned char>(text_[pos_]))) {
          t.text.push_back(Advance());
        }
      } else if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
        t.kind = Token::Kind::kWord;
        while (pos_ < text_.size() && (absl::ascii_isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                       text_[pos_] == '_')) {
          t.text.push_back(Advance());
        }
      } else {
        t.kind = Token::Kind::kSymbol;
        static constexpr absl::string_view kTwoChar[] = {"<=", ">=", "!=", "<>"};
        for (absl::string_view two : kTwoChar) {
          if (text_.substr(pos_, 2) == two) t.text = std::string(two);
        }
        if (t.text.empty()) {
          if (absl::string_view("=<>(),*:").find(c) == absl::string_view::npos) {
            return ErrorAt(t.position, absl::StrCat("unexpected character '", absl::CHexEscape(std::string(1, c)),
                                                    "'"));
          }
          t.text = std::string(1, c);
        }
        for (size_t i = 0; i < t.text.size(); ++i) Advance();
      }
      tokens.push_back(std::move(t));
    }
  }

 private:
  char Advance() {
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Advance();
      } else if (text_.substr(pos_, 2) == "--") {  // comment to the end of the line
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance();
      } else {
        return;
      }
    }
  }

  // 'it''s' and "say ""hi""": the quote doubled stands for itself. Any
  // byte but NUL may appear inside, line breaks included; the first other
  // control character is remembered in `t`, so that folder names can refuse
  // it at its own position.
  absl::Status ReadQuoted(char quote, Token* t) {
    std::string* out = &t->text;
    const Position start{line_, column_};
    Advance();
    while (pos_ < text_.size()) {
      const auto byte = static_cast<unsigned char>(text_[pos_]);
      if ((byte < 0x20 || byte == 0x7f) && byte != 0 && !t->first_control.has_value()) {
        t->first_control = Position{line_, column_};
        t->control = static_cast<char>(byte);
      }
      const char c = Advance();
      if (c == '\0') return ErrorAt(start, "a NUL byte inside a quoted string");
      if (c == quote) {
        if (pos_ < text_.size() && text_[pos_] == quote) {
          out->push_back(Advance());
          continue;
        }
        return absl::OkStatus();
      }
      out->push_back(c);
    }
    return ErrorAt(start, absl::StrCat("the ", quote == '\'' ? "string" : "name",
                                       " that starts here has no closing ", std::string(1, quote)));
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

// ----------------------------------------------------------------- parser

constexpr absl::string_view kFlags[] = {"seen", "answered", "flagged", "deleted", "draft", "recent"};
constexpr absl::string_view kPseudoFields[] = {"body", "attachment_name", "attachment_type",
                                               "gmail_raw"};
constexpr absl::string_view kReserved[] = {"select", "from", "where", "and", "or", "not", "order",
                                           "by", "asc", "desc", "limit", "in", "contains", "like",
                                           "true", "false", "header"};

bool IsWord(const Token& t, absl::string_view word) {
  return t.kind == Token::Kind::kWord && absl::EqualsIgnoreCase(t.text, word);
}
bool IsSymbol(const Token& t, absl::string_view s) {
  return t.kind == Token::Kind::kSymbol && t.text == s;
}

// The type a field compares as.
ColumnType FieldType(const Field& f) {
  if (f.name == "header" || f.name == "body" || f.name == "attachment_name" ||
      f.name == "attachment_type" || f.name == "gmail_raw") {
    return ColumnType::kString;
  }
  const Column* c = FindColumn(f.name);
  return c != nullptr ? c->type : ColumnType::kString;
}

// Parses '2024-01-31' (a whole day, UTC) or '2024-01-31T10:00[:00][Z|+hh:mm]'.
bool ParseTimestamp(absl::string_view s, absl::Time* out, bool* date_only) {
  std::string err;
  if (s.size() == 10) {
    absl::CivilDay day;
    if (!absl::ParseCivilTime(s, &day)) return false;
    if (absl::FormatCivilTime(day) != s) return false;  // no normalising 2024-02-30
    *out = absl::FromCivil(day, absl::UTCTimeZone());
    *date_only = true;
    return true;
  }
  *date_only = false;
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*SZ", "%Y-%m-%dT%H:%MZ",
                          "%Y-%m-%dT%H:%M%Ez", "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%dT%H:%M:%E*S"}) {
    if (absl::ParseTime(fmt, std::string(s), absl::UTCTimeZone(), out, &err)) return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ParseLimits& limits)
      : tokens_(std::move(tokens)), limits_(limits) {}

  absl::StatusOr<Query> Run() {
    Query q;
    if (IsWord(Peek(), "select")) {
      Next();
      absl::Status s = ParseColumns(&q);
      if (!s.ok()) return s;
    }
    if (IsWord(Peek(), "from")) {
      Next();
      absl::Status s = ParseFolders(&q);
      if (!s.ok()) return s;
    }
    if (IsWord(Peek(), "where")) {
      Next();
      absl::StatusOr<Expr> e = ParseOr(0);
      if (!e.ok()) return e.status();
      q.where = *std::move(e);
    }
    if (IsWord(Peek(), "order")) {
      Next();
      if (!IsWord(Peek(), "by")) return Expected("BY after ORDER");
      Next();
      if (!IsWord(Peek(), "uid")) {
        return ErrorAt(Peek().position,
                       absl::StrCat("records can be ordered by uid only, found ", Describe(Peek())));
      }
      Next();
      if (IsWord(Peek(), "desc")) {
        q.descending = true;
        Next();
      } else if (IsWord(Peek(), "asc")) {
        Next();
      }
    }
    if (IsWord(Peek(), "limit")) {
      Next();
      const Token& t = Peek();
      uint64_t n = 0;
      if (t.kind != Token::Kind::kNumber || !absl::SimpleAtoi(t.text, &n) || n == 0) {
        return Expected("a positive whole number after LIMIT");
      }
      q.limit = n;
      Next();
    }
    if (Peek().kind != Token::Kind::kEnd) {
      return Expected(q.where.has_value() ? "AND, OR, ORDER BY, LIMIT or the end of the query"
                                          : "SELECT, FROM, WHERE, ORDER BY or LIMIT");
    }
    return q;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (index_ < tokens_.size() - 1) ++index_;
    return t;
  }
  absl::Status Expected(absl::string_view what) const {
    return ErrorAt(Peek().position, absl::StrCat("expected ", what, ", found ", Describe(Peek())));
  }

  absl::Status UnknownColumn(const Token& t) const {
    std::string message = absl::StrCat("unknown column '", t.text, "'");
    const std::string closest = ClosestColumnName(t.text);
    if (!closest.empty()) absl::StrAppend(&message, "; did you mean '", closest, "'?");
    else absl::StrAppend(&message, "; see docs/query.md for the columns");
    return ErrorAt(t.position, message);
  }

  absl::Status ParseColumns(Query* q) {
    if (IsSymbol(Peek(), "*")) {
      Next();
      return absl::OkStatus();
    }
    while (true) {
      const Token& t = Peek();
      if (t.kind != Token::Kind::kWord) return Expected("a column name or *");
      const Column* c = FindColumn(t.text);
      if (c == nullptr) return UnknownColumn(t);
      q->columns.push_back(std::string(c->name));
      Next();
      if (!IsSymbol(Peek(), ",")) return absl::OkStatus();
      Next();
    }
  }

  absl::Status ParseFolders(Query* q) {
    while (true) {
      const Token& t = Peek();
      if (t.kind == Token::Kind::kQuotedName || t.kind == Token::Kind::kString) {
        if (t.text.empty()) return ErrorAt(t.position, "a folder name cannot be empty");
        // The name goes to the server in LIST and SELECT. The command writer
        // would send CR or LF safely inside a literal, but no real folder
        // holds them and servers answer such names with garbage (a bare CR
        // gave "malformed IMAP response"), so they are refused here, as the
        // connection's default_folder and move_to are.
        if (t.first_control.has_value()) {
          return ErrorAt(*t.first_control,
                         absl::StrCat("a folder name cannot contain control characters; found '",
                                      absl::CHexEscape(std::string(1, t.control)), "'"));
        }
        q->folders.push_back(t.text);
      } else if (IsWord(t, "role") && IsSymbol(Peek(1), ":")) {
        // role:sent stands for the folder with the special-use attribute
        // \Sent (RFC 6154); it is kept as that attribute, which the runner
        // resolves with LIST. A quoted "\Sent" says the same.
        Next();
        Next();
        const Token& role = Peek();
        if (role.kind != Token::Kind::kWord) {
          return Expected("a folder role after role:, e.g. role:sent or role:trash");
        }
        q->folders.push_back(absl::StrCat("\\", absl::AsciiStrToUpper(role.text.substr(0, 1)),
                                          absl::AsciiStrToLower(role.text.substr(1))));
      } else if (t.kind == Token::Kind::kWord && !IsReserved(t.text)) {
        q->folders.push_back(t.text);  // INBOX, Archive
      } else {
        return Expected("a folder name, e.g. \"INBOX\" or \"Archive/*\"");
      }
      Next();
      if (!IsSymbol(Peek(), ",")) return absl::OkStatus();
      Next();
    }
  }

  static bool IsReserved(absl::string_view word) {
    for (absl::string_view r : kReserved) {
      if (absl::EqualsIgnoreCase(r, word)) return true;
    }
    return false;
  }

  absl::StatusOr<Expr> ParseOr(int depth) {
    if (depth > limits_.max_depth) {
      return ErrorAt(Peek().position, absl::StrCat("nested deeper than ", limits_.max_depth, " levels"));
    }
    absl::StatusOr<Expr> first = ParseAnd(depth);
    if (!first.ok() || !IsWord(Peek(), "or")) return first;
    Expr e;
    e.kind = Expr::Kind::kOr;
    e.position = first->position;
    e.children.push_back(*std::move(first));
    while (IsWord(Peek(), "or")) {
      Next();
      absl::StatusOr<Expr> next = ParseAnd(depth);
      if (!next.ok()) return next.status();
      e.children.push_back(*std::move(next));
    }
    return e;
  }

  absl::StatusOr<Expr> ParseAnd(int depth) {
    absl::StatusOr<Expr> first = ParseNot(depth);
    if (!first.ok() || !IsWord(Peek(), "and")) return first;
    Expr e;
    e.kind = Expr::Kind::kAnd;
    e.position = first->position;
    e.children.push_back(*std::move(first));
    while (IsWord(Peek(), "and")) {
      Next();
      absl::StatusOr<Expr> next = ParseNot(depth);
      if (!next.ok()) return next.status();
      e.children.push_back(*std::move(next));
    }
    return e;
  }

  absl::StatusOr<Expr> ParseNot(int depth) {
    if (depth > limits_.max_depth) {
      return ErrorAt(Peek().position, absl::StrCat("nested deeper than ", limits_.max_depth, " levels"));
    }
    if (IsWord(Peek(), "not")) {
      Expr e;
      e.kind = Expr::Kind::kNot;
      e.position = Next().position;
      absl::StatusOr<Expr> inner = ParseNot(depth + 1);
      if (!inner.ok()) return inner.status();
      e.children.push_back(*std::move(inner));
      return e;
    }
    if (IsSymbol(Peek(), "(")) {
      const Position open = Next().position;
      absl::StatusOr<Expr> inner = ParseOr(depth + 1);
      if (!inner.ok()) return inner.status();
      if (!IsSymbol(Peek(), ")")) {
        return ErrorAt(Peek().position,
                       absl::StrCat("expected ')' to close the '(' at line ", open.line, ", column ",
                                    open.column, ", found ", Describe(Peek())));
      }
      Next();
      return inner;
    }
    return ParsePredicate();
  }

  absl::StatusOr<Expr> ParsePredicate() {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kWord) {
      return Expected("a condition, e.g. subject CONTAINS 'invoice', NOT seen, date >= '2024-01-01'");
    }
    Expr e;
    e.position = t.position;
    // Flags stand alone: seen, NOT flagged.
    for (absl::string_view flag : kFlags) {
      if (absl::EqualsIgnoreCase(t.text, flag)) {
        e.kind = Expr::Kind::kFlag;
        e.flag = std::string(flag);
        Next();
        return e;
      }
    }
    e.kind = Expr::Kind::kCompare;
    e.field.position = t.position;
    if (IsWord(t, "header")) {
      Next();
      if (!IsSymbol(Peek(), "(")) return Expected("'(' after header, as in header('X-Mailer')");
      Next();
      const Token& name = Peek();
      if (name.kind != Token::Kind::kString || name.text.empty() ||
          name.text.find_first_of(" :\t\r\n") != std::string::npos) {
        return Expected("a header name in quotes, e.g. header('List-Id')");
      }
      e.field.name = "header";
      e.field.header_name = name.text;
      Next();
      if (!IsSymbol(Peek(), ")")) return Expected("')' after the header name");
      Next();
    } else {
      std::string name = absl::AsciiStrToLower(t.text);
      bool pseudo = false;
      for (absl::string_view p : kPseudoFields) pseudo |= name == p;
      if (!pseudo && FindColumn(name) == nullptr) return UnknownColumn(t);
      e.field.name = name;
      Next();
    }
    const ColumnType type = FieldType(e.field);
    if (type == ColumnType::kBoolean && !IsOperatorAhead()) {
      // has_attachment on its own means "= true".
      Literal yes;
      yes.kind = Literal::Kind::kBoolean;
      yes.number = 1;
      yes.position = e.field.position;
      e.op = Operator::kEq;
      e.values.push_back(yes);
      return e;
    }
    absl::StatusOr<Operator> op = ParseOperator(e.field, type);
    if (!op.ok()) return op.status();
    e.op = *op;
    if (e.op == Operator::kIn) {
      if (!IsSymbol(Peek(), "(")) return Expected("'(' after IN, as in IN ('a', 'b')");
      Next();
      while (true) {
        absl::StatusOr<Literal> v = ParseValue(e.field, type, e.op);
        if (!v.ok()) return v.status();
        e.values.push_back(*std::move(v));
        if (e.values.size() > limits_.max_in_values) {
          return ErrorAt(Peek().position,
                         absl::StrCat("more than ", limits_.max_in_values, " values in one IN list"));
        }
        if (IsSymbol(Peek(), ",")) {
          Next();
          continue;
        }
        if (IsSymbol(Peek(), ")")) {
          Next();
          break;
        }
        return Expected("',' or ')' in the IN list");
      }
      return e;
    }
    absl::StatusOr<Literal> v = ParseValue(e.field, type, e.op);
    if (!v.ok()) return v.status();
    e.values.push_back(*std::move(v));
    return e;
  }

  bool IsOperatorAhead() const {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kSymbol) {
      return t.text == "=" || t.text == "!=" || t.text == "<>" || t.text == "<" || t.text == "<=" ||
             t.text == ">" || t.text == ">=";
    }
    return IsWord(t, "contains") || IsWord(t, "like") || IsWord(t, "in");
  }

  absl::StatusOr<Operator> ParseOperator(const Field& field, ColumnType type) {
    const Token& t = Peek();
    Operator op;
    if (IsSymbol(t, "=")) op = Operator::kEq;
    else if (IsSymbol(t, "!=") || IsSymbol(t, "<>")) op = Operator::kNe;
    else if (IsSymbol(t, "<")) op = Operator::kLt;
    else if (IsSymbol(t, "<=")) op = Operator::kLe;
    else if (IsSymbol(t, ">")) op = Operator::kGt;
    else if (IsSymbol(t, ">=")) op = Operator::kGe;
    else if (IsWord(t, "contains")) op = Operator::kContains;
    else if (IsWord(t, "like")) op = Operator::kLike;
    else if (IsWord(t, "in")) op = Operator::kIn;
    else return Expected(absl::StrCat("an operator after ", FieldLabel(field), " (", AllowedOperators(type), ")"));
    bool allowed = false;
    if (field.name == "gmail_raw") {
      // A Gmail search is the server's to decide, so only "matches it".
      if (op != Operator::kEq) {
        return ErrorAt(t.position,
                       absl::StrCat("gmail_raw cannot be compared with ", OperatorName(op),
                                    "; use gmail_raw = '<Gmail search>', e.g. gmail_raw = "
                                    "'has:attachment older_than:1y' (NOT for the opposite)"));
      }
      Next();
      return op;
    }
    switch (type) {
      case ColumnType::kInteger:
      case ColumnType::kTimestamp:
        allowed = op != Operator::kContains && op != Operator::kLike &&
                  !(type == ColumnType::kTimestamp && op == Operator::kIn);
        break;
      case ColumnType::kString:
      case ColumnType::kAddressList:
        allowed = op == Operator::kEq || op == Operator::kNe || op == Operator::kContains ||
                  op == Operator::kLike || op == Operator::kIn;
        break;
      case ColumnType::kStringList:
        allowed = op == Operator::kContains || op == Operator::kIn;
        break;
      case ColumnType::kBoolean:
        allowed = op == Operator::kEq || op == Operator::kNe;
        break;
      default:
        allowed = false;
    }
    if (!allowed) {
      return ErrorAt(t.position, absl::StrCat(FieldLabel(field), " cannot be compared with ",
                                              OperatorName(op), "; use ", AllowedOperators(type)));
    }
    Next();
    return op;
  }

  static std::string FieldLabel(const Field& f) {
    return f.name == "header" ? absl::StrCat("header('", f.header_name, "')") : f.name;
  }

  static std::string AllowedOperators(ColumnType type) {
    switch (type) {
      case ColumnType::kInteger:
        return "=, !=, <, <=, >, >=, IN";
      case ColumnType::kTimestamp:
        return "=, !=, <, <=, >, >=";
      case ColumnType::kString:
      case ColumnType::kAddressList:
        return "=, !=, CONTAINS, LIKE, IN";
      case ColumnType::kStringList:
        return "CONTAINS, IN";
      case ColumnType::kBoolean:
        return "= true, = false, or the name alone";
      default:
        return "nothing: this column can be selected, not filtered on";
    }
  }

  absl::StatusOr<Literal> ParseValue(const Field& field, ColumnType type, Operator op) {
    const Token& t = Peek();
    Literal v;
    v.position = t.position;
    switch (type) {
      case ColumnType::kInteger: {
        if (t.kind != Token::Kind::kNumber) return Expected(absl::StrCat("a number after ", FieldLabel(field), " ", OperatorName(op)));
        // Sizes may carry a unit: 10KB, 5MB, 1GB (powers of 1024).
        std::string digits = t.text;
        int64_t scale = 1;
        for (auto [unit, factor] : {std::pair<absl::string_view, int64_t>{"KB", 1 << 10},
                                    {"MB", 1 << 20}, {"GB", int64_t{1} << 30}, {"K", 1 << 10},
                                    {"M", 1 << 20}, {"G", int64_t{1} << 30}}) {
          if (absl::EndsWithIgnoreCase(digits, unit)) {
            digits.resize(digits.size() - unit.size());
            scale = factor;
            break;
          }
        }
        int64_t n = 0;
        if (!absl::SimpleAtoi(digits, &n) || n < 0 ||
            n > std::numeric_limits<int64_t>::max() / scale ||
            (field.name != "size" && scale != 1)) {
          return ErrorAt(t.position, absl::StrCat("'", t.text, "' is not a valid number for ",
                                                  FieldLabel(field),
                                                  field.name == "size" ? " (units: KB, MB, GB)" : ""));
        }
        v.kind = Literal::Kind::kNumber;
        v.number = n * scale;
        v.text = t.text;
        break;
      }
      case ColumnType::kTimestamp: {
        if (t.kind != Token::Kind::kString) {
          return Expected(absl::StrCat("a date in quotes after ", FieldLabel(field), " ", OperatorName(op),
                                       ", e.g. '2024-01-31' or '2024-01-31T09:00:00Z'"));
        }
        v.kind = Literal::Kind::kTimestamp;
        v.text = t.text;
        if (!ParseTimestamp(t.text, &v.time, &v.date_only)) {
          return ErrorAt(t.position, absl::StrCat("'", t.text, "' is not a date; write '2024-01-31' or "
                                                  "'2024-01-31T09:00:00Z' (or with +02:00)"));
        }
        break;
      }
      case ColumnType::kBoolean: {
        if (!IsWord(t, "true") && !IsWord(t, "false")) return Expected("true or false");
        v.kind = Literal::Kind::kBoolean;
        v.number = IsWord(t, "true") ? 1 : 0;
        v.text = t.text;
        break;
      }
      default: {
        if (t.kind != Token::Kind::kString) {
          return Expected(absl::StrCat("a string in single quotes after ", FieldLabel(field), " ",
                                       OperatorName(op)));
        }
        v.kind = Literal::Kind::kString;
        v.text = t.text;
        break;
      }
    }
    Next();
    return v;
  }

  std::vector<Token> tokens_;
  const ParseLimits& limits_;
  size_t index_ = 0;
};

}  // namespace

absl::StatusOr<Query> ParseQuery(absl::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_length) {
    return absl::InvalidArgumentError(
        absl::StrCat("the query is ", text.size(), " bytes long; at most ", limits.max_length, " allowed"));
  }
  absl::StatusOr<std::vector<Token>> tokens = Lexer(text).Run();
  if (!tokens.ok()) return tokens.status();
  return Parser(*std::move(tokens), limits).Run();
}

}  // namespace imap::query
