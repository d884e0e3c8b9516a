// The byte stream under an IMAP session: a TCP connection that can be
// upgraded to TLS. An interface so that tests can put other streams under
// a session.
//
//   absl::StatusOr<std::unique_ptr<Transport>> t = DialTcp("imap.example.com", 993, deadline);
//   (*t)->StartTls({.server_name = "imap.example.com"}, deadline);
#ifndef IMAP_SESSION_TRANSPORT_H_
#define IMAP_SESSION_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace imap {

struct TlsOptions {
  // The name the certificate must match (a DNS name or an IP address), also
  // sent as SNI when it is a name.
  std::string server_name;
  // PEM certificates trusted besides the system's CAs.
  std::string extra_ca_pem;
  // Accept any certificate. Off unless asked for.
  bool insecure_skip_verify = false;
};

// Not thread-safe: one reader-writer at a time.
class Transport {
 public:
  virtual ~Transport() = default;

  // Reads at least one byte into buf[0, capacity) and returns how many.
  // Errors: DEADLINE_EXCEEDED (kTimeout) when nothing arrived before
  // `deadline`; UNAVAILABLE (kProtocol) when the peer closed the connection.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t capacity, absl::Time deadline) = 0;

  // Says that at least `bytes` more bytes of the stream (the rest of a
  // literal) are on their way, for the next Read only, so that the
  // transport may wait for more of them before returning: far fewer
  // wake-ups on a fast download. Pass only what is sure to come: a
  // transport may wait for all of it.
  virtual void ExpectComing(uint64_t bytes) { (void)bytes; }

  // Writes all of `bytes`, or fails with DEADLINE_EXCEEDED / UNAVAILABLE.
  virtual absl::Status Write(absl::string_view bytes, absl::Time deadline) = 0;

  // Runs a TLS client handshake over the connection; later reads and
  // writes are encrypted. Errors carry kTls, kCertificate or kTimeout.
  // REQUIRES: no bytes the server sent are waiting unread (STARTTLS).
  virtual absl::Status StartTls(const TlsOptions& options, absl::Time deadline) = 0;

  // Whether StartTls succeeded, and a description such as
  // "TLSv1.3 TLS_AES_256_GCM_SHA384".
  virtual bool IsTls() const = 0;
  virtual std::string TlsDescription() const = 0;

  // "address:port" of the peer.
  virtual std::string PeerAddress() const = 0;

  // Makes a Read or Write blocked in another thread, and every later one,
  // fail with UNAVAILABLE: how a job is stopped promptly when its caller
  // cancels. The only method that may be called from another thread.
  virtual void Interrupt() = 0;
};

// Returns the number of X.509 certificates in `pem`, or INVALID_ARGUMENT
// if it holds none (or a block that does not parse).
absl::StatusOr<int> CountPemCertificates(const std::string& pem);

// Resolves `host` and connects to the first of its addresses that accepts.
// Errors: NOT_FOUND (kDns) if the name does not resolve; UNAVAILABLE
// (kRefused) if no address accepts; DEADLINE_EXCEEDED (kTimeout).
// Name resolution itself is not bounded by `deadline`.
absl::StatusOr<std::unique_ptr<Transport>> DialTcp(const std::string& host, int port,
                                                   absl::Time deadline);

}  // namespace imap

#endif  // IMAP_SESSION_TRANSPORT_H_
