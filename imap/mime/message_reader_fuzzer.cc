// libFuzzer target for the MIME engine: any bytes give a record (never a
// crash), and the record does not depend on how the message was split into
// chunks. The first input byte picks the chunk size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "imap/mime/message_reader.h"

namespace {

// Everything in a record that must not depend on chunking.
std::string Summary(const imap::mime::MessageRecord& r) {
  const imap::mime::HeadersPresent& p = r.present;
  std::string s = absl::StrCat(r.subject, "|", r.message_id, "|", r.size, "|",
                               r.text_body.value_or("<none>"), "|", r.html_body.value_or("<none>"),
                               "|", p.subject, p.from, p.sender, p.reply_to, p.to, p.cc, p.bcc,
                               p.date, p.message_id, p.in_reply_to, p.references);
  for (const auto* list : {&r.from, &r.to, &r.cc}) {
    for (const imap::mime::Mailbox& m : *list) absl::StrAppend(&s, "|", m.name, "<", m.address, ">");
  }
  for (const imap::mime::Attachment& a : r.attachments) {
    absl::StrAppend(&s, "|", a.filename, ";", a.content_type, ";", a.part, ";", a.size, ";", a.sha256,
                    ";", a.sha256_lf);
  }
  for (const imap::mime::OtherPart& o : r.other_parts) {
    absl::StrAppend(&s, "|", o.content_type, ";", o.part, ";", o.size);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  const absl::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string whole = Summary(imap::mime::ReadMessage(message));
  imap::mime::MessageReader reader;
  for (size_t at = 0; at < message.size(); at += chunk) reader.Feed(message.substr(at, chunk));
  if (Summary(reader.Finish()) != whole) abort();
  return 0;
}
