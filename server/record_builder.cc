#include "server/record_builder.h"

#include <cstdint>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/query/schema.h"
#include "server/datetime_format.h"

namespace server {
namespace {

using connector::v1::Value;
using imap::query::ColumnType;

connector::v1::ColumnType ToApiType(ColumnType type) {
  switch (type) {
    case ColumnType::kString:
      return connector::v1::COLUMN_TYPE_STRING;
    case ColumnType::kInteger:
      return connector::v1::COLUMN_TYPE_INTEGER;
    case ColumnType::kTimestamp:
      return connector::v1::COLUMN_TYPE_TIMESTAMP;
    case ColumnType::kStringList:
      return connector::v1::COLUMN_TYPE_STRING_LIST;
    case ColumnType::kAddressList:
      return connector::v1::COLUMN_TYPE_ADDRESS_LIST;
    case ColumnType::kAttachmentList:
      return connector::v1::COLUMN_TYPE_ATTACHMENT_LIST;
    case ColumnType::kHeaderList:
      return connector::v1::COLUMN_TYPE_HEADER_LIST;
    case ColumnType::kBytes:
      return connector::v1::COLUMN_TYPE_BYTES;
    case ColumnType::kBoolean:
      return connector::v1::COLUMN_TYPE_BOOLEAN;
  }
  return connector::v1::COLUMN_TYPE_UNSPECIFIED;
}

void SetTimestamp(absl::Time t, absl::string_view format, connector::v1::Timestamp* out) {
  out->set_unix_millis(absl::ToUnixMillis(t));
  out->set_text(FormatDateTime(t, format));
}

void SetAddresses(const std::vector<imap::mime::Mailbox>& list, Value* v) {
  connector::v1::AddressList* out = v->mutable_address_list();
  for (const imap::mime::Mailbox& m : list) {
    connector::v1::Address* a = out->add_addresses();
    a->set_name(m.name);
    a->set_address(m.address);
    a->set_group(m.group);
  }
}

bool IsSystemFlag(absl::string_view flag) { return absl::StartsWith(flag, "\\"); }

}  // namespace

std::vector<std::string> DefectLines(const imap::mime::Defects& defects) {
  std::vector<std::string> out;
  out.reserve(defects.size());
  for (const imap::mime::Defect& d : defects) out.push_back(absl::StrCat(d.where, ": ", d.what));
  return out;
}

std::vector<connector::v1::ColumnSchema> SchemaOf(const std::vector<std::string>& columns) {
  std::vector<connector::v1::ColumnSchema> out;
  for (const std::string& name : columns) {
    const imap::query::Column* c = imap::query::FindColumn(name);
    if (c == nullptr) continue;
    connector::v1::ColumnSchema s;
    s.set_name(std::string(c->name));
    s.set_type(ToApiType(c->type));
    s.set_description(std::string(c->description));
    out.push_back(std::move(s));
  }
  return out;
}

connector::v1::Record BuildRecord(const imap::records::FetchedMessage& m,
                                  const std::vector<std::string>& columns,
                                  absl::string_view datetime_format) {
  connector::v1::Record record;
  const imap::query::MessageFacts& f = m.facts;
  const imap::mime::MessageRecord* r = f.record;
  record.set_folder(f.folder);
  record.set_uid_validity(f.uid_validity);
  record.set_uid(f.uid);
  if (r != nullptr) {
    for (std::string& line : DefectLines(r->defects)) record.add_defects(std::move(line));
  }
  auto& fields = *record.mutable_fields();
  for (const std::string& requested : columns) {
    const imap::query::Column* column = imap::query::FindColumn(requested);
    if (column == nullptr) continue;
    const absl::string_view name = column->name;
    Value& v = fields[std::string(name)];
    if (name == "uid") {
      v.set_int_value(f.uid);
    } else if (name == "folder") {
      v.set_string_value(f.folder);
    } else if (name == "uidvalidity") {
      v.set_int_value(f.uid_validity);
    } else if (name == "size") {
      if (f.size.has_value()) v.set_int_value(static_cast<int64_t>(*f.size));
    } else if (name == "internal_date") {
      if (f.internal_date.has_value()) {
        SetTimestamp(*f.internal_date, datetime_format, v.mutable_timestamp_value());
      }
    } else if (name == "flags" || name == "keywords") {
      connector::v1::StringList* list = v.mutable_string_list();
      for (const std::string& flag : f.flags) {
        if (IsSystemFlag(flag) == (name == "flags")) list->add_values(flag);
      }
    } else if (name == "gmail_labels") {
      if (f.gmail_labels.has_value()) {
        connector::v1::StringList* list = v.mutable_string_list();
        for (const std::string& label : *f.gmail_labels) list->add_values(label);
      }
    } else if (name == "gmail_msgid" || name == "gmail_thread_id") {
      // Gmail's ids are 64-bit; one that does not fit int64 stays null
      // rather than turning negative.
      const absl::optional<uint64_t>& id =
          name == "gmail_msgid" ? f.gmail_msgid : f.gmail_thread_id;
      if (id.has_value() && *id <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        v.set_int_value(static_cast<int64_t>(*id));
      }
    } else if (r == nullptr) {
      continue;  // a header or body column the fetch did not read: null
    } else if (name == "message_id") {
      // Header columns: null when the message lacks the field (the proto's
      // Value says so), the value (maybe "" or an empty list) when it has it.
      if (r->present.message_id) v.set_string_value(r->message_id);
    } else if (name == "subject") {
      if (r->present.subject) v.set_string_value(r->subject);
    } else if (name == "from") {
      if (r->present.from) SetAddresses(r->from, &v);
    } else if (name == "sender") {
      if (r->present.sender) SetAddresses(r->sender, &v);
    } else if (name == "to") {
      if (r->present.to) SetAddresses(r->to, &v);
    } else if (name == "cc") {
      if (r->present.cc) SetAddresses(r->cc, &v);
    } else if (name == "bcc") {
      if (r->present.bcc) SetAddresses(r->bcc, &v);
    } else if (name == "reply_to") {
      if (r->present.reply_to) SetAddresses(r->reply_to, &v);
    } else if (name == "date") {
      // Also null when the field is there but unreadable (a defect says so).
      if (r->date.utc.has_value()) {
        SetTimestamp(*r->date.utc, datetime_format, v.mutable_timestamp_value());
        v.mutable_timestamp_value()->set_original(r->date.raw);
      }
    } else if (name == "in_reply_to") {
      if (r->present.in_reply_to) v.set_string_value(r->in_reply_to);
    } else if (name == "references") {
      if (r->present.references) {
        connector::v1::StringList* list = v.mutable_string_list();
        for (const std::string& id : r->references) list->add_values(id);
      }
    } else if (name == "headers") {
      connector::v1::HeaderList* list = v.mutable_header_list();
      for (const imap::mime::HeaderValue& h : r->headers) {
        connector::v1::Header* out = list->add_headers();
        out->set_name(h.name);
        out->set_value(h.value);
      }
    } else if (name == "text_body") {
      if (r->text_body.has_value()) v.set_string_value(*r->text_body);
    } else if (name == "html_body") {
      if (r->html_body.has_value()) v.set_string_value(*r->html_body);
    } else if (name == "attachments") {
      connector::v1::AttachmentList* list = v.mutable_attachment_list();
      for (const imap::mime::Attachment& a : r->attachments) {
        connector::v1::Attachment* out = list->add_attachments();
        out->set_filename(a.filename);
        out->set_content_type(a.content_type);
        out->set_disposition(a.disposition);
        out->set_content_id(a.content_id);
        out->set_part(a.part);
        out->set_size(a.size);
        out->set_sha256(a.sha256);
        out->set_sha256_lf(a.sha256_lf);
        if (a.content.has_value()) out->set_content(*a.content);
      }
    } else if (name == "has_attachment") {
      v.set_bool_value(!r->attachments.empty());
    } else if (name == "raw") {
      v.set_bytes_value(m.raw);
    } else if (name == "defects") {
      connector::v1::StringList* list = v.mutable_string_list();
      for (std::string& line : DefectLines(r->defects)) list->add_values(std::move(line));
    }
  }
  return record;
}

}  // namespace server
