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

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
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
//   x-uuencode        the lines between "begin <mode> <name>" and "end"
//                     (see namespace uuencode below); the name is kept in
//                     file_name(). Blank lines before "begin" are skipped;
//                     other text there is dropped with a defect once a
//                     "begin" line follows, and a body without any
//                     "begin" line (up to kMaxUuencodePreamble bytes of
//                     it; past that it is given up on) is passed through
//                     unchanged with a defect. Lines that are not
//                     uuencoded data, a missing "end" and anything after
//                     "end" are defects.
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

  // The file name a uuencoded body's "begin" line gives, once that line
  // was decoded; empty for other encodings. Bytes as written (not
  // necessarily UTF-8).
  const std::string& file_name() const { return file_name_; }

  // How much text an x-uuencode decoder holds back while it waits for the
  // "begin" line.
  static constexpr size_t kMaxUuencodePreamble = 64 * 1024;

 protected:
  explicit TransferDecoder(absl::string_view where) : where_(where) {}
  // Records `what` unless a defect with that text was recorded already.
  void AddDefectOnce(absl::string_view what);
  void set_file_name(std::string name) { file_name_ = std::move(name); }

 private:
  std::string where_;
  Defects defects_;
  std::string file_name_;
};

// Test hooks of the base64 decoder, which decodes 32 characters at a time
// with AVX2 where the CPU has it. Thread-safe.
namespace base64_internal {
// True if this build and CPU decode base64 with AVX2.
bool Avx2PathAvailable();
// The 32-character blocks all base64 decoders decoded with AVX2 so far.
uint64_t Avx2BlocksDecoded();
// While true, base64 decoders fed afterwards use only the scalar code.
void ForceScalar(bool scalar);
}  // namespace base64_internal

// uuencode, the historical Unix format (no RFC describes it): a
// "begin <octal mode> <file name>" line, data lines, a line holding only
// "`" (or a space), and "end". A data line is a length character, 0x20 plus
// the number of bytes it holds (at most 63, 45 in practice), then four
// characters for each three bytes, each 0x20 plus six bits, with "`"
// standing for 0 as well as the space. These functions look at one line
// without its line end (CRLF or LF); they are shared by the x-uuencode
// decoder above and by the message reader, which finds such blocks inside
// plain text. Thread-safe.
namespace uuencode {

// Returns the file name if `line` is "begin", one to four octal digits and
// a file name (separated by spaces or tabs; trailing white space is not
// part of the name), else nullopt. A name with a control character is no
// name.
absl::optional<std::string> BeginLineFileName(absl::string_view line);

// True if `line` is "end", maybe followed by white space.
bool IsEndLine(absl::string_view line);

enum class LineResult {
  kDecoded,             // appended the bytes the line holds
  kDecodedWithDefects,  // characters outside "`" and 0x20-0x5f were read as 0
  kNotData,             // the length character is out of range: nothing appended
};

// Decodes a data line leniently and appends its bytes to *out: characters
// missing at the end (white space stripped in transport) count as zero
// bits, characters beyond what the length character asks for are ignored
// (some encoders add a checksum character). An empty line holds nothing.
LineResult DecodeLine(absl::string_view line, std::string* out);

// True if `line` is a data line as an encoder writes it: a length
// character for 1 to 63 bytes, only characters from the alphabet, and
// their number what the length asks for, give or take three lost trailing
// characters or one checksum character. Used to tell a real "begin" block
// in text from prose that happens to start with "begin 644 ".
bool IsWellFormedDataLine(absl::string_view line);

}  // namespace uuencode

}  // namespace imap::mime

#endif  // IMAP_MIME_TRANSFER_DECODER_H_
