// For tests: a fresh self-signed certificate and its private key, made
// with OpenSSL, as an administrator would make one to upload to an
// Entra ID application.
//
//   TestCertificate c = MakeTestCertificate();           // RSA 2048
//   TestCertificate ec = MakeTestCertificate(KeyType::kEcP256);
#ifndef SERVER_OAUTH_TEST_CERTIFICATE_H_
#define SERVER_OAUTH_TEST_CERTIFICATE_H_

#include <string>

namespace server::oauth {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // PKCS#8, unencrypted
};

enum class KeyType { kRsa2048, kRsa1024, kEcP256 };

// Valid from an hour ago for `valid_days` days (negative: already expired).
// Aborts the test binary on an OpenSSL failure (it cannot go on anyway).
TestCertificate MakeTestCertificate(KeyType type = KeyType::kRsa2048, int valid_days = 365);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_TEST_CERTIFICATE_H_
