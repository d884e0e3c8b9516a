// Early-return helpers for absl::Status, which Abseil 20220623 lacks.
//
//   IMAPC_RETURN_IF_ERROR(conn.Write(bytes, deadline));
//   IMAPC_ASSIGN_OR_RETURN(Response r, parser.Next());
#ifndef IMAP_UTIL_STATUS_MACROS_H_
#define IMAP_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define IMAPC_CONCAT_INNER_(a, b) a##b
#define IMAPC_CONCAT_(a, b) IMAPC_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define IMAPC_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    ::absl::Status imapc_status_ = (expr);            \
    if (!imapc_status_.ok()) return imapc_status_;    \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define IMAPC_ASSIGN_OR_RETURN(lhs, rexpr) \
  IMAPC_ASSIGN_OR_RETURN_IMPL_(IMAPC_CONCAT_(imapc_statusor_, __LINE__), lhs, rexpr)

#define IMAPC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // IMAP_UTIL_STATUS_MACROS_H_
