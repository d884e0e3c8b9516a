#include "server/secret_box.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace server {
namespace {

constexpr absl::string_view kSealedPrefix = "sealed:";
constexpr absl::string_view kVersion = "v1";
constexpr absl::string_view kClearPrefix = "clear:";
constexpr absl::string_view kAdLabel = "imap-connector secret v1";
constexpr size_t kKeyIdChars = 8;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* Bytes(absl::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

bool IsKeyId(absl::string_view id) {
  if (id.size() != kKeyIdChars) return false;
  for (char c : id) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

bool IsBase64Url(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

// The associated data: the label, the context's length (so that context and
// field cannot trade bytes), the context, then the field.
std::string AssociatedData(absl::string_view context, absl::string_view field) {
  std::string ad(kAdLabel);
  const uint64_t n = context.size();
  for (int shift = 56; shift >= 0; shift -= 8) ad.push_back(static_cast<char>((n >> shift) & 0xff));
  absl::StrAppend(&ad, context, field);
  return ad;
}

// A key line: standard or URL-safe base64, padding optional.
bool DecodeKey(absl::string_view line, std::string* key) {
  std::string text(line);
  while (!text.empty() && text.back() == '=') text.pop_back();
  const bool url_safe = text.find_first_of("-_") != std::string::npos;
  for (char c : text) {
    const bool ok = absl::ascii_isalnum(c) || (url_safe ? (c == '-' || c == '_') : (c == '+' || c == '/'));
    if (!ok) return false;
  }
  return url_safe ? absl::WebSafeBase64Unescape(text, key) : absl::Base64Unescape(text, key);
}

// The split parts of a sealed value, views into it.
struct SealedParts {
  absl::string_view version;
  absl::string_view key_id;
  absl::string_view payload;
};

// False when `stored` is not "sealed:" VERSION ":" KEYID ":" PAYLOAD.
bool SplitSealed(absl::string_view stored, SealedParts* parts) {
  if (!absl::ConsumePrefix(&stored, kSealedPrefix)) return false;
  std::vector<absl::string_view> fields = absl::StrSplit(stored, absl::MaxSplits(':', 2));
  if (fields.size() != 3) return false;
  parts->version = fields[0];
  parts->key_id = fields[1];
  parts->payload = fields[2];
  return true;
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read secret key file ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), absl::StrCat("secret key file ", path));
}

absl::StatusOr<SecretBox> SecretBox::Parse(absl::string_view text, absl::string_view source) {
  std::vector<Key> keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    Key key;
    if (!DecodeKey(line, &key.bytes) || key.bytes.size() != kKeyBytes) {
      // Never echo the line: it may be a key with a typo.
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": line ", line_number, " is not the base64 of ", kKeyBytes,
                       " bytes (make a key with: openssl rand -base64 32)"));
    }
    key.id = KeyId(key.bytes);
    for (const Key& other : keys) {
      if (other.id == key.id) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": line ", line_number, " repeats key ", key.id));
      }
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " holds no key (one base64 key of ", kKeyBytes, " bytes per line)"));
  }
  return SecretBox(std::move(keys));
}

std::string SecretBox::KeyId(absl::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(key.data(), key.size(), digest, &digest_len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), kKeyIdChars / 2));
}

bool SecretBox::IsSealed(absl::string_view stored) { return absl::StartsWith(stored, kSealedPrefix); }

std::string SecretBox::SealedKeyId(absl::string_view stored) {
  SealedParts parts;
  if (!SplitSealed(stored, &parts) || !IsKeyId(parts.key_id)) return "";
  return std::string(parts.key_id);
}

std::string SecretBox::StoreClear(absl::string_view value) {
  if (IsSealed(value) || ReadClear(value) != value) return absl::StrCat(kClearPrefix, value);
  return std::string(value);
}

std::string SecretBox::ReadClear(absl::string_view stored) {
  absl::string_view rest = stored;
  if (absl::ConsumePrefix(&rest, kClearPrefix) &&
      (absl::StartsWith(rest, kSealedPrefix) || absl::StartsWith(rest, kClearPrefix))) {
    return std::string(rest);
  }
  return std::string(stored);
}

std::vector<std::string> SecretBox::key_ids() const {
  std::vector<std::string> ids;
  for (const Key& key : keys_) ids.push_back(key.id);
  return ids;
}

