// Session::Login: LOGIN, AUTHENTICATE PLAIN, SCRAM-SHA-1/256 (through GNU
// SASL), XOAUTH2 and OAUTHBEARER (RFC 7628).
#include <gsasl.h>

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

// Servers that predate RFC 5530 answer a bare NO for wrong credentials.
absl::Status AuthFailure(absl::Status s) {
  if (s.code() == absl::StatusCode::kFailedPrecondition && GetErrorKind(s) == ErrorKind::kUnknown) {
    return WithErrorKind(absl::UnauthenticatedError(s.message()), ErrorKind::kAuth);
  }
  return s;
}

absl::Status NotOffered(absl::string_view mechanism) {
  return WithErrorKind(absl::FailedPreconditionError(absl::StrCat(
                           "the server does not offer AUTHENTICATE ", mechanism)),
                       ErrorKind::kAuth);
}

struct GsaslDeleter {
  void operator()(Gsasl* ctx) const { gsasl_done(ctx); }
  void operator()(Gsasl_session* s) const { gsasl_finish(s); }
};

}  // namespace

absl::Status Session::Authenticate(absl::string_view mechanism, absl::string_view initial_response,
                                   ContinuationHandler on_challenge) {
  wire::Command cmd;
  cmd.tag = NextTag();
  // With SASL-IR the first response rides on the command line ("=" when
  // empty, RFC 4959); otherwise it answers the first, empty challenge.
  const bool inline_first = HasCapability("SASL-IR");
  std::string first = std::string(initial_response);
  if (inline_first) {
    cmd.segments.push_back(absl::StrCat(cmd.tag, " AUTHENTICATE ", mechanism, " ",
                                        first.empty() ? "=" : first, "\r\n"));
  } else {
    cmd.segments.push_back(absl::StrCat(cmd.tag, " AUTHENTICATE ", mechanism, "\r\n"));
  }
  cmd.redacted = absl::StrCat(cmd.tag, " AUTHENTICATE ", mechanism, inline_first ? " <redacted>" : "");
  bool first_sent = inline_first;
  absl::StatusOr<wire::Response> r =
      Execute(cmd, [&](const wire::Response& challenge) -> absl::StatusOr<std::string> {
        if (!first_sent) {
          first_sent = true;
          return absl::StrCat(first, "\r\n");
        }
        return on_challenge(challenge);
      });
  const std::string what = absl::StrCat("AUTHENTICATE ", mechanism);
  if (!r.ok()) return Annotate(r.status(), what);
  return AuthFailure(TaggedStatus(*r, what));
}

absl::Status Session::AuthenticateScram(absl::string_view user, absl::string_view password,
                                        absl::string_view mechanism) {
  Gsasl* raw_ctx = nullptr;
  if (gsasl_init(&raw_ctx) != GSASL_OK) return absl::InternalError("cannot start GNU SASL");
  std::unique_ptr<Gsasl, GsaslDeleter> ctx(raw_ctx);
  Gsasl_session* raw_session = nullptr;
  const std::string mech(mechanism);
  if (gsasl_client_start(ctx.get(), mech.c_str(), &raw_session) != GSASL_OK) {
    return absl::InternalError(absl::StrCat("GNU SASL has no client for ", mechanism));
  }
  std::unique_ptr<Gsasl_session, GsaslDeleter> sasl(raw_session);
  gsasl_property_set(sasl.get(), GSASL_AUTHID, std::string(user).c_str());
  gsasl_property_set(sasl.get(), GSASL_PASSWORD, std::string(password).c_str());

  // Each step turns the server's base64 challenge into our base64 answer.
  bool done = false;
  auto step = [&](absl::string_view challenge_b64) -> absl::StatusOr<std::string> {
    if (done) return std::string("*");  // the server wants more than SCRAM has: cancel
    char* out = nullptr;
    const int rc = gsasl_step64(sasl.get(), std::string(challenge_b64).c_str(), &out);
    std::string answer = out != nullptr ? out : "";
    gsasl_free(out);
    if (rc == GSASL_OK) {
      done = true;  // the server's signature checked out
    } else if (rc != GSASL_NEEDS_MORE) {
      // Most often the server's final message did not prove that it knows
      // the password: cancel rather than trust it.
      return WithErrorKind(absl::UnauthenticatedError(absl::StrCat(
                               mechanism, " failed: ", gsasl_strerror(rc))),
                           ErrorKind::kAuth);
    }
    return answer;
  };
  IMAPC_ASSIGN_OR_RETURN(std::string first, step(""));
  absl::Status s = Authenticate(mechanism, first,
                                [&](const wire::Response& c) -> absl::StatusOr<std::string> {
                                  IMAPC_ASSIGN_OR_RETURN(std::string answer, step(c.text));
                                  return absl::StrCat(answer, "\r\n");
                                });
  if (s.ok() && !done) {
    return WithErrorKind(absl::UnauthenticatedError(absl::StrCat(
                             mechanism, ": the server accepted without proving its identity")),
                         ErrorKind::kAuth);
  }
  return s;
}

