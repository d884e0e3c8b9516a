// A streaming MIME structure walker (RFC 2045, 2046): fed a raw message in
// chunks of any size, it reports each part's header, its transfer-decoded
// body bytes and its end to a handler, numbering parts as IMAP numbers
// body sections. Memory is bounded by the limits in MultipartOptions, never
// by the size of a body: a 50 MB attachment streams through.
//
//   class Printer : public MultipartHandler { ... };
//   Printer printer;
//   MultipartParser parser(&printer);
//   while (size_t n = Read(buf)) parser.Feed(absl::string_view(buf, n));
//   parser.Finish();
//   // OnPartBegin(""), OnPartBegin("1"), OnPartData("1", "Hello"),
//   // OnPartEnd("1"), OnPartBegin("2"), ..., OnPartEnd("")
#ifndef IMAP_MIME_MULTIPART_PARSER_H_
#define IMAP_MIME_MULTIPART_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "imap/mime/content_type.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// One entity of the message tree: the message itself, a body part, or the
// message enclosed in a message/rfc822 part.
struct PartInfo {
  enum class Kind {
    kMessage,  // an RFC 5322 message: the top-level one, or one enclosed
               // in a message/rfc822 (or message/global) part
    kPart,     // a body part of a multipart
  };

  // A header field as written, unfolded (line breaks removed, the white
  // space of continuation lines kept), not decoded.
  struct Field {
    std::string name;   // as written, without trailing white space
    std::string value;  // without leading and trailing white space
  };

  Kind kind = Kind::kMessage;

  // The IMAP part number (RFC 3501 section 6.4.5): "" for the top-level
  // message, "1", "1.2", "2.1.1", ... for body parts. A message enclosed in
  // part P has path P too (IMAP's P.HEADER and P.TEXT); the parts of its
  // multipart body are P.1, P.2, ... A message that is not multipart holds
  // its body itself; IMAP calls that body P.1 ("1" at the top), see
  // BodySection().
  std::string path;

  // 0 for the top-level message, +1 for each multipart or enclosed message.
  int depth = 0;

  // The header bytes as received, line ends included, without the blank
  // line that ends it; at most MultipartOptions::max_header_bytes.
  std::string raw_header;
  bool header_truncated = false;  // raw_header stopped at the limit
  std::vector<Field> fields;      // raw_header split into fields

  // The effective Content-Type: parsed and repaired, or the default when
  // the part has none (text/plain; message/rfc822 inside multipart/digest).
  ContentType content_type;
  bool content_type_defaulted = false;  // no Content-Type field
  ContentDisposition disposition;       // type empty when there is none
  TransferEncoding encoding = TransferEncoding::k7Bit;

  // True for a multipart or message/rfc822 part that is not walked (too
  // deep, or a multipart without a usable boundary): its body is reported
  // as data like a leaf's.
  bool opaque = false;

  // Number of body parts begun so far (multiparts only).
  uint32_t parts = 0;

  // Decoded bytes reported by OnPartData() so far; the total in OnPartEnd().
  uint64_t decoded_size = 0;

  // A uuencoded leaf (encoding kUuencode): the file name on its "begin"
  // line, bytes as written; set by OnPartEnd(), empty before and for other
  // encodings.
  std::string encoded_file_name;

  // True for a multipart whose parts are walked.
  bool IsMultipart() const { return content_type.type == "multipart" && !opaque; }
  // True for a message/rfc822 or message/global part whose message is
  // walked; its data is the enclosed message, which is also reported as a
  // kMessage entity with the same path.
  bool EnclosesMessage() const;
  // Returns the IMAP section that fetches this entity's body as decoded
  // here (before transfer decoding): "1.2" for part 1.2, "1" for a
  // non-multipart top-level message, "3.1" for a non-multipart message in
  // part 3, "TEXT" / "3.TEXT" for multipart messages.
  std::string BodySection() const;
  // Returns how defects name this entity: "message", "part 1.2",
  // "message in part 3".
  std::string Label() const;
};

// Receives the events of a MultipartParser, in input order. For every
// entity: OnPartBegin, then OnPartData zero or more times, then OnPartEnd;
// entities nest (a multipart ends after its last part). The PartInfo
// reference is valid only during the call. Handlers must not call back
// into the parser.
class MultipartHandler {
 public:
  virtual ~MultipartHandler() = default;

  // The entity's header is complete (fields, content type, encoding).
  virtual void OnPartBegin(const PartInfo& part) = 0;

  // The next transfer-decoded bytes of the entity's body, in chunks of any
  // size. Leaves (text and attachments alike) report their body; a
  // message/rfc822 part reports the enclosed message; a multipart reports
  // its preamble (usually ignorable; it is the whole body when no boundary
  // was found); the epilogue is dropped. `data` is valid only during the
  // call.
  virtual void OnPartData(const PartInfo& part, absl::string_view data) = 0;

  // The entity ended; part.decoded_size is final.
  virtual void OnPartEnd(const PartInfo& part) = 0;

  // Something was wrong and was repaired or skipped; `where` names the
  // entity ("part 1.2 header", "message body", ...).
  virtual void OnDefect(const Defect& defect) = 0;
};

// Limits. Every one is a memory or work bound, so input that hits one is
// still read to its end, with a defect.
struct MultipartOptions {
  // Multiparts and message/rfc822 parts deeper than this are opaque.
  int max_depth = 32;
  // Header bytes kept per entity; the rest of a longer header is skipped.
  size_t max_header_bytes = 256 * 1024;
  // A longer boundary parameter makes its multipart opaque. RFC 2046
  // allows 70 bytes.
  size_t max_boundary_length = 256;
  // Defects reported per message; then one "too many defects".
  size_t max_defects = 1000;
};

// Walks one message. Not thread-safe.
class MultipartParser {
 public:
  // `handler` must outlive the parser.
  explicit MultipartParser(MultipartHandler* handler, MultipartOptions options = {});
  ~MultipartParser();
  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Reads the next bytes of the message; calls the handler for whatever
  // they complete. Any split of the input gives the same events in the same
  // order, except that data may arrive in different chunks (and so the
  // events of an enclosed message may interleave differently with the
  // OnPartData() calls and decoding defects of its message/rfc822 part).
  // Ignored after Finish().
  void Feed(absl::string_view chunk);

  // Marks the end of the message: reports what is pending and ends every
  // open entity (a multipart without its close boundary gets a defect).
  // Calling it again does nothing.
  void Finish();

 private:
  class Walker;
  struct Shared;

  std::unique_ptr<Shared> shared_;
  std::unique_ptr<Walker> root_;
  bool finished_ = false;
};

}  // namespace imap::mime

#endif  // IMAP_MIME_MULTIPART_PARSER_H_
