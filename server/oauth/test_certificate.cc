#include "server/oauth/test_certificate.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>

namespace server::oauth {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "MakeTestCertificate: %s failed\n", what);
    std::abort();
  }
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

TestCertificate MakeTestCertificate(KeyType type, int valid_days) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case KeyType::kRsa2048:
      key = EVP_RSA_gen(2048);
      break;
    case KeyType::kRsa1024:
      key = EVP_RSA_gen(1024);
      break;
    case KeyType::kEcP256:
      key = EVP_EC_gen("P-256");
      break;
  }
  Check(key != nullptr, "key generation");

  X509* x = X509_new();
  Check(x != nullptr, "X509_new");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  const long day = 24 * 3600;
  X509_gmtime_adj(X509_getm_notBefore(x), valid_days < 0 ? (valid_days - 1) * day : -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(valid_days) * day);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("imap connector test"),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  Check(X509_sign(x, key, EVP_sha256()) > 0, "X509_sign");

  TestCertificate out;
  BIO* cert_bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(cert_bio, x) == 1, "PEM_write_bio_X509");
  out.certificate_pem = BioText(cert_bio);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  out.private_key_pem = BioText(key_bio);
  BIO_free(key_bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace server::oauth
