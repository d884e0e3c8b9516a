#include "server/oauth/token_cache.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/connection_store.h"
#include "server/log.h"
#include "server/oauth/token_source.h"
#include "server/status_convert.h"

namespace server::oauth {

using connector::v1::Connection;
using connector::v1::OAuth2;

namespace {

// Rotated-away refresh tokens remembered per connection, so that a call
// holding an old copy of the Connection still gets the newest token.
constexpr size_t kMaxSuperseded = 64;
constexpr int kDefaultTimeoutMs = 30000;

// The settings a cached token depends on, refresh token excluded (it
// rotates; see Entry::superseded).
std::string Fingerprint(const OAuth2& oauth2) {
  OAuth2 copy = oauth2;
  if (copy.has_refresh_token_grant()) copy.mutable_refresh_token_grant()->clear_refresh_token();
  std::string out;
  copy.SerializeToString(&out);
  return out;
}

}  // namespace

struct TokenCache::Entry {
  std::string fingerprint;
  // The newest refresh token, and those it replaced.
  std::string refresh_token;
  std::vector<std::string> superseded;

  std::string token;  // empty: none yet
  absl::Time refresh_at = absl::InfinitePast();
  absl::Time expires_at = absl::InfinitePast();
  FileVersion file_version;  // token files only

