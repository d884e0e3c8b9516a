#include "server/cursor_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/log.h"
#include "server/status_convert.h"

namespace server {
namespace {

// Token: ENGINE_CURSOR "." base64url(HMAC-SHA256(key, MAC input)), where
// the engine cursor is "c1." base64url(...) and so holds exactly one '.'.
// A token with a single '.' is therefore an unsealed cursor of the format
// before sealing. The MAC input is a domain label, the connection name's
// length (8 bytes, big-endian), the name, then the engine cursor.
constexpr absl::string_view kMacLabel = "imap-connector cursor v1";
constexpr size_t kTagBytes = 32;

std::atomic<bool> warned_unsealed{false};

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path, ": ", std::strerror(errno)));
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Creates `path` holding one random key, unless it exists. Written to a
// temporary file first and linked into place (link() fails with EEXIST
// where another process linked first, also on NFS), so that a crash never
// leaves a half-written key and servers starting at once over one shared
// data directory agree on one key: the loser reads the winner's. The
// temporary name is random, not the pid: replicas in containers all run as
// pid 1, and one must never truncate the file another is linking.
// Returns whether this call's key is the one in place.
absl::StatusOr<bool> CreateKeyFile(const std::string& dir, const std::string& path) {
  unsigned char raw[32];
  unsigned char nonce[12];
  if (RAND_bytes(raw, sizeof(raw)) != 1 || RAND_bytes(nonce, sizeof(nonce)) != 1) {
    return absl::InternalError("no random bytes for the cursor key");
  }
  const std::string line =
      absl::StrCat(absl::Base64Escape(absl::string_view(reinterpret_cast<char*>(raw), sizeof(raw))), "\n");
  std::string suffix;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(nonce), sizeof(nonce)), &suffix);
  const std::string temp = absl::StrCat(path, ".tmp.", suffix);
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temp);
  const bool written = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written) {
    unlink(temp.c_str());
    return Errno("cannot write", temp);
  }
  const int linked = link(temp.c_str(), path.c_str());
  const int link_errno = errno;
  unlink(temp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    errno = link_errno;
    return Errno("cannot create", path);
  }
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)fsync(dir_fd);
    close(dir_fd);
  }
  // Either way the caller reads the key that is in place.
  return linked == 0;
}

}  // namespace

CursorSealer::CursorSealer(std::vector<std::string> keys) : keys_(std::move(keys)) {}

CursorSealer CursorSealer::WithRandomKey() {
  std::string key(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size()));
  return CursorSealer({std::move(key)});
}

absl::StatusOr<std::vector<std::string>> CursorSealer::ParseKeys(absl::string_view text) {
  std::vector<std::string> keys;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    if (line.size() < kMinKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": a key needs at least ",
                                                     kMinKeyBytes, " bytes (e.g. openssl rand -base64 32)"));
    }
    keys.emplace_back(line);
  }
  if (keys.empty()) return absl::InvalidArgumentError("holds no key (one key per line)");
  return keys;
}

absl::StatusOr<CursorSealer> CursorSealer::Load(const std::string& key_file,
                                                const std::string& data_dir) {
  std::string path = key_file;
  if (path.empty()) {
    path = absl::StrCat(data_dir, "/", kKeyFileName);
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) return Errno("cannot stat", path);
      absl::StatusOr<bool> created = CreateKeyFile(data_dir, path);
      if (!created.ok()) return created.status();
      if (*created) LogInfo(absl::StrCat("created the cursor key ", path, " (cursors are sealed with it)"));
    }
    // Tighten a file copied in by hand: the key forges cursors.
    (void)chmod(path.c_str(), 0600);
  }
  absl::StatusOr<std::string> text = ReadFile(path, "cursor key file");
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<std::string>> keys = ParseKeys(*text);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cursor key file ", path, ": ", keys.status().message()));
  }
  return CursorSealer(*std::move(keys));
}

std::string CursorSealer::Tag(const std::string& key, absl::string_view connection,
                              absl::string_view cursor) const {
  std::string input(kMacLabel);
  input.push_back('\0');
  const uint64_t n = connection.size();
  for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<char>((n >> shift) & 0xff));
  absl::StrAppend(&input, connection, cursor);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return std::string(reinterpret_cast<char*>(mac), mac_len);
}

std::string CursorSealer::Seal(absl::string_view connection, absl::string_view cursor) const {
  if (cursor.empty()) return "";
  std::string tag;
  absl::WebSafeBase64Escape(Tag(keys_.front(), connection, cursor), &tag);
  return absl::StrCat(cursor, ".", tag);
}

absl::StatusOr<std::string> CursorSealer::Open(absl::string_view connection,
                                               absl::string_view token) const {
  if (token.empty()) return std::string();
  const size_t first_dot = token.find('.');
  const size_t last_dot = token.rfind('.');
  if (first_dot == last_dot) {
    // No signature: a cursor from before sealing (or not a cursor at all,
    // which decoding it reports).
    if (!warned_unsealed.exchange(true)) {
      LogWarning(
          "accepted an unsealed cursor (issued before cursors were signed); unsealed cursors are "
          "deprecated and will be refused in the next release: take a new cursor from a stream "
          "or Acknowledge");
    }
    return std::string(token);
  }
  const absl::string_view cursor = token.substr(0, last_dot);
  std::string tag;
  if (absl::WebSafeBase64Unescape(token.substr(last_dot + 1), &tag) && tag.size() == kTagBytes) {
    for (const std::string& key : keys_) {
      const std::string expected = Tag(key, connection, cursor);
      if (CRYPTO_memcmp(expected.data(), tag.data(), kTagBytes) == 0) return std::string(cursor);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cursor is not valid for connection ", Quote(connection),
      ": it was issued for another connection, changed, or signed with a key this server no "
      "longer has (give a cursor exactly as this connection's stream or Acknowledge sent it)"));
}

}  // namespace server
