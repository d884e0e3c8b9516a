// Turns an RFC 5322 message into a record: decoded headers and addresses,
// the date in UTC, the text and HTML bodies a mail client would show, and
// every attachment with its name, type, size and SHA-256. Streaming: fed
// the message in chunks as they arrive from IMAP, it keeps only what the
// record needs, so memory does not grow with attachment size (unless the
// caller asks to keep attachment content). It never fails: what it cannot
// read cleanly becomes a defect on the record.
//
//   MessageReader reader;
//   reader.Feed(chunk1);  reader.Feed(chunk2);
//   MessageRecord record = reader.Finish();
#ifndef IMAP_MIME_MESSAGE_READER_H_
#define IMAP_MIME_MESSAGE_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/mime/address.h"
#include "imap/mime/date.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// A file the message carries: a MIME part that is an attachment, or a
// uuencoded file. A part sent with Content-Transfer-Encoding x-uuencode
// is always an attachment; without a file name in its header it takes the
// one on its "begin" line. A "begin 644 name" ... "end" block inside a
// plain text part (the shown text body or another inline text/plain part)
// is one too, as mail clients show it: its file name is the block's,
// content_type "application/octet-stream", disposition "attachment", part
// the text part's number, and the text body keeps only the text around it.
struct Attachment {
  std::string filename;      // UTF-8, decoded (RFC 2231 / 2047); "" when none
  std::string content_type;  // "application/pdf"
  std::string disposition;   // "attachment", "inline" or ""
  std::string content_id;    // without angle brackets; "" when none
  std::string part;          // IMAP part number, e.g. "2" or "1.3"
  uint64_t size = 0;         // decoded bytes
  std::string sha256;        // hex, of the decoded bytes
  // For text/* and message/* parts: SHA-256 after turning CRLF and lone CR
  // into LF, which does not depend on how the message was stored.
  std::string sha256_lf;
  // The decoded bytes, when ReaderOptions::keep_attachment_content.
  absl::optional<std::string> content;
};

// A leaf part that is neither a chosen body nor an attachment (e.g. an
// inline image without a file name).
struct OtherPart {
  std::string content_type;
  std::string part;
  uint64_t size = 0;
};

struct HeaderValue {
  std::string name;   // as written
  std::string value;  // unfolded and decoded to UTF-8
};

// Which header fields the top-level header has. A field that is there
// but empty ("Subject:" alone) is present with an empty value; an absent
// one is what the API calls null.
struct HeadersPresent {
  bool subject = false;
  bool from = false, sender = false, reply_to = false, to = false, cc = false, bcc = false;
  bool date = false;
  bool message_id = false;
  bool in_reply_to = false;
  bool references = false;
};

struct MessageRecord {
  // The named fields hold "" or nothing when their header field is absent;
  // `present` tells that apart from a field that is there but empty.
  std::string subject;
  std::vector<Mailbox> from, sender, reply_to, to, cc, bcc;
  ParsedDate date;  // date.utc empty when absent or unreadable; date.raw as sent
  std::string message_id;                // with angle brackets, trimmed
  std::string in_reply_to;               // as sent, trimmed
  std::vector<std::string> references;   // message ids with brackets
  HeadersPresent present;
  std::vector<HeaderValue> headers;      // the top-level header, in order
  absl::optional<std::string> text_body;  // UTF-8, line ends LF
  absl::optional<std::string> html_body;  // UTF-8, line ends LF
  std::vector<Attachment> attachments;
  std::vector<OtherPart> other_parts;
  uint64_t size = 0;  // bytes read
  Defects defects;
};

struct ReaderOptions {
  // Text and HTML bodies longer than this are cut (with a defect).
  uint64_t max_body_bytes = 16u << 20;
  // Keep each attachment's decoded bytes in Attachment::content.
  bool keep_attachment_content = false;
  // Attachments larger than this are not kept even when asked (defect).
  uint64_t max_kept_attachment_bytes = 64u << 20;
  // Fill MessageRecord::headers (every top-level header, decoded). Off
  // saves decoding headers nobody reads; the named fields (subject, from,
  // ...) are filled either way.
  bool keep_header_list = true;
};

// Not thread-safe; one reader per message.
class MessageReader {
 public:
  explicit MessageReader(ReaderOptions options = ReaderOptions());
  ~MessageReader();
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  // Reads the next bytes of the message.
  void Feed(absl::string_view chunk);
  // Ends the message and returns its record. Call once.
  MessageRecord Finish();

 private:
  class Builder;
  std::unique_ptr<Builder> builder_;
};

// Text of a body part after its transfer encoding is undone: converted
// from `charset` (empty: US-ASCII, with a guess for 8-bit bytes) to UTF-8,
// line ends made LF. Problems become defects naming `where`. This is what
// MessageRecord::text_body and html_body hold.
std::string DecodeText(absl::string_view bytes, absl::string_view charset, Defects* defects,
                       absl::string_view where);

// A text/plain part's bytes after transfer decoding, without the
// uuencoded files in it ("begin 644 name" ... "end"), which MessageReader
// makes attachments: what text_body is made of, before DecodeText(). For
// callers that fetch the text part alone (IMAP BODY[1]) and want the same
// text body as a whole-message read. Thread-safe.
std::string TextWithoutUuencodedFiles(absl::string_view text);

// Reads a whole message held in memory.
MessageRecord ReadMessage(absl::string_view message, ReaderOptions options = ReaderOptions());

}  // namespace imap::mime

#endif  // IMAP_MIME_MESSAGE_READER_H_
