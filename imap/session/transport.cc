#include "imap/session/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "imap/util/error_kind.h"

namespace imap {
namespace {

absl::Status Timeout(absl::string_view what) {
  return WithErrorKind(absl::DeadlineExceededError(absl::StrCat("timed out ", what)),
                       ErrorKind::kTimeout);
}

absl::Status Closed() {
  return WithErrorKind(absl::UnavailableError("the server closed the connection"),
                       ErrorKind::kProtocol);
}

absl::Status SocketError(absl::string_view what, int err) {
  return WithErrorKind(
      absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(err))),
      ErrorKind::kProtocol);
}

// Empties this thread's OpenSSL error queue, as SSL_get_error() needs
// before each TLS call. Looking first is much cheaper than clearing, and
// the queue is almost always empty: this runs once per TLS record read.
void ClearTlsErrors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

// Milliseconds for poll(): -1 waits forever, 0 means the deadline passed.
int PollTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > 1 << 30 ? 1 << 30 : static_cast<int>(ms);
}

// Waits until fd is readable (events = POLLIN) or writable (POLLOUT).
// Returns false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, PollTimeout(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the next I/O call report the error
  }
}

std::string FormatAddress(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
    return absl::StrCat(buf, ":", ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
  return absl::StrCat("[", buf, "]:", ntohs(in6->sin6_port));
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool IsIpAddress(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// Calls `use` for each certificate in `pem`. INVALID_ARGUMENT if there is
// none or a PEM block does not parse.
template <typename Fn>
absl::Status ForEachPemCertificate(const std::string& pem, Fn use) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    use(cert);
    X509_free(cert);
    ++count;
  }
  // The loop ends with "no start line" at the end of the input; anything
  // else is a block that did not parse.
  const unsigned long err = ERR_peek_last_error();
  const bool clean_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  BIO_free(bio);
  if (count == 0) return absl::InvalidArgumentError("holds no PEM certificate");
  if (!clean_end) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate ", count + 1, " does not parse as PEM X.509"));
  }
  return absl::OkStatus();
}

// TLS client contexts by trust settings. Loading the system's CA bundle
// costs tens of milliseconds (it parses every certificate), far more than a
// handshake on a LAN, so connections with the same settings share one
// context (OpenSSL contexts are reference-counted and thread-safe once
// configured).
struct ContextKey {
  bool insecure;
  std::string extra_ca_pem;
  bool operator<(const ContextKey& o) const {
    return std::tie(insecure, extra_ca_pem) < std::tie(o.insecure, o.extra_ca_pem);
  }
};
absl::Mutex context_cache_mu(absl::kConstInit);
absl::Mutex context_create_mu(absl::kConstInit);  // held while finding or making one
std::map<ContextKey, SSL_CTX*>* context_cache ABSL_GUARDED_BY(context_cache_mu) = nullptr;
constexpr size_t kMaxCachedContexts = 64;

// A new reference to the cached context for `options`, or null.
SSL_CTX* CachedContext(const TlsOptions& options) {
  absl::MutexLock lock(&context_cache_mu);
  if (context_cache == nullptr) return nullptr;
  auto it = context_cache->find({options.insecure_skip_verify, options.extra_ca_pem});
  if (it == context_cache->end()) return nullptr;
  SSL_CTX_up_ref(it->second);
  return it->second;
}

void CacheContext(const TlsOptions& options, SSL_CTX* ctx) {
  absl::MutexLock lock(&context_cache_mu);
  if (context_cache == nullptr) context_cache = new std::map<ContextKey, SSL_CTX*>;
  if (context_cache->size() >= kMaxCachedContexts) return;
  auto [it, inserted] = context_cache->emplace(
      ContextKey{options.insecure_skip_verify, options.extra_ca_pem}, ctx);
  if (inserted) SSL_CTX_up_ref(ctx);
}

class TcpTransport : public Transport {
 public:
  TcpTransport(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  ~TcpTransport() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    close(fd_);
  }

  void Interrupt() override { shutdown(fd_, SHUT_RDWR); }

  void ExpectComing(uint64_t bytes) override { coming_ = bytes; }