  // Single flight: one grant at a time; `generation` counts finished ones
  // and `last_status` is the result of the newest.
  bool fetching = false;
  uint64_t generation = 0;
  absl::Status last_status;
};

TokenCache::TokenCache(Options options) : options_(std::move(options)) {}

void TokenCache::Forget(const std::string& name) {
  absl::MutexLock lock(&mu_);
  entries_.erase(name);
}

std::shared_ptr<TokenCache::Entry> TokenCache::EntryFor(const Connection& c) {
  const std::string fingerprint = Fingerprint(c.oauth2());
  const std::string& given_refresh = c.oauth2().refresh_token_grant().refresh_token();
  std::shared_ptr<Entry>& slot = entries_[c.name()];
  if (slot != nullptr && slot->fingerprint == fingerprint) {
    const bool known = given_refresh == slot->refresh_token ||
                       std::find(slot->superseded.begin(), slot->superseded.end(), given_refresh) !=
                           slot->superseded.end();
    if (known) return slot;
  }
  // New settings or a refresh token configured anew: start over. A grant
  // still running for the old entry finishes into that orphan.
  slot = std::make_shared<Entry>();
  slot->fingerprint = fingerprint;
  slot->refresh_token = given_refresh;
  return slot;
}

absl::StatusOr<AccessToken> TokenCache::FromFile(const Connection& c, bool force_refresh) {
  const std::string& path = c.oauth2().token_file().path();
  std::shared_ptr<Entry> e = EntryFor(c);
  absl::StatusOr<FileVersion> version = StatTokenFile(path);
  if (!version.ok()) return version.status();
  if (force_refresh || e->token.empty() || *version != e->file_version) {
    FileVersion read_version;
    absl::StatusOr<std::string> token = ReadTokenFile(path, &read_version);
    if (!token.ok()) return token.status();
    if (!e->token.empty() && *token != e->token) {
      LogInfo(absl::StrCat("oauth2: connection ", Quote(c.name()), ": token file ", path,
                           " changed; using its new token"));
    }
    e->token = *std::move(token);
    e->file_version = read_version;
  }
  AccessToken out;
  out.token = e->token;
  out.refreshable = true;
  return out;
}

absl::StatusOr<AccessToken> TokenCache::Get(const Connection& c, absl::Time deadline,
                                            bool force_refresh, absl::string_view refused) {
  const OAuth2& oauth2 = c.oauth2();
  switch (oauth2.source_case()) {
    case OAuth2::SOURCE_NOT_SET: {
      AccessToken out;
      out.token = c.password();
      return out;
    }
    case OAuth2::kStaticToken: {
      AccessToken out;
      out.token = oauth2.static_token().access_token();
      return out;
    }
    case OAuth2::kTokenFile: {
      absl::MutexLock lock(&mu_);
      return FromFile(c, force_refresh);
    }
    case OAuth2::kRefreshTokenGrant:
    case OAuth2::kClientCredentials:
      break;
  }

  mu_.Lock();
  std::shared_ptr<Entry> e = EntryFor(c);
  while (true) {
    const absl::Time now = options_.now();
    const bool valid = !e->token.empty() && now < e->expires_at;
    if (valid && !force_refresh && now < e->refresh_at) break;
    if (valid && force_refresh && !refused.empty() && e->token != refused) break;
    if (e->fetching) {
      // Another caller's grant is running. A renewal ahead of expiry need
      // not be waited for while the current token is still good.
      if (valid && !force_refresh) break;
      const uint64_t generation = e->generation;
      Entry* entry = e.get();
      auto finished = [entry, generation] { return entry->generation != generation; };
      if (!mu_.AwaitWithDeadline(absl::Condition(&finished), deadline)) {
        mu_.Unlock();
        return absl::DeadlineExceededError(absl::StrCat(
            "waiting for the OAuth 2.0 token of connection ", Quote(c.name()), ": deadline passed"));
      }
      if (!e->last_status.ok()) {
        absl::Status failed = e->last_status;
        mu_.Unlock();
        return failed;
      }
      // The grant we waited for is the refresh a forced caller wanted.
      force_refresh = false;
      continue;
    }

    // This caller runs the grant; the others wait for it.
    e->fetching = true;
    const std::string old_refresh = e->refresh_token;
    const GrantRequest request = GrantRequestFor(oauth2, old_refresh);
    mu_.Unlock();

    const int timeout_ms = c.timeout_ms() > 0 ? c.timeout_ms() : kDefaultTimeoutMs;
    // Deadlines are wall-clock time; options_.now only ages tokens.
    const absl::Duration timeout = std::min(absl::Milliseconds(timeout_ms), deadline - absl::Now());
    const absl::Time started = options_.now();
    absl::StatusOr<GrantResult> grant = RequestToken(request, timeout);
    // Store a rotated refresh token before anyone can use it (we still
    // hold the single flight), so that the stored one is never older than
    // the one the endpoint still accepts.
    if (grant.ok() && !grant->refresh_token.empty()) {
      absl::Status persisted = options_.persist
                                   ? options_.persist(c.name(), old_refresh, grant->refresh_token)
                                   : absl::FailedPreconditionError("no store");
      if (persisted.ok()) {
        LogInfo(absl::StrCat("oauth2: connection ", Quote(c.name()),
                             ": the token endpoint rotated the refresh token; stored the new one"));
      } else {
        LogWarning(absl::StrCat("oauth2: connection ", Quote(c.name()),
                                ": the token endpoint rotated the refresh token, which could not be "
                                "persisted (",
                                persisted.message(),
                                "); it is kept in memory until the server restarts"));
      }
    }

    mu_.Lock();
    e->fetching = false;
    ++e->generation;
    if (!grant.ok()) {
      e->last_status = grant.status();
      LogWarning(absl::StrCat("oauth2: connection ", Quote(c.name()), ": ", grant.status().message()));
      if (valid && !force_refresh) break;  // renewal ahead failed; the token still works
      mu_.Unlock();
      return grant.status();
    }
    e->last_status = absl::OkStatus();
    if (!grant->refresh_token.empty()) {
      e->superseded.push_back(e->refresh_token);
      if (e->superseded.size() > kMaxSuperseded) e->superseded.erase(e->superseded.begin());
      e->refresh_token = grant->refresh_token;
    }
    const absl::Duration lifetime = grant->expires_in.value_or(options_.default_lifetime);
    e->token = std::move(grant->access_token);
    e->expires_at = started + lifetime;
    e->refresh_at = started + lifetime * options_.refresh_at_fraction;
    LogInfo(absl::StrCat("oauth2: connection ", Quote(c.name()), ": new access token from ",
                         request.token_url, ", valid for ", absl::FormatDuration(lifetime)));
    force_refresh = false;
  }
  AccessToken out;
  out.token = e->token;
  out.expires_at = e->expires_at;
  out.refreshable = true;
  mu_.Unlock();
  return out;
}

TokenCache::PersistRefreshToken PersistRefreshTokenTo(ConnectionStore* store) {
  return [store](const std::string& name, const std::string& old_refresh_token,
                 const std::string& new_refresh_token) -> absl::Status {
    if (store->IsDeclared(name)) {
      return absl::FailedPreconditionError(
          "a declared connection is read-only; renew its refresh token in the connections file's "
          "secrets");
    }
    // Compare and replace in one step: a Configure in between wins.
    return store->Update(name, [&](Connection& stored) -> absl::Status {
      if (!stored.oauth2().has_refresh_token_grant() ||
          stored.oauth2().refresh_token_grant().refresh_token() != old_refresh_token) {
        return absl::AbortedError("the connection was configured anew meanwhile; keeping its settings");
      }
      stored.mutable_oauth2()->mutable_refresh_token_grant()->set_refresh_token(new_refresh_token);
      return absl::OkStatus();
    });
  };
}

}  // namespace server::oauth
