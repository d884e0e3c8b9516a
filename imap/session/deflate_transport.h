// COMPRESS=DEFLATE (RFC 4978): a Transport that deflates what it writes and
// inflates what it reads, over another Transport.
//
//   transport = MakeDeflateTransport(std::move(transport));
#ifndef IMAP_SESSION_DEFLATE_TRANSPORT_H_
#define IMAP_SESSION_DEFLATE_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "imap/session/transport.h"

namespace imap {

// Wraps `inner`; from now on both directions are raw deflate streams
// (RFC 1951, no zlib header). INTERNAL if zlib cannot be set up.
absl::StatusOr<std::unique_ptr<Transport>> MakeDeflateTransport(std::unique_ptr<Transport> inner);

}  // namespace imap

#endif  // IMAP_SESSION_DEFLATE_TRANSPORT_H_
