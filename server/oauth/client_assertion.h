// Client authentication by certificate for the client-credentials grant:
// a JWT client assertion (RFC 7523 section 2.2, RFC 7521 section 4.2)
// signed with the private key of a certificate registered with the
// application, as Microsoft Entra ID accepts it instead of a client secret.
//
//   absl::Status ok = CheckClientCertificate(cert_pem, key_pem);   // Configure
//   absl::StatusOr<std::string> jwt =
//       MakeClientAssertion(cert_pem, key_pem, client_id, token_url, absl::Now());
//   // POST client_assertion_type=kJwtBearerAssertionType, client_assertion=*jwt
#ifndef SERVER_OAUTH_CLIENT_ASSERTION_H_
#define SERVER_OAUTH_CLIENT_ASSERTION_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace server::oauth {

inline constexpr absl::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// How long an assertion is valid (its exp is iat plus this).
inline constexpr absl::Duration kAssertionLifetime = absl::Minutes(10);

// Which field a certificate problem is about.
enum class CertificateField { kCertificate, kPrivateKey };

struct CertificateProblem {
  CertificateField field;
  // Says what is wrong and what to do; never quotes the key.
  std::string description;
};

// Checks that `certificate_pem` holds exactly one X.509 certificate and
// `private_key_pem` an unencrypted RSA private key of at least 2048 bits
// matching it; nullopt if so. Thread-safe; leaves OpenSSL's error queue
// empty.
std::optional<CertificateProblem> CheckClientCertificate(absl::string_view certificate_pem,
                                          absl::string_view private_key_pem);

// The certificate's notAfter, for a note when it has passed or is near;
// InfinitePast if it cannot be read.
absl::Time CertificateNotAfter(absl::string_view certificate_pem);

// base64url (no padding) of the SHA-1 / SHA-256 digest of the DER
// certificate: the JWT header's x5t and x5t#S256 (RFC 7515 4.1.7, 4.1.8).
absl::StatusOr<std::string> CertificateThumbprintSha1(absl::string_view certificate_pem);
absl::StatusOr<std::string> CertificateThumbprintSha256(absl::string_view certificate_pem);

// A compact JWS: header {"alg":"RS256","typ":"JWT","x5t":...,"x5t#S256":...},
// claims {"aud": audience, "iss": client_id, "sub": client_id, "jti": 128
// random bits in hex, "nbf": now, "iat": now, "exp": now + kAssertionLifetime},
// signed RSASSA-PKCS1-v1_5 SHA-256 with `private_key_pem`. Errors
// (FAILED_PRECONDITION) never hold key material. Thread-safe.
absl::StatusOr<std::string> MakeClientAssertion(absl::string_view certificate_pem,
                                                absl::string_view private_key_pem,
                                                absl::string_view client_id,
                                                absl::string_view audience, absl::Time now);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_CLIENT_ASSERTION_H_