  absl::StatusOr<size_t> Read(char* buf, size_t capacity, absl::Time deadline) override {
    const uint64_t coming = std::exchange(coming_, 0);
    if (ssl_ == nullptr) {
      while (true) {
        const ssize_t n = recv(fd_, buf, capacity, 0);
        if (n > 0) return static_cast<size_t>(n);
        if (n == 0) return Closed();
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return SocketError("read", errno);
        if (!WaitReadable(deadline, coming)) return Timeout("waiting for the server");
      }
    }
    while (true) {
      size_t n = 0;
      ClearTlsErrors();
      if (SSL_read_ex(ssl_, buf, capacity, &n) == 1) return n;
      const int err = SSL_get_error(ssl_, 0);
      if (err == SSL_ERROR_ZERO_RETURN) return Closed();
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        // OpenSSL asks for more only when it holds less than one whole
        // record, so all but that much of what is coming is still on
        // its way through the socket (TLS adds bytes, it never removes).
        const uint64_t on_the_wire = coming > kMaxTlsRecord ? coming - kMaxTlsRecord : 0;
        const bool ready = err == SSL_ERROR_WANT_READ ? WaitReadable(deadline, on_the_wire)
                                                      : WaitFor(fd_, POLLOUT, deadline);
        if (!ready) return Timeout("waiting for the server");
        continue;
      }
      if (err == SSL_ERROR_SYSCALL && errno == 0) return Closed();
      return WithErrorKind(absl::UnavailableError(absl::StrCat("TLS read failed: ", OpenSslErrors())),
                           ErrorKind::kProtocol);
    }
  }

  absl::Status Write(absl::string_view bytes, absl::Time deadline) override {
    while (!bytes.empty()) {
      if (ssl_ == nullptr) {
        const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
          bytes.remove_prefix(static_cast<size_t>(n));
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return SocketError("write", errno);
        if (!WaitFor(fd_, POLLOUT, deadline)) return Timeout("sending to the server");
        continue;
      }
      size_t n = 0;
      ClearTlsErrors();
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n) == 1) {
        bytes.remove_prefix(n);
        continue;
      }
      const int err = SSL_get_error(ssl_, 0);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        const bool ready = err == SSL_ERROR_WANT_READ ? WaitReadable(deadline, 0)
                                                      : WaitFor(fd_, POLLOUT, deadline);
        if (!ready) return Timeout("sending to the server");
        continue;
      }
      return WithErrorKind(
          absl::UnavailableError(absl::StrCat("TLS write failed: ", OpenSslErrors())),
          ErrorKind::kProtocol);
    }
    return absl::OkStatus();
  }

  absl::Status StartTls(const TlsOptions& options, absl::Time deadline) override {
    if (ssl_ != nullptr) return absl::FailedPreconditionError("TLS is already active");
    ERR_clear_error();
    absl::Status context = AcquireContext(options);
    if (!context.ok()) return context;
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return TlsError("cannot create a TLS session");
    if (!options.server_name.empty()) {
      if (IsIpAddress(options.server_name)) {
        if (!options.insecure_skip_verify &&
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), options.server_name.c_str()) != 1) {
          return TlsError("cannot set the IP address to verify");
        }
      } else {
        SSL_set_tlsext_host_name(ssl_, options.server_name.c_str());
        if (!options.insecure_skip_verify && SSL_set1_host(ssl_, options.server_name.c_str()) != 1) {
          return TlsError("cannot set the host name to verify");
        }
      }
    }
    while (true) {
      ERR_clear_error();
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return absl::OkStatus();
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        const bool ready = err == SSL_ERROR_WANT_READ ? WaitReadable(deadline, 0)
                                                      : WaitFor(fd_, POLLOUT, deadline);
        if (!ready) return Timeout("during the TLS handshake");
        continue;
      }
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        return WithErrorKind(
            absl::UnavailableError(absl::StrCat(
                "the server's certificate was rejected: ",
                X509_verify_cert_error_string(verify),
                verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH
                    ? absl::StrCat(" (expected '", options.server_name, "')")
                    : std::string())),
            ErrorKind::kCertificate);
      }
      std::string detail = OpenSslErrors();
      if (detail.empty()) {
        detail = err == SSL_ERROR_SYSCALL ? "the server closed the connection during the handshake"
                                          : "handshake failed";
      }
      return WithErrorKind(absl::UnavailableError(absl::StrCat("TLS handshake failed: ", detail)),
                           ErrorKind::kTls);
    }
  }

  bool IsTls() const override { return ssl_ != nullptr && SSL_is_init_finished(ssl_); }

  std::string TlsDescription() const override {
    if (!IsTls()) return "";
    return absl::StrCat(SSL_get_version(ssl_), " ", SSL_get_cipher_name(ssl_));
  }

  std::string PeerAddress() const override { return peer_; }

 private:
  // Waits until the socket is readable. With `on_the_wire` bytes known to
  // be coming, the kernel is asked to wake us only once a good share of
  // them has arrived (SO_RCVLOWAT) rather than for every few kilobytes:
  // on a fast download the wake-ups of this thread were the largest cost
  // in the kernel. Never more than is coming, so the wait cannot outlast
  // the data; and small enough for the receive buffer that the kernel
  // need not clamp the TCP window to fit it.
  bool WaitReadable(absl::Time deadline, uint64_t on_the_wire) {
    int low_water = 1;
    if (on_the_wire >= 2 * kLowWater) {
      // The receive buffer only grows: once it was large enough, it is.
      low_water = low_water_ == kLowWater || ReceiveBuffer() >= 4 * kLowWater ? kLowWater : 1;
    }
    if (low_water != low_water_ &&
        setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof(low_water)) == 0) {
      low_water_ = low_water;
    }
    return WaitFor(fd_, POLLIN, deadline);
  }

  int ReceiveBuffer() const {
    int rcvbuf = 0;
    socklen_t len = sizeof(rcvbuf);
    return getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 ? rcvbuf : 0;
  }

  // Sets ctx_ to the shared context for `options`, made if missing.
  absl::Status AcquireContext(const TlsOptions& options) {
    // One connection at a time makes a missing context: many connections
    // opening at once (a burst of streams) would otherwise each load the
    // CA bundle, costing its parse and half a megabyte apiece.
    absl::MutexLock creating(&context_create_mu);
    ctx_ = CachedContext(options);
    if (ctx_ == nullptr) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      if (ctx_ == nullptr) return TlsError("cannot create a TLS context");
      SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
      // Read ahead into a buffer of a few TLS records: without it OpenSSL
      // makes two read calls per record (its 5-byte header, then the
      // rest), which for a mailbox download is most of the system calls.
      // Each connection has one such buffer.
      SSL_CTX_set_read_ahead(ctx_, 1);
      SSL_CTX_set_default_read_buffer_len(ctx_, 48 * 1024);
      if (!options.insecure_skip_verify) {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
        if (SSL_CTX_set_default_verify_paths(ctx_) != 1) {
          return TlsError("cannot load the system's CA certificates");
        }
        if (!options.extra_ca_pem.empty()) {
          absl::Status s = AddCaPem(options.extra_ca_pem);
          if (!s.ok()) return s;
        }
      } else {
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
      }
      CacheContext(options, ctx_);
    }
    return absl::OkStatus();
  }

  absl::Status TlsError(absl::string_view what) {
    return WithErrorKind(absl::InternalError(absl::StrCat(what, ": ", OpenSslErrors())),
                         ErrorKind::kTls);
  }

  absl::Status AddCaPem(const std::string& pem) {
    absl::Status s = ForEachPemCertificate(pem, [this](X509* cert) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), cert);
    });
    return s.ok() ? s : WithErrorKind(s, ErrorKind::kCertificate);
  }

  // The largest TLS record on the wire: 16 KiB of data plus the header
  // and the most a cipher may add.
  static constexpr uint64_t kMaxTlsRecord = 16384 + 256 + 5;
  // What we ask the kernel to gather before waking us mid-literal.
  static constexpr int kLowWater = 64 * 1024;

  int fd_;
  std::string peer_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  uint64_t coming_ = 0;  // ExpectComing() for the next Read
  int low_water_ = 1;    // the socket's SO_RCVLOWAT
};

}  // namespace

