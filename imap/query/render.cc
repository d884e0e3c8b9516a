#include "imap/query/render.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace imap::query {
namespace {

std::string Quote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

std::string RenderLiteral(const Literal& l) {
  switch (l.kind) {
    case Literal::Kind::kString:
      return Quote(l.text);
    case Literal::Kind::kNumber:
      return absl::StrCat(l.number);
    case Literal::Kind::kBoolean:
      return l.number != 0 ? "true" : "false";
    case Literal::Kind::kTimestamp:
      return Quote(absl::FormatTime(l.date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", l.time,
                                    absl::UTCTimeZone()));
  }
  return "?";
}

std::string RenderField(const Field& f) {
  if (f.name == "header") return absl::StrCat("header(", Quote(f.header_name), ")");
  return f.name;
}

std::string Render(const Expr& e, bool nested) {
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr: {
      std::vector<std::string> parts;
      for (const Expr& c : e.children) parts.push_back(Render(c, true));
      std::string joined = absl::StrJoin(parts, e.kind == Expr::Kind::kAnd ? " AND " : " OR ");
      return nested && parts.size() > 1 ? absl::StrCat("(", joined, ")") : joined;
    }
    case Expr::Kind::kNot:
      return absl::StrCat("NOT ", e.children.empty() ? "?" : Render(e.children[0], true));
    case Expr::Kind::kFlag:
      return e.flag;
    case Expr::Kind::kCompare: {
      std::string out = absl::StrCat(RenderField(e.field), " ", OperatorName(e.op), " ");
      if (e.op == Operator::kIn) {
        std::vector<std::string> values;
        for (const Literal& l : e.values) values.push_back(RenderLiteral(l));
        absl::StrAppend(&out, "(", absl::StrJoin(values, ", "), ")");
      } else if (!e.values.empty()) {
        absl::StrAppend(&out, RenderLiteral(e.values[0]));
      }
      return out;
    }
  }
  return "?";
}

}  // namespace

std::string RenderExpr(const Expr& expr) { return Render(expr, false); }

}  // namespace imap::query
