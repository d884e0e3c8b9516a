// Seals secrets (passwords, OAuth 2.0 tokens and client secrets) for
// storage at rest: AES-256-GCM under an operator's key, bound to the place
// the value belongs (a connection name and a field), with the key's id
// stored beside each value so that keys can rotate.
//
//   absl::StatusOr<SecretBox> box = SecretBox::Load("/etc/imap-connector/secret-keys");
//   std::string stored = box->Seal("sales", "password", "hunter2");   // "sealed:v1:..."
//   absl::StatusOr<std::string> clear = box->Open("sales", "password", stored);
#ifndef SERVER_SECRET_BOX_H_
#define SERVER_SECRET_BOX_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace server {

// Immutable after construction, so thread-safe.
//
// Key file: one key per line, the base64 (standard or URL-safe alphabet,
// padding optional) of exactly 32 random bytes, e.g. the output of
// `openssl rand -base64 32`. Blank lines and lines starting with '#' are
// skipped. The first key seals; every key opens. A key's id is the first 8
// hex digits of the SHA-256 of its 32 bytes
// (`base64 -d <<<KEY | sha256sum | cut -c1-8`); errors and logs name keys by
// id only.
//
// Sealed value: "sealed:v1:" KEYID ":" base64url-without-padding(NONCE ||
// CIPHERTEXT || TAG), with a random 96-bit nonce, the 128-bit GCM tag, and
// as associated data the label "imap-connector secret v1", the context's
// length (8 bytes, big-endian), the context (the connection name) and the
// field path (e.g. "oauth2.refresh_token_grant.refresh_token"). A value
// copied to another connection or field therefore fails to open.
class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;

  // The keys of the key file at `path`. Errors name the file and the line
  // (never a key's bytes): NOT_FOUND when it cannot be read,
  // INVALID_ARGUMENT for a line that is not the base64 of 32 bytes, two
  // equal keys, or no key at all.
  static absl::StatusOr<SecretBox> Load(const std::string& path);

  // As Load, from the file's text; `source` names it in errors.
  static absl::StatusOr<SecretBox> Parse(absl::string_view text, absl::string_view source);

  // The id of `key` (32 raw bytes).
  static std::string KeyId(absl::string_view key);

  // Whether `stored` is in sealed form ("sealed:..."), well formed or not.
  static bool IsSealed(absl::string_view stored);

  // The key id of a sealed value; "" when it is not well formed enough to
  // carry one.
  static std::string SealedKeyId(absl::string_view stored);

  // Without keys, values are stored clear. A clear value that would read as
  // sealed (it starts with "sealed:"), or as escaped, is escaped with a
  // "clear:" prefix; ReadClear undoes that. Values of stores written before
  // sealing existed read as they are, unless they start with "sealed:",
  // "clear:sealed:" or "clear:clear:".
  static std::string StoreClear(absl::string_view value);
  // REQUIRES: !IsSealed(stored).
  static std::string ReadClear(absl::string_view stored);

  // `value` sealed with the first key for (`context`, `field`). "" stays ""
  // (nothing to hide). Fails only when the system has no random bytes or
  // the cipher fails (INTERNAL).
  absl::StatusOr<std::string> Seal(absl::string_view context, absl::string_view field,
                                   absl::string_view value) const;

  // The clear value of `stored`, sealed by one of our keys for (`context`,
  // `field`). FAILED_PRECONDITION naming the key id when it was sealed with
  // a key we do not have, or by a newer format version; DATA_LOSS when it is
  // truncated, malformed, changed, or sealed for another context or field.
  // Messages name neither context nor field (the caller does) and never
  // include the value.
  // REQUIRES: IsSealed(stored).
  absl::StatusOr<std::string> Open(absl::string_view context, absl::string_view field,
                                   absl::string_view stored) const;

  // The id of the key that seals.
  const std::string& sealing_key_id() const { return keys_.front().id; }
  // Every key id, the sealing one first.
  std::vector<std::string> key_ids() const;
  bool HasKey(absl::string_view id) const;

 private:
  struct Key {
    std::string id;
    std::string bytes;
  };
  explicit SecretBox(std::vector<Key> keys) : keys_(std::move(keys)) {}

  std::vector<Key> keys_;  // never empty
};

}  // namespace server

#endif  // SERVER_SECRET_BOX_H_
