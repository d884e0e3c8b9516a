// Session::Login: LOGIN and AUTHENTICATE PLAIN.
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

// Servers that predate RFC 5530 answer a bare NO for wrong credentials.
absl::Status AuthFailure(absl::Status s, const wire::Response& r) {
  if (!s.ok() && r.status == wire::StatusWord::kNo && r.code.empty()) {
    return WithErrorKind(absl::UnauthenticatedError(s.message()), ErrorKind::kAuth);
  }
  return s;
}

}  // namespace

absl::Status Session::Login(absl::string_view user, absl::string_view password,
                            AuthMethod method) {
  if (!transport_->IsTls() && !options_.allow_plaintext_auth) {
    return WithErrorKind(
        absl::FailedPreconditionError(
            "refusing to send credentials over an unencrypted connection (use TLS or STARTTLS, "
            "or explicitly choose no security)"),
        ErrorKind::kTls);
  }
  if (capabilities_.empty()) IMAPC_RETURN_IF_ERROR(RefreshCapabilities());
  if (method == AuthMethod::kAuto) {
    if (HasCapability("AUTH=PLAIN")) {
      method = AuthMethod::kPlain;
    } else if (!HasCapability("LOGINDISABLED")) {
      method = AuthMethod::kLogin;
    } else {
      return WithErrorKind(
          absl::FailedPreconditionError(
              "the server offers neither AUTHENTICATE PLAIN nor LOGIN (LOGINDISABLED)"),
          ErrorKind::kAuth);
    }
  }

  absl::StatusOr<wire::Response> r;
  if (method == AuthMethod::kLogin) {
    if (HasCapability("LOGINDISABLED")) {
      return WithErrorKind(absl::FailedPreconditionError("the server disabled LOGIN (LOGINDISABLED)"),
                           ErrorKind::kAuth);
    }
    wire::CommandBuilder b(NextTag(), "LOGIN", literal_mode());
    b.AString(user).Secret(password);
    IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());
    r = Execute(cmd);
    if (!r.ok()) return Annotate(r.status(), "LOGIN");
    return AuthFailure(TaggedStatus(*r, "LOGIN"), *r);
  }

  // AUTHENTICATE PLAIN (RFC 4616): "\0user\0password", base64.
  if (user.find('\0') != absl::string_view::npos || password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("user name or password contains a NUL byte");
  }
  const std::string initial = absl::Base64Escape(absl::StrCat(std::string(1, '\0'), user,
                                                              std::string(1, '\0'), password));
  wire::Command cmd;
  cmd.tag = NextTag();
  const bool sasl_ir = HasCapability("SASL-IR");
  cmd.segments.push_back(
      absl::StrCat(cmd.tag, " AUTHENTICATE PLAIN", sasl_ir ? absl::StrCat(" ", initial) : "", "\r\n"));
  cmd.redacted = absl::StrCat(cmd.tag, " AUTHENTICATE PLAIN", sasl_ir ? " <redacted>" : "");
  bool sent = sasl_ir;
  r = Execute(cmd, [&](const wire::Response&) -> absl::StatusOr<std::string> {
    // A second challenge means the server did not accept our response:
    // cancel the exchange with "*" (RFC 3501 6.2.2).
    if (sent) return std::string("*\r\n");
    sent = true;
    return absl::StrCat(initial, "\r\n");
  });
  if (!r.ok()) return Annotate(r.status(), "AUTHENTICATE PLAIN");
  return AuthFailure(TaggedStatus(*r, "AUTHENTICATE PLAIN"), *r);
}

}  // namespace imap
