// One IMAP client connection: greeting, capabilities, STARTTLS, login and
// the commands built on them. Commands run one at a time; untagged data the
// server sends meanwhile (EXISTS, CAPABILITY, BYE, ...) updates the
// session's state.
//
//   auto t = DialTcp(host, 993, deadline);
//   (*t)->StartTls({.server_name = host}, deadline);
//   Session s(*std::move(t), SessionOptions());
//   s.ReadGreeting();  s.Login(user, password, AuthMethod::kAuto);
//   absl::StatusOr<MailboxInfo> inbox = s.Examine("INBOX");
//   s.Logout();
#ifndef IMAP_SESSION_SESSION_H_
#define IMAP_SESSION_SESSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/session/transport.h"
#include "imap/wire/command_writer.h"
#include "imap/wire/response.h"
#include "imap/wire/response_parser.h"

namespace imap {

struct SessionOptions {
  // The longest wait for any one thing from the server (the greeting, a
  // response line, the rest of a literal).
  absl::Duration response_timeout = absl::Seconds(30);
  // No wait goes past this point in time (e.g. the RPC's deadline).
  absl::Time overall_deadline = absl::InfiniteFuture();
  // Allow LOGIN / AUTHENTICATE PLAIN over a connection that is not TLS.
  // Off: credentials never travel in clear text unless asked for.
  bool allow_plaintext_auth = false;
  wire::ParserLimits limits;
};

enum class AuthMethod { kAuto, kLogin, kPlain };

struct Greeting {
  wire::StatusWord status = wire::StatusWord::kOk;  // kOk or kPreauth
  std::string text;
};

struct MailboxInfo {
  std::string name;  // UTF-8
  uint32_t exists = 0;
  uint32_t uid_validity = 0;
  uint32_t uid_next = 0;
  uint64_t highest_modseq = 0;  // 0 when the server has no CONDSTORE
  bool read_only = false;
  std::vector<std::string> flags;
};

// Not thread-safe: one caller at a time.
class Session {
 public:
  Session(std::unique_ptr<Transport> transport, SessionOptions options);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Reads the server's greeting. Errors: UNAVAILABLE if the server says BYE
  // or closes, DEADLINE_EXCEEDED if it says nothing, UNAVAILABLE (kProtocol)
  // if it says something that is not a greeting.
  absl::StatusOr<Greeting> ReadGreeting();

  // Asks for the capabilities (CAPABILITY) and remembers them.
  absl::Status RefreshCapabilities();
  // The capabilities last announced, upper-cased, e.g. "IMAP4REV1",
  // "AUTH=PLAIN". Valid until the next command.
  const std::vector<std::string>& capabilities() const { return capabilities_; }
  bool HasCapability(absl::string_view name) const;

  // Sends STARTTLS and runs the TLS handshake. Forgets the capabilities,
  // as they may differ under TLS (RFC 3501 6.2.1). Errors carry kTls
  // (not offered, refused) or kCertificate.
  absl::Status StartTls(const TlsOptions& options);

  // Logs in with `method` (kAuto: AUTHENTICATE PLAIN if offered, else
  // LOGIN). Errors: UNAUTHENTICATED (kAuth) when the server refuses the
  // credentials; FAILED_PRECONDITION when the connection is not encrypted
  // and plaintext auth was not allowed, or no usable mechanism is offered.
  absl::Status Login(absl::string_view user, absl::string_view password, AuthMethod method);

  // Opens `folder` (UTF-8) read-only (EXAMINE) or read-write (SELECT).
  // Errors: NOT_FOUND (kNoMailbox) if the server refuses the folder.
  absl::StatusOr<MailboxInfo> Examine(absl::string_view folder);
  absl::StatusOr<MailboxInfo> Select(absl::string_view folder);

  absl::Status Noop();

  // Sends LOGOUT and waits for the server's answer.
  absl::Status Logout();

  Transport& transport() { return *transport_; }

 private:
  // Called for each continuation request; returns the bytes to send next.
  using ContinuationHandler =
      std::function<absl::StatusOr<std::string>(const wire::Response& continuation)>;

  std::string NextTag();
  wire::LiteralMode literal_mode() const;
  // Sends `command` and reads until its tagged response, which it returns
  // whatever its status. Untagged responses go to HandleUntagged. With no
  // handler, continuation requests release the command's next segment.
  absl::StatusOr<wire::Response> Execute(const wire::Command& command,
                                         ContinuationHandler on_continuation = nullptr);
  // Runs a command without arguments (NOOP, LOGOUT, ...): OK for a tagged
  // OK, else the error, prefixed with the command's name.
  absl::Status RunSimpleCommand(absl::string_view name);
  // Reads the next complete response from the server.
  absl::StatusOr<wire::Response> ReadResponse();
  void HandleUntagged(const wire::Response& r);
  // OK for a tagged OK; otherwise a status for `what` with the server's
  // code and text, mapped to the most specific canonical code.
  absl::Status TaggedStatus(const wire::Response& r, absl::string_view what) const;
  absl::Time Deadline() const;
  void SetCapabilities(const std::vector<wire::Value>& values);
  absl::StatusOr<MailboxInfo> OpenMailbox(absl::string_view verb, absl::string_view folder);

  std::unique_ptr<Transport> transport_;
  SessionOptions options_;
  wire::ResponseParser parser_;
  std::vector<std::string> capabilities_;
  uint64_t next_tag_ = 1;
  // Text of a BYE the server sent, reported if it then closes.
  absl::optional<std::string> bye_text_;
  // Mailbox data collected while a SELECT/EXAMINE runs.
  MailboxInfo* opening_ = nullptr;
};

}  // namespace imap

#endif  // IMAP_SESSION_SESSION_H_
