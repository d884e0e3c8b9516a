// Connections the operator declares in a file (a mounted ConfigMap), with
// passwords read from files named after each connection in a directory (a
// mounted Secret), so that replicas serve them without any Configure call.
//
//   --connections_file: {"connections": [ {"name": "support", "serverUrl": ..., ...} ]}
//     (Connection in proto3 JSON; a "password" there is refused)
//   --secrets_dir: DIR/support holds support's password (one trailing
//     newline is ignored), or its oauth2 static access token; an oauth2
//     refresh-token grant reads DIR/support.refresh_token (and
//     DIR/support.client_secret if there is one), client credentials
//     DIR/support.client_secret, or, when the connection's
//     clientCredentials has a clientCertificatePem (not secret, so it is in
//     the connections file), that certificate's private key (PEM) from
//     DIR/support.client_key; an oauth2 token file needs no secret.
//     Secrets written in the connections file are refused.
//
//   absl::StatusOr<std::vector<Connection>> c = LoadDeclaredConnections(file, dir, "cloud");
#ifndef SERVER_DECLARED_CONNECTIONS_H_
#define SERVER_DECLARED_CONNECTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "connector/v1/connector.pb.h"

namespace server {

// Reads, completes with passwords and validates every declared connection
// (like Configure does). Errors name the file, the connection and the
// field: INVALID_ARGUMENT for bad content, NOT_FOUND for a missing file
// or password file.
absl::StatusOr<std::vector<connector::v1::Connection>> LoadDeclaredConnections(
    const std::string& connections_file, const std::string& secrets_dir, const std::string& agent);

// The contents of a secret file without one trailing newline (CRLF or LF).
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace server

#endif  // SERVER_DECLARED_CONNECTIONS_H_
