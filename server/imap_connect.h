// Opens a logged-in IMAP session for a validated connection: TCP, TLS or
// STARTTLS, greeting, login, and COMPRESS when the server offers it. The
// jobs (TestQuery, StreamRecords, Acknowledge) share it; TestConnection
// runs the same steps one by one to report each.
//
//   absl::StatusOr<std::unique_ptr<imap::Session>> s = OpenSession(connection, deadline, &steps);
#ifndef SERVER_IMAP_CONNECT_H_
#define SERVER_IMAP_CONNECT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/session/session.h"
#include "server/connection_governor.h"
#include "server/oauth/token_cache.h"

namespace server {

class StreamControl;  // server/record_stream.h

// One timed step of opening a session ("connect", "tls", "login", ...).
struct TimedStep {
  std::string name;
  absl::Duration duration;
  std::string detail;
};

struct OpenOptions {
  // Ask for COMPRESS=DEFLATE when offered, even if the connection does not
  // say so (Connection.compress).
  bool compress = false;
  // The connection counts against the mailbox's max_connections
  // (ConnectionGovernor). With wait_for_slot, OpenSession queues for a slot
  // until the deadline (or `cancelled`); without, it fails at once with
  // RESOURCE_EXHAUSTED (kLimit) when none is free (a stream's extra
  // connections: parallelism is clipped rather than queued).
  bool wait_for_slot = true;
  std::function<bool()> cancelled;
  // Cancelling `control` interrupts the connection from the moment it is
  // dialled (the greeting, TLS, the login), not only once OpenSession has
  // returned and the caller attached it. Null: nothing interrupts it.
  StreamControl* control = nullptr;
};

// The ConnectionGovernor key of a connection's mailbox and its limit.
std::string MailboxKey(const connector::v1::Connection& connection);
int MaxConnections(const connector::v1::Connection& connection);

// Wraps `inner` so that `permit` is held as long as the connection is,
// and (with a `control`) so that the connection is attached to `control`
// for as long as it lives.
std::unique_ptr<imap::Transport> HoldingPermit(std::unique_ptr<imap::Transport> inner,
                                               ConnectionGovernor::Permit permit,
                                               StreamControl* control = nullptr);

// Opens the session. Errors keep the engine's codes and error kinds, with
// the failing step named ("login: ..."). `steps` (optional) receives each
// step that completed. REQUIRES: `connection` passed ValidateConnection.
absl::StatusOr<std::unique_ptr<imap::Session>> OpenSession(
    const connector::v1::Connection& connection, absl::Time deadline,
    std::vector<TimedStep>* steps = nullptr, OpenOptions options = OpenOptions());

// The engine's session options for `connection`: timeout_ms bounds every
// wait for a byte, ten times it every command (see docs/retry-policy.md),
// max_message_bytes, and alerts logged (at most a few a minute per
// connection name). `deadline` bounds everything.
imap::SessionOptions SessionOptionsFor(const connector::v1::Connection& connection,
                                       absl::Time deadline);

// The token cache OpenSession and TestConnection take OAuth 2.0 access
// tokens from (set once at start by main; the server owns it). Without
// one, connections with oauth2 cannot log in (FAILED_PRECONDITION).
void SetTokenCache(oauth::TokenCache* cache);

// Drops the cached token of connection `name` (it was deleted).
void ForgetToken(const std::string& name);

// Whether `connection` logs in with a token from its oauth2 source.
bool UsesOAuthSource(const connector::v1::Connection& connection);

// The access token for `connection` from the cache. Errors carry the
// oauth::TokenErrorKind (TestConnection's categories); no secret in them.
absl::StatusOr<oauth::AccessToken> AccessTokenFor(const connector::v1::Connection& connection,
                                                  absl::Time deadline, bool force_refresh = false,
                                                  absl::string_view refused = "");

// Logs `session` in as `connection` says. With an oauth2 source, `token`
// (from AccessTokenFor) is used: XOAUTH2, or OAUTHBEARER where only that is
// offered, for AUTO; a token the server refuses is renewed once and tried
// again (another caller may already have renewed it). Returns the login's
// error, annotated with the token's when renewing failed.
absl::Status LogIn(imap::Session& session, const connector::v1::Connection& connection,
                   absl::Time deadline, oauth::AccessToken* token);

// The engine's mechanism for the API's.
imap::AuthMethod ToAuthMethod(connector::v1::AuthMechanism mechanism);

}  // namespace server

#endif  // SERVER_IMAP_CONNECT_H_
