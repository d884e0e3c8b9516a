// Writes an RFC 5322 / MIME message from fields: the inverse of
// MessageReader for what a connector writes back into a mailbox.
//
//   ComposeInput in;
//   in.from = {{"Jörg Müller", "joerg@example.de"}};
//   in.subject = "Grüße";  in.text_body = "Hallo\n";
//   absl::StatusOr<std::string> message = ComposeMessage(std::move(in));
//
// - Header text that is not plain printable ASCII is written as RFC 2047
//   encoded words (UTF-8, base64), folded to lines of at most 78 octets.
// - Display names are quoted or encoded as needed; addresses are checked.
// - Text parts are 7bit when they are short-lined ASCII, else
//   quoted-printable UTF-8; line ends become CRLF.
// - Attachments are base64 with RFC 2231 file names when not plain ASCII
//   (split into continuations when long).
// - text + HTML make multipart/alternative; attachments multipart/mixed.
// - A Date (now) and a Message-ID are added when missing; the generated
//   Message-ID is a digest of the fields, the same for the same record.
#ifndef IMAP_MIME_COMPOSER_H_
#define IMAP_MIME_COMPOSER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace imap::mime {

struct ComposeAddress {
  std::string name;     // UTF-8 display name, may be empty
  std::string address;  // local@domain
};

struct ComposeAttachment {
  std::string filename;      // UTF-8
  std::string content_type;  // "" means application/octet-stream
  std::string content;       // the bytes; moved from and cleared while composing
  std::string content_id;    // without angle brackets
  bool inline_part = false;
};

struct ComposeInput {
  std::vector<ComposeAddress> from, to, cc, bcc, reply_to;
  std::string subject;
  absl::optional<absl::Time> date;  // none: now
  std::string message_id;           // with angle brackets; empty: derived from the content
  std::string in_reply_to;
  std::vector<std::string> references;
  std::string text_body;  // UTF-8
  std::string html_body;  // UTF-8
  std::vector<ComposeAttachment> attachments;
  std::vector<std::pair<std::string, std::string>> extra_headers;  // name, UTF-8 value
};

struct ComposedMessage {
  std::string bytes;       // the message, CRLF line ends
  std::string message_id;  // as written
};

// INVALID_ARGUMENT naming the field ("from[0].address", "headers[2].name",
// "attachments[1].content_type") for input that cannot make a valid
// message; there must be at least one From address.
absl::StatusOr<ComposedMessage> ComposeMessage(ComposeInput input);

// Header text as RFC 2047 encoded words where needed, folded; `used` is
// how many octets of the first line the field name already takes.
std::string EncodeHeaderText(const std::string& utf8, size_t used);

}  // namespace imap::mime

#endif  // IMAP_MIME_COMPOSER_H_
