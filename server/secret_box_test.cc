#include "server/secret_box.h"

#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace server {
namespace {

// Two fixed keys (32 bytes each, base64) and their ids, computed
// independently: printf KEY | base64 -d | sha256sum | cut -c1-8.
constexpr char kKeyA[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr char kKeyAId[] = "630dcd29";
constexpr char kKeyB[] = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

SecretBox Box(const std::string& text) {
  absl::StatusOr<SecretBox> box = SecretBox::Parse(text, "test keys");
  EXPECT_TRUE(box.ok()) << box.status();
  return *std::move(box);
}

TEST(SecretBoxTest, KeyIdIsTheStartOfTheKeysSha256) {
  SecretBox box = Box(absl::StrCat(kKeyA, "\n"));
  EXPECT_EQ(box.sealing_key_id(), kKeyAId);
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(kKeyA, &raw));
  EXPECT_EQ(SecretBox::KeyId(raw), kKeyAId);
}

TEST(SecretBoxTest, RoundTrip) {
  SecretBox box = Box(kKeyA);
  for (const std::string& value : {std::string("p"), std::string("hunter2 with spaces"),
                                   std::string(16384, 'x'), std::string("\0\xff\n", 3)}) {
    absl::StatusOr<std::string> sealed = box.Seal("sales", "password", value);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_TRUE(absl::StartsWith(*sealed, absl::StrCat("sealed:v1:", kKeyAId, ":"))) << *sealed;
    EXPECT_TRUE(SecretBox::IsSealed(*sealed));
    EXPECT_EQ(SecretBox::SealedKeyId(*sealed), kKeyAId);
    if (value.size() > 3) {
      EXPECT_FALSE(absl::StrContains(*sealed, value));
    }
    absl::StatusOr<std::string> clear = box.Open("sales", "password", *sealed);
    ASSERT_TRUE(clear.ok()) << clear.status();
    EXPECT_EQ(*clear, value);
  }
  EXPECT_EQ(*box.Seal("sales", "password", ""), "");
}

TEST(SecretBoxTest, EachSealTakesAFreshNonce) {
  SecretBox box = Box(kKeyA);
  EXPECT_NE(*box.Seal("sales", "password", "same"), *box.Seal("sales", "password", "same"));
}

// The payload is nonce || ciphertext || tag: 12 + n + 16 bytes.
TEST(SecretBoxTest, PayloadLayout) {
  SecretBox box = Box(kKeyA);
  const std::string sealed = *box.Seal("c", "password", "12345");
  const std::string prefix = absl::StrCat("sealed:v1:", kKeyAId, ":");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(sealed.substr(prefix.size()), &raw));
  EXPECT_EQ(raw.size(), 12u + 5u + 16u);
}

// A value sealed for one connection or field does not open as another's.
TEST(SecretBoxTest, AssociatedDataBindsConnectionAndField) {
  SecretBox box = Box(kKeyA);
  const std::string sealed = *box.Seal("sales", "password", "hunter2");
  for (const auto& [context, field] : std::vector<std::pair<std::string, std::string>>{
           {"support", "password"},
           {"sales", "oauth2.refresh_token_grant.client_secret"},
           {"salespassword", ""},  // the length prefix keeps these apart
           {"sale", "spassword"}}) {
    absl::StatusOr<std::string> clear = box.Open(context, field, sealed);
    EXPECT_EQ(clear.status().code(), absl::StatusCode::kDataLoss) << context << "/" << field;
    EXPECT_NE(clear.status().message().find("copied from another connection or field"), std::string::npos)
        << clear.status();
    EXPECT_EQ(clear.status().message().find("hunter2"), std::string::npos);
  }
}

TEST(SecretBoxTest, RotationFirstKeySealsAllOpen) {
  SecretBox old_box = Box(kKeyA);
  const std::string old_sealed = *old_box.Seal("sales", "password", "hunter2");
  SecretBox rotated = Box(absl::StrCat("# new key first\n", kKeyB, "\n\n", kKeyA, "\n"));
  EXPECT_NE(rotated.sealing_key_id(), kKeyAId);
  EXPECT_EQ(rotated.key_ids().size(), 2u);
  EXPECT_EQ(*rotated.Open("sales", "password", old_sealed), "hunter2");
  const std::string new_sealed = *rotated.Seal("sales", "password", "hunter2");
  EXPECT_EQ(SecretBox::SealedKeyId(new_sealed), rotated.sealing_key_id());
  // The old key alone cannot open what the new one sealed, and says which
  // key it would need.
  absl::StatusOr<std::string> clear = old_box.Open("sales", "password", new_sealed);
  EXPECT_EQ(clear.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(clear.status().message().find(absl::StrCat("sealed with key ", rotated.sealing_key_id())),
            std::string::npos)
      << clear.status();
}

TEST(SecretBoxTest, TruncatedAndCorruptedValues) {
  SecretBox box = Box(kKeyA);
  const std::string sealed = *box.Seal("sales", "password", "hunter2");
  // Every truncation fails, and always as DATA_LOSS.
  for (size_t n = std::string("sealed:").size(); n < sealed.size(); ++n) {
    absl::StatusOr<std::string> clear = box.Open("sales", "password", sealed.substr(0, n));
    EXPECT_EQ(clear.status().code(), absl::StatusCode::kDataLoss) << n << ": " << clear.status();
  }
  // Every changed payload character fails.
  const size_t payload = sealed.rfind(':') + 1;
  for (size_t i = payload; i < sealed.size(); ++i) {
    std::string changed = sealed;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    absl::StatusOr<std::string> clear = box.Open("sales", "password", changed);
    EXPECT_EQ(clear.status().code(), absl::StatusCode::kDataLoss) << i << ": " << clear.status();
  }
  for (const std::string& bad : {std::string("sealed:"), std::string("sealed:v1"),
                                 absl::StrCat("sealed:v1:", kKeyAId), absl::StrCat("sealed:v1:", kKeyAId, ":"),
                                 absl::StrCat("sealed:v1:XYZ:", sealed.substr(payload)),
                                 absl::StrCat(sealed.substr(0, payload), "!!!!")}) {
    EXPECT_EQ(box.Open("sales", "password", bad).status().code(), absl::StatusCode::kDataLoss) << bad;
  }
  // A newer format is not corruption: run the newer version.
  absl::StatusOr<std::string> newer =
      box.Open("sales", "password", absl::StrCat("sealed:v2:", kKeyAId, ":", sealed.substr(payload)));
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("v2"), std::string::npos);
}

