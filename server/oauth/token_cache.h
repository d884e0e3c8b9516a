// The OAuth 2.0 access token of each connection, shared by every call in
// the process: fetched once, renewed at 80% of its lifetime, one request to
// the token endpoint at a time per connection however many calls ask.
//
//   TokenCache::Options options;
//   options.persist = PersistRefreshTokenTo(store);
//   TokenCache cache(std::move(options));                           // one per server
//   absl::StatusOr<AccessToken> t = cache.Get(connection, deadline);
//   ... login refused with t->token:
//   if (t->refreshable) t = cache.Get(connection, deadline, /*force_refresh=*/true, t->token);
//
// Thread-safety: every method may be called from any thread at once.
// Ownership: the cache owns its tokens; Get returns copies. The caller
// keeps the cache alive longer than every call into it (the server owns
// one and passes it by pointer).
#ifndef SERVER_OAUTH_TOKEN_CACHE_H_
#define SERVER_OAUTH_TOKEN_CACHE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "server/oauth/token_error.h"

namespace server {
class ConnectionStore;
}

namespace server::oauth {

struct AccessToken {
  std::string token;
  // When the endpoint said it expires; InfiniteFuture if unknown (static
  // token, token file, no expires_in).
  absl::Time expires_at = absl::InfiniteFuture();
  // Whether Get(..., force_refresh=true) can produce another token (a grant
  // or a token file); false for a static token, where a refused login is
  // final.
  bool refreshable = false;
};

class TokenCache {
 public:
  // Stores a rotated refresh token for connection `name`, replacing
  // `old_refresh_token` only if that is still the stored one (a Configure in
  // between wins). Called from the thread that ran the grant, without the
  // cache's lock, before any other call can use the new token; must be
  // thread-safe. An error is logged and the new token kept in memory only.
  using PersistRefreshToken = std::function<absl::Status(
      const std::string& name, const std::string& old_refresh_token,
      const std::string& new_refresh_token)>;

  struct Options {
    PersistRefreshToken persist;  // may be empty: rotated tokens stay in memory
    // Renew once this fraction of expires_in has passed.
    double refresh_at_fraction = 0.8;
    // Assumed lifetime when the endpoint sends no expires_in.
    absl::Duration default_lifetime = absl::Hours(1);
    // The clock, for tests.
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  explicit TokenCache(Options options);
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The access token to log `connection` in with. `connection` is a
  // validated Connection (presets applied); without oauth2 its password is
  // the token (as before oauth2 existed). A grant runs only when no token
  // is cached, the cached one has reached 80% of its life, or
  // `force_refresh`; concurrent callers then wait for that one grant
  // (single-flight) and share its result or error. If a renewal ahead of
  // expiry fails, the still-valid token is returned and the error logged.
  // `force_refresh`: the server refused a login with the token `refused`;
  // if the cache already holds a different valid token (another caller
  // refreshed), that one is returned without a grant. A token file is
  // re-read whenever its size, mtime or inode changed, and on force_refresh.
  // Waits at most until `deadline`; each HTTP request is also bounded by
  // the connection's timeout_ms. Errors carry a TokenErrorKind; messages
  // never hold secrets.
  absl::StatusOr<AccessToken> Get(const connector::v1::Connection& connection, absl::Time deadline,
                                  bool force_refresh = false, absl::string_view refused = "");

  // Drops what is cached for connection `name` (call on DeleteConnection;
  // Configure needs no call, changed settings are noticed by Get).
  void Forget(const std::string& name);

 private:
  struct Entry;
  std::shared_ptr<Entry> EntryFor(const connector::v1::Connection& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<AccessToken> FromFile(const connector::v1::Connection& c, bool force_refresh)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// A PersistRefreshToken that writes to `store` (which must outlive it):
// replaces the connection's oauth2.refresh_token_grant.refresh_token if it
// still equals the old one, through one Put (atomic, durable). Declared
// connections are read-only: FAILED_PRECONDITION (the cache then logs that
// the token could not be persisted and keeps it in memory).
TokenCache::PersistRefreshToken PersistRefreshTokenTo(ConnectionStore* store);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_TOKEN_CACHE_H_