absl::Status Session::Login(absl::string_view user, absl::string_view secret, AuthMethod method) {
  if (!transport_->IsTls() && !options_.allow_plaintext_auth) {
    return WithErrorKind(
        absl::FailedPreconditionError(
            "refusing to send credentials over an unencrypted connection (use TLS or STARTTLS, "
            "or explicitly choose no security)"),
        ErrorKind::kTls);
  }
  if (user.find('\0') != absl::string_view::npos || secret.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("user name or secret contains a NUL byte");
  }
  if (capabilities_.empty()) IMAPC_RETURN_IF_ERROR(RefreshCapabilities());
  if (method == AuthMethod::kAuto) {
    // Strongest first: SCRAM never shows the password to the server.
    if (HasCapability("AUTH=SCRAM-SHA-256")) {
      method = AuthMethod::kScramSha256;
    } else if (HasCapability("AUTH=SCRAM-SHA-1")) {
      method = AuthMethod::kScramSha1;
    } else if (HasCapability("AUTH=PLAIN")) {
      method = AuthMethod::kPlain;
    } else if (!HasCapability("LOGINDISABLED")) {
      method = AuthMethod::kLogin;
    } else {
      return WithErrorKind(absl::FailedPreconditionError(
                               "the server offers no password mechanism we support and disabled LOGIN"),
                           ErrorKind::kAuth);
    }
  }

  auth_method_ = method == AuthMethod::kAuto ? AuthMethod::kLogin : method;
  switch (method) {
    case AuthMethod::kAuto:
    case AuthMethod::kLogin: {
      if (HasCapability("LOGINDISABLED")) {
        return WithErrorKind(absl::FailedPreconditionError("the server disabled LOGIN (LOGINDISABLED)"),
                             ErrorKind::kAuth);
      }
      wire::CommandBuilder b(NextTag(), "LOGIN", literal_mode());
      b.AString(user).Secret(secret);
      IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());
      absl::StatusOr<wire::Response> r = Execute(cmd);
      if (!r.ok()) return Annotate(r.status(), "LOGIN");
      return AuthFailure(TaggedStatus(*r, "LOGIN"));
    }
    case AuthMethod::kPlain: {
      if (!HasCapability("AUTH=PLAIN")) return NotOffered("PLAIN");
      // RFC 4616: "\0user\0password".
      const std::string initial = absl::Base64Escape(
          absl::StrCat(std::string(1, '\0'), user, std::string(1, '\0'), secret));
      return Authenticate("PLAIN", initial, [](const wire::Response&) {
        // A second challenge means the server did not accept: cancel.
        return absl::StatusOr<std::string>("*\r\n");
      });
    }
    case AuthMethod::kScramSha1:
    case AuthMethod::kScramSha256: {
      const absl::string_view mech = AuthMethodName(method);
      if (!HasCapability(absl::StrCat("AUTH=", mech))) return NotOffered(mech);
      return AuthenticateScram(user, secret, mech);
    }
    case AuthMethod::kXoauth2:
    case AuthMethod::kOauthBearer: {
      const absl::string_view mech = AuthMethodName(method);
      if (!HasCapability(absl::StrCat("AUTH=", mech))) return NotOffered(mech);
      const std::string token_message =
          method == AuthMethod::kXoauth2
              ? absl::StrCat("user=", user, "\x01" "auth=Bearer ", secret, "\x01\x01")
              // RFC 7628: GS2 header with the authorization identity.
              : absl::StrCat("n,a=", user, ",\x01" "auth=Bearer ", secret, "\x01\x01");
      // A refused token gets a JSON error challenge, which must be answered
      // (empty for XOAUTH2, a ^A for OAUTHBEARER) before the final NO.
      const bool bearer = method == AuthMethod::kOauthBearer;
      std::string challenge;  // the server's reason (RFC 7628 3.2.2): status, scope
      absl::Status s = Authenticate(
          mech, absl::Base64Escape(token_message),
          [bearer, &challenge](const wire::Response& r) -> absl::StatusOr<std::string> {
            std::string decoded;
            if (absl::Base64Unescape(r.text, &decoded)) challenge = decoded.substr(0, 300);
            return std::string(bearer ? "AQ==\r\n" : "\r\n");
          });
      if (!s.ok() && !challenge.empty()) {
        // Printable only: it goes into messages and logs.
        for (char& ch : challenge) {
          if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = ' ';
        }
        return Annotate(s, absl::StrCat("the server refused the token (its reason: ", challenge, ")"));
      }
      return s;
    }
  }
  return absl::InvalidArgumentError("unknown authentication method");
}

}  // namespace imap
