#include "imap/query/schema.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace imap::query {

const std::vector<Column>& Columns() {
  static const auto* columns = new std::vector<Column>{
      {"uid", ColumnType::kInteger, true, "the message's IMAP UID in its folder"},
      {"folder", ColumnType::kString, true, "the folder (UTF-8)"},
      {"uidvalidity", ColumnType::kInteger, true, "the folder's UIDVALIDITY"},
      {"message_id", ColumnType::kString, true, "Message-ID, with angle brackets"},
      {"subject", ColumnType::kString, true, "Subject, decoded"},
      {"from", ColumnType::kAddressList, true, "From addresses"},
      {"sender", ColumnType::kAddressList, false, "Sender address"},
      {"to", ColumnType::kAddressList, true, "To addresses"},
      {"cc", ColumnType::kAddressList, true, "Cc addresses"},
      {"bcc", ColumnType::kAddressList, false, "Bcc addresses (when the stored copy has them)"},
      {"reply_to", ColumnType::kAddressList, false, "Reply-To addresses"},
      {"date", ColumnType::kTimestamp, true, "the Date header, in UTC"},
      {"internal_date", ColumnType::kTimestamp, true, "when the server received the message"},
      {"size", ColumnType::kInteger, true, "RFC822.SIZE in bytes"},
      {"flags", ColumnType::kStringList, true, "system flags such as \\Seen"},
      {"keywords", ColumnType::kStringList, false, "keywords (user flags)"},
      {"in_reply_to", ColumnType::kString, false, "In-Reply-To"},
      {"references", ColumnType::kStringList, false, "References, one message id each"},
      {"headers", ColumnType::kHeaderList, false, "every header, decoded, in order"},
      {"text_body", ColumnType::kString, true, "the text body a mail client would show"},
      {"html_body", ColumnType::kString, false, "the HTML body"},
      {"attachments", ColumnType::kAttachmentList, true, "attachments (name, type, size, SHA-256)"},
      {"has_attachment", ColumnType::kBoolean, false, "whether there is an attachment"},
      {"raw", ColumnType::kBytes, false, "the whole message as stored"},
      {"defects", ColumnType::kStringList, false, "what could not be read cleanly"},
      // Gmail only (X-GM-EXT-1); never in the default set, so that a plain
      // query runs on every server.
      {"gmail_labels", ColumnType::kStringList, false,
       "Gmail labels (UTF-8), system labels as \\Inbox, \\Important, \\Sent (Gmail only)"},
      {"gmail_msgid", ColumnType::kInteger, false,
       "Gmail's message id (X-GM-MSGID), the same in every label (Gmail only)"},
      {"gmail_thread_id", ColumnType::kInteger, false,
       "Gmail's conversation id (X-GM-THRID) (Gmail only)"},
  };
  return *columns;
}

const Column* FindColumn(absl::string_view name) {
  for (const Column& c : Columns()) {
    if (absl::EqualsIgnoreCase(c.name, name)) return &c;
  }
  return nullptr;
}

namespace {

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same = absl::ascii_tolower(static_cast<unsigned char>(a[i - 1])) ==
                        absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestColumnName(absl::string_view name) {
  if (name.size() > 64) return "";
  size_t best = 4;
  std::string best_name;
  for (const Column& c : Columns()) {
    const size_t d = EditDistance(name, c.name);
    if (d < best) {
      best = d;
      best_name = std::string(c.name);
    }
  }
  return best_name;
}

bool IsGmailField(absl::string_view name) { return absl::StartsWith(name, "gmail_"); }

absl::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString:
      return "string";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kStringList:
      return "list of strings";
    case ColumnType::kAddressList:
      return "list of addresses";
    case ColumnType::kAttachmentList:
      return "list of attachments";
    case ColumnType::kHeaderList:
      return "list of headers";
    case ColumnType::kBytes:
      return "bytes";
    case ColumnType::kBoolean:
      return "boolean";
  }
  return "";
}

}  // namespace imap::query
