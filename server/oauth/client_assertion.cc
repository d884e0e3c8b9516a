#include "server/oauth/client_assertion.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace server::oauth {
namespace {

// Entra ID and RFC 7518 section 3.3 want RSA keys of 2048 bits or more.
constexpr int kMinRsaBits = 2048;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's thread-local error queue holds details of failed parses; left
// there, they would be reported by an unrelated later TLS call.
struct ClearErrorsOnExit {
  ~ClearErrorsOnExit() { ERR_clear_error(); }
};

// A read-only BIO over `pem` (which must outlive it).
BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Secret files lose their trailing newline (ReadSecretFile); give the PEM
// reader its END line whole.
std::string WithFinalNewline(absl::string_view pem) {
  std::string out(pem);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

// Never prompt for (or accept) a passphrase: an encrypted key then fails
// to load instead of blocking on a terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The certificates in `pem`, in order.
std::vector<X509Ptr> ReadCertificates(absl::string_view pem) {
  std::vector<X509Ptr> out;
  const std::string text = WithFinalNewline(pem);
  BioPtr bio = MemoryBio(text);
  if (bio == nullptr) return out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the read past the last one "fails"
  return out;
}

PkeyPtr ReadPrivateKey(absl::string_view pem) {
  const std::string text = WithFinalNewline(pem);
  BioPtr bio = MemoryBio(text);
  if (bio == nullptr) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
}

absl::StatusOr<X509Ptr> OneCertificate(absl::string_view pem) {
  std::vector<X509Ptr> certificates = ReadCertificates(pem);
  if (certificates.empty()) {
    return absl::FailedPreconditionError(
        "holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the certificate uploaded to the "
        "application");
  }
  if (certificates.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("holds ", certificates.size(),
                     " certificates; give only the one uploaded to the application"));
  }
  return std::move(certificates[0]);
}

absl::StatusOr<std::string> Thumbprint(absl::string_view certificate_pem, const EVP_MD* md) {
  ClearErrorsOnExit clear;
  absl::StatusOr<X509Ptr> x = OneCertificate(certificate_pem);
  if (!x.ok()) return x.status();
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(x->get(), &der);
  if (der_len <= 0) return absl::FailedPreconditionError("the certificate cannot be encoded as DER");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const int ok = EVP_Digest(der, static_cast<size_t>(der_len), digest, &digest_len, md, nullptr);
  OPENSSL_free(der);
  if (ok != 1) return absl::InternalError("certificate digest failed");
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

// A JSON string literal. Our values (client id, URL) passed validation,
// but escape anyway so the JSON is right whatever they hold.
std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20 || u == 0x7f) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::optional<CertificateProblem> CheckClientCertificate(absl::string_view certificate_pem,
                                                         absl::string_view private_key_pem) {
  ClearErrorsOnExit clear;
  absl::StatusOr<X509Ptr> x = OneCertificate(certificate_pem);
  if (!x.ok()) return CertificateProblem{CertificateField::kCertificate, std::string(x.status().message())};
  if (absl::StrContains(private_key_pem, "ENCRYPTED")) {
    return CertificateProblem{CertificateField::kPrivateKey,
                              "is encrypted; give the key without a passphrase (e.g. openssl pkey -in key.pem "
                              "-out plain.pem) and keep it as secret as a password"};
  }
  PkeyPtr key = ReadPrivateKey(private_key_pem);
  if (key == nullptr) {
    return CertificateProblem{CertificateField::kPrivateKey,
                              "holds no PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA "
                              "PRIVATE KEY-----)"};
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return CertificateProblem{CertificateField::kPrivateKey,
                              "is not an RSA key; the client assertion is signed RS256, which needs RSA"};
  }
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return CertificateProblem{CertificateField::kPrivateKey,
                              absl::StrCat("is an RSA key of ", EVP_PKEY_get_bits(key.get()),
                                           " bits; at least ", kMinRsaBits, " are needed")};
  }
  EVP_PKEY* public_key = X509_get0_pubkey(x->get());
  if (public_key == nullptr || EVP_PKEY_eq(public_key, key.get()) != 1) {
    return CertificateProblem{CertificateField::kPrivateKey,
                              "does not belong to client_certificate_pem (their public keys differ)"};
  }
  return std::nullopt;
}

absl::Time CertificateNotAfter(absl::string_view certificate_pem) {
  ClearErrorsOnExit clear;
  absl::StatusOr<X509Ptr> x = OneCertificate(certificate_pem);
  if (!x.ok()) return absl::InfinitePast();
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x->get()), &tm) != 1) return absl::InfinitePast();
  return absl::FromCivil(absl::CivilSecond(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                           tm.tm_min, tm.tm_sec),
                         absl::UTCTimeZone());
}

absl::StatusOr<std::string> CertificateThumbprintSha1(absl::string_view certificate_pem) {
  return Thumbprint(certificate_pem, EVP_sha1());
}

absl::StatusOr<std::string> CertificateThumbprintSha256(absl::string_view certificate_pem) {
  return Thumbprint(certificate_pem, EVP_sha256());
}

absl::StatusOr<std::string> MakeClientAssertion(absl::string_view certificate_pem,
                                                absl::string_view private_key_pem,
                                                absl::string_view client_id,
                                                absl::string_view audience, absl::Time now) {
  ClearErrorsOnExit clear;
  if (std::optional<CertificateProblem> problem = CheckClientCertificate(certificate_pem, private_key_pem)) {
    return absl::FailedPreconditionError(absl::StrCat(
        problem->field == CertificateField::kCertificate ? "client_certificate_pem " : "client_private_key_pem ",
        problem->description));
  }
  absl::StatusOr<std::string> x5t = CertificateThumbprintSha1(certificate_pem);
  if (!x5t.ok()) return x5t.status();
  absl::StatusOr<std::string> x5t_s256 = CertificateThumbprintSha256(certificate_pem);
  if (!x5t_s256.ok()) return x5t_s256.status();

  unsigned char jti_bytes[16];
  if (RAND_bytes(jti_bytes, sizeof jti_bytes) != 1) {
    return absl::InternalError("no random bytes for the assertion's jti");
  }
  const std::string jti =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(jti_bytes), sizeof jti_bytes));
  const int64_t iat = absl::ToUnixSeconds(now);
  const int64_t exp = absl::ToUnixSeconds(now + kAssertionLifetime);

  const std::string header = absl::StrCat(R"({"alg":"RS256","typ":"JWT","x5t":)", JsonString(*x5t),
                                          R"(,"x5t#S256":)", JsonString(*x5t_s256), "}");
  const std::string claims =
      absl::StrCat(R"({"aud":)", JsonString(audience), R"(,"iss":)", JsonString(client_id), R"(,"sub":)",
                   JsonString(client_id), R"(,"jti":)", JsonString(jti), R"(,"nbf":)", iat, R"(,"iat":)", iat,
                   R"(,"exp":)", exp, "}");
  const std::string signing_input =
      absl::StrCat(absl::WebSafeBase64Escape(header), ".", absl::WebSafeBase64Escape(claims));

  PkeyPtr key = ReadPrivateKey(private_key_pem);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (key == nullptr || ctx == nullptr) return absl::InternalError("cannot load the private key");
  // RS256 is RSASSA-PKCS1-v1_5 with SHA-256, the RSA default padding.
  size_t signature_len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &signature_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return absl::InternalError("signing the client assertion failed");
  }
  std::string signature(signature_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &signature_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return absl::InternalError("signing the client assertion failed");
  }
  signature.resize(signature_len);
  return absl::StrCat(signing_input, ".", absl::WebSafeBase64Escape(signature));
}

}  // namespace server::oauth