absl::StatusOr<int> CountPemCertificates(const std::string& pem) {
  int count = 0;
  absl::Status s = ForEachPemCertificate(pem, [&count](X509*) { ++count; });
  if (!s.ok()) return s;
  return count;
}

absl::StatusOr<std::unique_ptr<Transport>> DialTcp(const std::string& host, int port,
                                                   absl::Time deadline) {
  // TLS writes go through write(2), which raises SIGPIPE on a closed
  // connection; a library must not let that kill its host process.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* addrs = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &addrs);
  if (rc != 0) {
    return WithErrorKind(absl::NotFoundError(absl::StrCat("cannot resolve host '", host, "': ",
                                                          gai_strerror(rc))),
                         ErrorKind::kDns);
  }
  absl::Status last = WithErrorKind(
      absl::UnavailableError(absl::StrCat("no address for '", host, "'")), ErrorKind::kRefused);
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    const std::string peer = FormatAddress(a->ai_addr);
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          a->ai_protocol);
    if (fd < 0) {
      last = SocketError("socket", errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int err = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!WaitFor(fd, POLLOUT, deadline)) {
          close(fd);
          last = Timeout(absl::StrCat("connecting to ", peer));
          break;  // the deadline is shared: no time left for other addresses
        }
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err == 0) {
      freeaddrinfo(addrs);
      return std::unique_ptr<Transport>(new TcpTransport(fd, peer));
    }
    close(fd);
    last = WithErrorKind(
        absl::UnavailableError(absl::StrCat("cannot connect to ", peer, ": ", std::strerror(err))),
        ErrorKind::kRefused);
  }
  freeaddrinfo(addrs);
  return last;
}

}  // namespace imap