bool SecretBox::HasKey(absl::string_view id) const {
  for (const Key& key : keys_) {
    if (key.id == id) return true;
  }
  return false;
}

absl::StatusOr<std::string> SecretBox::Seal(absl::string_view context, absl::string_view field,
                                            absl::string_view value) const {
  if (value.empty()) return std::string();
  const Key& key = keys_.front();
  std::string sealed(kNonceBytes + value.size() + kTagBytes, '\0');
  unsigned char* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  unsigned char* out = nonce + kNonceBytes;
  if (RAND_bytes(nonce, static_cast<int>(kNonceBytes)) != 1) {
    return absl::InternalError("no random bytes for sealing a secret");
  }
  const std::string ad = AssociatedData(context, field);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key.bytes), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(ad), static_cast<int>(ad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out, &len, Bytes(value), static_cast<int>(value.size())) == 1;
  int total = len;
  if (ok) ok = EVP_EncryptFinal_ex(ctx.get(), out + total, &len) == 1;
  total += len;
  ok = ok && static_cast<size_t>(total) == value.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), out + total) == 1;
  if (!ok) {
    OPENSSL_cleanse(sealed.data(), sealed.size());
    return absl::InternalError("AES-256-GCM sealing failed");
  }
  std::string payload;
  absl::WebSafeBase64Escape(sealed, &payload);
  return absl::StrCat(kSealedPrefix, kVersion, ":", key.id, ":", payload);
}

absl::StatusOr<std::string> SecretBox::Open(absl::string_view context, absl::string_view field,
                                            absl::string_view stored) const {
  SealedParts parts;
  if (!SplitSealed(stored, &parts)) {
    return absl::DataLossError("sealed value is malformed (truncated or changed by hand)");
  }
  if (parts.version != kVersion) {
    const bool looks_like_version = parts.version.size() > 1 && parts.version[0] == 'v' &&
                                    parts.version.find_first_not_of("0123456789", 1) == absl::string_view::npos;
    if (looks_like_version) {
      return absl::FailedPreconditionError(
          absl::StrCat("sealed value is of format ", parts.version, ", newer than this server reads (",
                       kVersion, "); run the version that wrote it"));
    }
    return absl::DataLossError("sealed value is malformed (truncated or changed by hand)");
  }
  if (!IsKeyId(parts.key_id)) {
    return absl::DataLossError("sealed value is malformed: no key id (truncated or changed by hand)");
  }
  const Key* key = nullptr;
  for (const Key& k : keys_) {
    if (k.id == parts.key_id) key = &k;
  }
  if (key == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sealed with key ", parts.key_id, ", which is not in the secret key file (it holds ",
        absl::StrJoin(key_ids(), ", "), ")"));
  }
  std::string raw;
  // Only the canonical encoding: base64 lets the unused low bits of the
  // last character vary, and a changed character should not go unnoticed.
  std::string canonical;
  if (IsBase64Url(parts.payload) && absl::WebSafeBase64Unescape(parts.payload, &raw)) {
    absl::WebSafeBase64Escape(raw, &canonical);
  }
  if (raw.empty() || canonical != parts.payload) {
    if (parts.payload.empty()) return absl::DataLossError("sealed value is truncated");
    return absl::DataLossError("sealed value is malformed: its payload is not base64url (truncated or changed)");
  }
  if (raw.size() < kNonceBytes + kTagBytes + 1) {
    return absl::DataLossError("sealed value is truncated");
  }
  const size_t text_len = raw.size() - kNonceBytes - kTagBytes;
  const unsigned char* nonce = Bytes(raw);
  const unsigned char* cipher_text = nonce + kNonceBytes;
  std::string tag = raw.substr(kNonceBytes + text_len);
  std::string clear(text_len, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(clear.data());
  const std::string ad = AssociatedData(context, field);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key->bytes), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(ad), static_cast<int>(ad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), out, &len, cipher_text, static_cast<int>(text_len)) == 1;
  const int total = len;
  // The tag is checked by the final step: nothing is returned before it.
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), out + total, &len) == 1 && static_cast<size_t>(total + len) == text_len;
  if (!ok) {
    OPENSSL_cleanse(clear.data(), clear.size());
    return absl::DataLossError(absl::StrCat(
        "sealed value does not authenticate under key ", key->id,
        ": it was truncated or changed, or copied from another connection or field"));
  }
  return clear;
}

}  // namespace server
