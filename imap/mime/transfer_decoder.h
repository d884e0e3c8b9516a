// Streaming Content-Transfer-Encoding decoders (RFC 2045 section 6): fed
// a body in chunks of any size and split anywhere, they append the decoded
// bytes and keep only a few bytes of state between chunks, so a 50 MB
// attachment never sits in memory. Bad input is decoded as well as it can
// be and reported as defects.
//
//   std::unique_ptr<TransferDecoder> d = TransferDecoder::For(TransferEncoding::kBase64);
//   std::string out;
//   d->Feed("aGVsbG", &out);
//   d->Feed("8=\r\n", &out);
//   d->Finish(&out);  // out == "hello"
#ifndef IMAP_MIME_TRANSFER_DECODER_H_
#define IMAP_MIME_TRANSFER_DECODER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "imap/mime/content_type.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// Decodes one body. Not thread-safe; use one per body.
//
//   base64            ignores white space; skips other non-alphabet bytes
//                     with a defect; stops at the "=" padding, ignoring
//                     anything after it (defect if it is not white space);
//                     decodes what it can of unpadded or truncated input.
//   quoted-printable  "=XX" in either case; soft line breaks "=\r\n" and
//                     "=\n" (also with white space between "=" and the
//                     break); an invalid "=" sequence is kept literally
//                     with a defect; white space at the end of a line is
//                     removed (RFC 2045 6.7 rule 3). Line breaks are kept
//                     as written (CRLF or LF).
//   7bit/8bit/binary  identity.
//
// Each kind of defect is reported once per decoder, so the list stays
// small whatever the input.
class TransferDecoder {
 public:
  // Returns a decoder for `encoding`; its defects name `where` (for
  // example "part 1.2 body").
  static std::unique_ptr<TransferDecoder> For(TransferEncoding encoding,
                                              absl::string_view where = "body");

  virtual ~TransferDecoder() = default;
  TransferDecoder(const TransferDecoder&) = delete;
  TransferDecoder& operator=(const TransferDecoder&) = delete;

  // Decodes the next bytes of the body and appends the result to *out.
  // REQUIRES: Finish() has not been called.
  virtual void Feed(absl::string_view in, std::string* out) = 0;

  // Marks the end of the body: appends what the carried-over state still
  // holds to *out. Feeding after Finish() is a bug; calling Finish() again
  // appends nothing.
  virtual void Finish(std::string* out) = 0;

  // The problems found so far, each kind once, in the order found.
  const Defects& defects() const { return defects_; }

 protected:
  explicit TransferDecoder(absl::string_view where) : where_(where) {}
  // Records `what` unless a defect with that text was recorded already.
  void AddDefectOnce(absl::string_view what);

 private:
  std::string where_;
  Defects defects_;
};

}  // namespace imap::mime

#endif  // IMAP_MIME_TRANSFER_DECODER_H_