// Independent check of the format: a value sealed by the box opens with
// plain OpenSSL calls given the documented associated data.
TEST(SecretBoxTest, FormatMatchesTheDocumentation) {
  SecretBox box = Box(kKeyA);
  const std::string sealed = *box.Seal("ab", "password", "hunter2");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(sealed.substr(sealed.rfind(':') + 1), &raw));
  std::string key;
  ASSERT_TRUE(absl::Base64Unescape(kKeyA, &key));
  const std::string ad = std::string("imap-connector secret v1") + std::string(7, '\0') + "\x02" + "abpassword";
  auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  unsigned char out[64];
  int len = 0;
  int final_len = 0;
  std::string tag = raw.substr(raw.size() - 16);
  ASSERT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, u(key), u(raw)), 1);
  ASSERT_EQ(EVP_DecryptUpdate(ctx, nullptr, &len, u(ad), static_cast<int>(ad.size())), 1);
  ASSERT_EQ(EVP_DecryptUpdate(ctx, out, &len, u(raw) + 12, static_cast<int>(raw.size() - 28)), 1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()), 1);
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx, out + len, &final_len), 1);
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), static_cast<size_t>(len + final_len)), "hunter2");
}

TEST(SecretBoxTest, KeyFileFormats) {
  // URL-safe alphabet and missing padding are accepted; CRLF too.
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(kKeyA, &raw));
  std::string url;
  absl::WebSafeBase64Escape(raw, &url);  // no padding
  EXPECT_EQ(Box(absl::StrCat("  ", url, "  \r\n")).sealing_key_id(), kKeyAId);

  struct Bad {
    std::string text;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"", "test keys holds no key"},
           {"# only a comment\n\n", "test keys holds no key"},
           {"c2hvcnQ=\n", "test keys: line 1 is not the base64 of 32 bytes"},
           {absl::StrCat(kKeyA, "\nnot base64 at all!\n"), "test keys: line 2 is not the base64 of 32 bytes"},
           {absl::StrCat(kKeyA, "\n", kKeyA, "\n"), absl::StrCat("test keys: line 2 repeats key ", kKeyAId)},
       }) {
    absl::StatusOr<SecretBox> box = SecretBox::Parse(bad.text, "test keys");
    EXPECT_EQ(box.status().code(), absl::StatusCode::kInvalidArgument) << bad.text;
    EXPECT_NE(box.status().message().find(bad.message), std::string::npos) << box.status();
    // A key line is never echoed.
    EXPECT_EQ(box.status().message().find("not base64 at all"), std::string::npos);
  }
  absl::StatusOr<SecretBox> missing = SecretBox::Load("/nonexistent/secret-keys");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/secret-keys"), std::string::npos);
}

// Clear values that would read as sealed or escaped survive a round trip;
// ordinary ones are stored as they are (the format before sealing).
TEST(SecretBoxTest, ClearValuesEscapeOnlyWhatWouldBeMisread) {
  for (const char* v : {"hunter2", "clear:abc", "sealed:", "sealed:v1:630dcd29:AAAA", "clear:sealed:x",
                               "clear:clear:", "clear:", ""}) {
    const std::string stored = SecretBox::StoreClear(v);
    EXPECT_FALSE(SecretBox::IsSealed(stored)) << v;
    EXPECT_EQ(SecretBox::ReadClear(stored), v) << v << " stored as " << stored;
  }
  EXPECT_EQ(SecretBox::StoreClear("hunter2"), "hunter2");
  EXPECT_EQ(SecretBox::StoreClear("clear:abc"), "clear:abc");
  EXPECT_EQ(SecretBox::StoreClear("sealed:x"), "clear:sealed:x");
}

}  // namespace
}  // namespace server
