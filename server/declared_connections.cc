#include "server/declared_connections.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "imap/util/status_macros.h"
#include "server/connection_validation.h"
#include "server/status_convert.h"

namespace server {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Violations of a validation error as one line.
std::string Describe(const absl::Status& s) {
  std::vector<std::string> parts;
  for (const FieldViolation& v : GetFieldViolations(s)) parts.push_back(absl::StrCat(v.field, " ", v.description));
  return parts.empty() ? std::string(s.message()) : absl::StrJoin(parts, "; ");
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  absl::StatusOr<std::string> secret = ReadWholeFile(path, "secret file");
  if (!secret.ok()) return secret;
  if (absl::EndsWith(*secret, "\r\n")) {
    secret->resize(secret->size() - 2);
  } else if (absl::EndsWith(*secret, "\n")) {
    secret->pop_back();
  }
  return secret;
}

absl::StatusOr<std::vector<connector::v1::Connection>> LoadDeclaredConnections(
    const std::string& file, const std::string& secrets_dir, const std::string& agent) {
  absl::StatusOr<std::string> json = ReadWholeFile(file, "connections file");
  if (!json.ok()) return json.status();
  connector::v1::ListConnectionsResponse declared;
  const auto parsed = google::protobuf::util::JsonStringToMessage(*json, &declared);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("connections file ", file, " does not parse: ",
                                                   parsed.message().as_string()));
  }
  std::vector<connector::v1::Connection> out;
  for (int i = 0; i < declared.connections_size(); ++i) {
    connector::v1::Connection c = declared.connections(i);
    const std::string where = absl::StrCat(file, ": connection ", i + 1, " (", Quote(c.name()), ")");
    const std::string secrets = secrets_dir.empty() ? "--secrets_dir" : secrets_dir;
    connector::v1::OAuth2* oauth2 = c.mutable_oauth2();
    if (!c.password().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": has a password in the file; put it in ", secrets, "/", c.name(), " instead"));
    }
    if (!oauth2->static_token().access_token().empty() ||
        !oauth2->refresh_token_grant().refresh_token().empty() ||
        !oauth2->refresh_token_grant().client_secret().empty() ||
        !oauth2->client_credentials().client_secret().empty() ||
        !oauth2->client_credentials().client_private_key_pem().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": has an OAuth 2.0 secret in the file; put it in ", secrets, "/", c.name(),
          " (a static token), ", c.name(), ".refresh_token, ", c.name(), ".client_secret or ", c.name(),
          ".client_key instead"));
    }
    if (c.name().empty() || c.name().find('/') != std::string::npos || c.name() == "." || c.name() == "..") {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs a name usable as a file name"));
    }
    // Which secret files the connection needs: the password (or a static
    // token) by default; a token file needs none; the grants theirs.
    const std::string base = absl::StrCat(secrets_dir, "/", c.name());
    auto read = [&](const std::string& path, bool required) -> absl::StatusOr<std::string> {
      if (secrets_dir.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": no --secrets_dir to read ", path, " from"));
      }
      absl::StatusOr<std::string> secret = ReadSecretFile(path);
      if (!secret.ok() && !required) return std::string();
      if (!secret.ok()) return absl::NotFoundError(absl::StrCat(where, ": ", secret.status().message()));
      return secret;
    };
    switch (oauth2->source_case()) {
      case connector::v1::OAuth2::kTokenFile:
        break;
      case connector::v1::OAuth2::kRefreshTokenGrant: {
        IMAPC_ASSIGN_OR_RETURN(std::string refresh, read(base + ".refresh_token", true));
        IMAPC_ASSIGN_OR_RETURN(std::string client_secret, read(base + ".client_secret", false));
        oauth2->mutable_refresh_token_grant()->set_refresh_token(std::move(refresh));
        oauth2->mutable_refresh_token_grant()->set_client_secret(std::move(client_secret));
        break;
      }
      case connector::v1::OAuth2::kClientCredentials: {
        // A certificate in the file means certificate authentication: its
        // private key is the secret; else the client secret is.
        auto* g = oauth2->mutable_client_credentials();
        if (!g->client_certificate_pem().empty()) {
          IMAPC_ASSIGN_OR_RETURN(std::string key, read(base + ".client_key", true));
          g->set_client_private_key_pem(std::move(key));
        } else {
          IMAPC_ASSIGN_OR_RETURN(std::string client_secret, read(base + ".client_secret", true));
          g->set_client_secret(std::move(client_secret));
        }
        break;
      }
      case connector::v1::OAuth2::kStaticToken: {
        IMAPC_ASSIGN_OR_RETURN(std::string token, read(base, true));
        oauth2->mutable_static_token()->set_access_token(std::move(token));
        break;
      }
      case connector::v1::OAuth2::SOURCE_NOT_SET: {
        c.clear_oauth2();
        IMAPC_ASSIGN_OR_RETURN(std::string password, read(base, true));
        c.set_password(std::move(password));
        break;
      }
    }
    // Output only: the acknowledged position comes from Acknowledge alone
    // (kept in the data directory), never from the operator's file.
    c.clear_last_ack_cursor();
    ValidationContext context;
    context.agent = agent;
    absl::StatusOr<ValidConnection> valid = ValidateConnection(c, context);
    if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", Describe(valid.status())));
    out.push_back(std::move(valid->connection));
  }
  return out;
}

}  // namespace server
