// Writes a condition back in the query language, for people: TestQuery
// shows what the client checks after SEARCH this way.
//
//   RenderExpr(*plan.residual)  // "(subject LIKE 'Invoice%' OR NOT seen)"
#ifndef IMAP_QUERY_RENDER_H_
#define IMAP_QUERY_RENDER_H_

#include <string>

#include "imap/query/ast.h"

namespace imap::query {

// The condition as query text that parses back to the same condition.
// Timestamps are written in UTC ('2024-01-06' for whole days).
std::string RenderExpr(const Expr& expr);

}  // namespace imap::query

#endif  // IMAP_QUERY_RENDER_H_
