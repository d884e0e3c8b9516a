#include "imap/session/deflate_transport.h"

#include <zlib.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

class DeflateTransport : public Transport {
 public:
  explicit DeflateTransport(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {}
  ~DeflateTransport() override {
    if (deflate_ready_) deflateEnd(&out_);
    if (inflate_ready_) inflateEnd(&in_);
  }

  absl::Status Init() {
    // Raw deflate (negative window bits) as RFC 4978 requires.
    if (deflateInit2(&out_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return absl::InternalError("deflateInit2 failed");
    }
    deflate_ready_ = true;
    if (inflateInit2(&in_, -15) != Z_OK) return absl::InternalError("inflateInit2 failed");
    inflate_ready_ = true;
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t capacity, absl::Time deadline) override {
    while (true) {
      in_.next_out = reinterpret_cast<Bytef*>(buf);
      in_.avail_out = static_cast<uInt>(std::min<size_t>(capacity, 1u << 30));
      if (in_.avail_in > 0 && !stream_ended_) {
        const int rc = inflate(&in_, Z_SYNC_FLUSH);
        // The server may end its deflate stream (Z_FINISH) before it closes.
        if (rc == Z_STREAM_END) stream_ended_ = true;
        if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
          return WithErrorKind(absl::UnavailableError(absl::StrCat(
                                   "COMPRESS: bad deflate data from the server (zlib ", rc, ")")),
                               ErrorKind::kProtocol);
        }
        const size_t produced = capacity - in_.avail_out;
        if (produced > 0) return produced;
      }
      if (stream_ended_) {
        return WithErrorKind(absl::UnavailableError("the server closed the connection"),
                             ErrorKind::kProtocol);
      }
      // Need more compressed bytes.
      IMAPC_ASSIGN_OR_RETURN(size_t n, inner_->Read(compressed_, sizeof(compressed_), deadline));
      in_.next_in = reinterpret_cast<Bytef*>(compressed_);
      in_.avail_in = static_cast<uInt>(n);
    }
  }

  absl::Status Write(absl::string_view bytes, absl::Time deadline) override {
    out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    out_.avail_in = static_cast<uInt>(bytes.size());
    char chunk[16 * 1024];
    // Z_SYNC_FLUSH: everything written so far reaches the server now, since
    // it answers each command before we send the next.
    do {
      out_.next_out = reinterpret_cast<Bytef*>(chunk);
      out_.avail_out = sizeof(chunk);
      if (deflate(&out_, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
        return absl::InternalError("COMPRESS: deflate failed");
      }
      const size_t produced = sizeof(chunk) - out_.avail_out;
      IMAPC_RETURN_IF_ERROR(inner_->Write(absl::string_view(chunk, produced), deadline));
    } while (out_.avail_out == 0 || out_.avail_in > 0);
    return absl::OkStatus();
  }

  absl::Status StartTls(const TlsOptions&, absl::Time) override {
    return absl::FailedPreconditionError("STARTTLS after COMPRESS is not allowed");
  }
  bool IsTls() const override { return inner_->IsTls(); }
  void Interrupt() override { inner_->Interrupt(); }
  std::string TlsDescription() const override { return inner_->TlsDescription(); }
  std::string PeerAddress() const override { return inner_->PeerAddress(); }

 private:
  std::unique_ptr<Transport> inner_;
  z_stream out_{};
  z_stream in_{};
  bool deflate_ready_ = false;
  bool inflate_ready_ = false;
  bool stream_ended_ = false;
  char compressed_[16 * 1024];
};

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> MakeDeflateTransport(std::unique_ptr<Transport> inner) {
  auto t = std::make_unique<DeflateTransport>(std::move(inner));
  IMAPC_RETURN_IF_ERROR(t->Init());
  return std::unique_ptr<Transport>(std::move(t));
}

}  // namespace imap
