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

namespace {

template <typename Out>
void OptionalString(Out& out, absl::string_view name, bool present, absl::string_view value) {
  if (present) {
    out.String(name, value);
  } else {
    out.Null(name);
  }
}

// Calls `out` once for each of `columns` that names a column, with the
// message's value for it, or Null(). The one place that decides what a
// column holds, whichever form the record is built in (a Record object,
// or its wire bytes).
template <typename Out>
void WriteColumns(const imap::records::FetchedMessage& m, const std::vector<std::string>& columns,
                  absl::string_view datetime_format, Out& out) {
  const imap::query::MessageFacts& f = m.facts;
  const imap::mime::MessageRecord* r = f.record;
  auto addresses = [&](absl::string_view name, bool present,
                       const std::vector<imap::mime::Mailbox>& list) {
    if (present) {
      out.Addresses(name, list);
    } else {
      out.Null(name);
    }
  };
  for (const std::string& requested : columns) {
    const imap::query::Column* column = imap::query::FindColumn(requested);
    if (column == nullptr) continue;
    const absl::string_view name = column->name;
    if (name == "uid") {
      out.Int(name, f.uid);
    } else if (name == "folder") {
      out.String(name, f.folder);
    } else if (name == "uidvalidity") {
      out.Int(name, f.uid_validity);
    } else if (name == "size") {
      if (f.size.has_value()) {
        out.Int(name, static_cast<int64_t>(*f.size));
      } else {
        out.Null(name);
      }
    } else if (name == "internal_date") {
      if (f.internal_date.has_value()) {
        out.Timestamp(name, *f.internal_date, FormatDateTime(*f.internal_date, datetime_format),
                      "");
      } else {
        out.Null(name);
      }
    } else if (name == "flags" || name == "keywords") {
      std::vector<absl::string_view> list;
      for (const std::string& flag : f.flags) {
        if (IsSystemFlag(flag) == (name == "flags")) list.push_back(flag);
      }
      out.StringList(name, list);
    } else if (name == "gmail_labels") {
      if (f.gmail_labels.has_value()) {
        out.StringList(name, std::vector<absl::string_view>(f.gmail_labels->begin(),
                                                            f.gmail_labels->end()));
      } else {
        out.Null(name);
      }
    } else if (name == "gmail_msgid" || name == "gmail_thread_id") {
      // Gmail's ids are 64-bit; one that does not fit int64 stays null
      // rather than turning negative.
      const absl::optional<uint64_t>& id =
          name == "gmail_msgid" ? f.gmail_msgid : f.gmail_thread_id;
      if (id.has_value() && *id <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        out.Int(name, static_cast<int64_t>(*id));
      } else {
        out.Null(name);
      }
    } else if (r == nullptr) {
      out.Null(name);  // a header or body column the fetch did not read
    } else if (name == "message_id") {
      // Header columns: null when the message lacks the field (the proto's
      // Value says so), the value (maybe "" or an empty list) when it has it.
      OptionalString(out, name, r->present.message_id, r->message_id);
    } else if (name == "subject") {
      OptionalString(out, name, r->present.subject, r->subject);
    } else if (name == "from") {
      addresses(name, r->present.from, r->from);
    } else if (name == "sender") {
      addresses(name, r->present.sender, r->sender);
    } else if (name == "to") {
      addresses(name, r->present.to, r->to);
    } else if (name == "cc") {
      addresses(name, r->present.cc, r->cc);
    } else if (name == "bcc") {
      addresses(name, r->present.bcc, r->bcc);
    } else if (name == "reply_to") {
      addresses(name, r->present.reply_to, r->reply_to);
    } else if (name == "date") {
      // Also null when the field is there but unreadable (a defect says so).
      if (r->date.utc.has_value()) {
        out.Timestamp(name, *r->date.utc, FormatDateTime(*r->date.utc, datetime_format),
                      r->date.raw);
      } else {
        out.Null(name);
      }
    } else if (name == "in_reply_to") {
      OptionalString(out, name, r->present.in_reply_to, r->in_reply_to);
    } else if (name == "references") {
      if (r->present.references) {
        out.StringList(name,
                       std::vector<absl::string_view>(r->references.begin(), r->references.end()));
      } else {
        out.Null(name);
      }
    } else if (name == "headers") {
      out.Headers(name, r->headers);
    } else if (name == "text_body") {
      OptionalString(out, name, r->text_body.has_value(), r->text_body ? *r->text_body : "");
    } else if (name == "html_body") {
      OptionalString(out, name, r->html_body.has_value(), r->html_body ? *r->html_body : "");
    } else if (name == "attachments") {
      out.Attachments(name, r->attachments);
    } else if (name == "has_attachment") {
      out.Bool(name, !r->attachments.empty());
    } else if (name == "raw") {
      out.Bytes(name, m.raw);
    } else if (name == "defects") {
      const std::vector<std::string> lines = DefectLines(r->defects);
      out.StringList(name, std::vector<absl::string_view>(lines.begin(), lines.end()));
    } else {
      out.Null(name);
    }
  }
}

// WriteColumns' output as the fields of a Record object.
class RecordFields {
 public:
  explicit RecordFields(connector::v1::Record* record) : fields_(*record->mutable_fields()) {}
  void Null(absl::string_view name) { At(name); }
  void Int(absl::string_view name, int64_t v) { At(name).set_int_value(v); }
  void Bool(absl::string_view name, bool v) { At(name).set_bool_value(v); }
  void String(absl::string_view name, absl::string_view v) {
    At(name).set_string_value(std::string(v));
  }
  void Bytes(absl::string_view name, absl::string_view v) {
    At(name).set_bytes_value(std::string(v));
  }
  void Timestamp(absl::string_view name, absl::Time t, std::string text,
                 absl::string_view original) {
    connector::v1::Timestamp* out = At(name).mutable_timestamp_value();
    out->set_unix_millis(absl::ToUnixMillis(t));
    out->set_text(std::move(text));
    out->set_original(std::string(original));
  }
  void StringList(absl::string_view name, const std::vector<absl::string_view>& values) {
    connector::v1::StringList* list = At(name).mutable_string_list();
    for (absl::string_view v : values) list->add_values(std::string(v));
  }
  void Addresses(absl::string_view name, const std::vector<imap::mime::Mailbox>& list) {
    connector::v1::AddressList* out = At(name).mutable_address_list();
    for (const imap::mime::Mailbox& m : list) {
      connector::v1::Address* a = out->add_addresses();
      a->set_name(m.name);
      a->set_address(m.address);
      a->set_group(m.group);
    }
  }
  void Headers(absl::string_view name, const std::vector<imap::mime::HeaderValue>& headers) {
    connector::v1::HeaderList* list = At(name).mutable_header_list();
    for (const imap::mime::HeaderValue& h : headers) {
      connector::v1::Header* out = list->add_headers();
      out->set_name(h.name);
      out->set_value(h.value);
    }
  }
  void Attachments(absl::string_view name, const std::vector<imap::mime::Attachment>& attachments) {
    connector::v1::AttachmentList* list = At(name).mutable_attachment_list();
    for (const imap::mime::Attachment& a : attachments) {
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
  }

 private:
  Value& At(absl::string_view name) { return fields_[std::string(name)]; }

  google::protobuf::Map<std::string, Value>& fields_;
};

// Protocol Buffers' wire format, as far as records need it.
class Wire {
 public:
  explicit Wire(std::string* out) : out_(*out) {}

  static size_t VarintSize(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }
  // A length-delimited field of `n` bytes, whole.
  static size_t FieldSize(int field, size_t n) {
    return VarintSize(static_cast<uint64_t>(field) << 3) + VarintSize(n) + n;
  }

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void VarintField(int field, uint64_t v) {
    Varint(static_cast<uint64_t>(field) << 3);
    Varint(v);
  }
  // The start of a length-delimited field of `n` bytes.
  void Length(int field, size_t n) {
    Varint((static_cast<uint64_t>(field) << 3) | 2);
    Varint(n);
  }
  void Bytes(int field, absl::string_view s) {
    Length(field, s.size());
    Raw(s);
  }
  // Bytes already in wire form.
  void Raw(absl::string_view s) { out_.append(s.data(), s.size()); }
  // A proto3 singular field: absent when empty.
  void NonEmpty(int field, absl::string_view s) {
    if (!s.empty()) Bytes(field, s);
  }
  void NonZero(int field, uint64_t v) {
    if (v != 0) VarintField(field, v);
  }

 private:
  std::string& out_;
};

// WriteColumns' output as Record.fields entries in wire form: each an
// entry message {1: column name, 2: Value}. A Value that holds one string
// (a body, say) is written straight from it, sizes computed first, so the
// bytes are copied once; the small composite ones go through a scratch
// buffer.
class WireFields {
 public:
  explicit WireFields(std::string* out) : wire_(out) {}

  void Null(absl::string_view name) { Entry(name, ""); }
  void Int(absl::string_view name, int64_t v) {
    Scalar(name, connector::v1::Value::kIntValueFieldNumber, static_cast<uint64_t>(v));
  }
  void Bool(absl::string_view name, bool v) {
    Scalar(name, connector::v1::Value::kBoolValueFieldNumber, v ? 1 : 0);
  }
  void String(absl::string_view name, absl::string_view v) {
    Entry(name, connector::v1::Value::kStringValueFieldNumber, v);
  }
  void Bytes(absl::string_view name, absl::string_view v) {
    Entry(name, connector::v1::Value::kBytesValueFieldNumber, v);
  }
  void Timestamp(absl::string_view name, absl::Time t, const std::string& text,
                 absl::string_view original) {
    std::string& s = Scratch();
    Wire w(&s);
    w.NonZero(connector::v1::Timestamp::kUnixMillisFieldNumber,
              static_cast<uint64_t>(absl::ToUnixMillis(t)));
    w.NonEmpty(connector::v1::Timestamp::kTextFieldNumber, text);
    w.NonEmpty(connector::v1::Timestamp::kOriginalFieldNumber, original);
    Entry(name, connector::v1::Value::kTimestampValueFieldNumber, s);
  }
  void StringList(absl::string_view name, const std::vector<absl::string_view>& values) {
    std::string& s = Scratch();
    Wire w(&s);
    for (absl::string_view v : values) w.Bytes(connector::v1::StringList::kValuesFieldNumber, v);
    Entry(name, connector::v1::Value::kStringListFieldNumber, s);
  }
  void Addresses(absl::string_view name, const std::vector<imap::mime::Mailbox>& list) {
    std::string& s = Scratch();
    Wire w(&s);
    std::string one;
    for (const imap::mime::Mailbox& m : list) {
      one.clear();
      Wire a(&one);
      a.NonEmpty(connector::v1::Address::kNameFieldNumber, m.name);
      a.NonEmpty(connector::v1::Address::kAddressFieldNumber, m.address);
      a.NonEmpty(connector::v1::Address::kGroupFieldNumber, m.group);
      w.Bytes(connector::v1::AddressList::kAddressesFieldNumber, one);
    }
    Entry(name, connector::v1::Value::kAddressListFieldNumber, s);
  }
  void Headers(absl::string_view name, const std::vector<imap::mime::HeaderValue>& headers) {
    std::string& s = Scratch();
    Wire w(&s);
    for (const imap::mime::HeaderValue& h : headers) {
      w.Length(connector::v1::HeaderList::kHeadersFieldNumber,
               (h.name.empty() ? 0 : Wire::FieldSize(1, h.name.size())) +
                   (h.value.empty() ? 0 : Wire::FieldSize(2, h.value.size())));
      w.NonEmpty(connector::v1::Header::kNameFieldNumber, h.name);
      w.NonEmpty(connector::v1::Header::kValueFieldNumber, h.value);
    }
    Entry(name, connector::v1::Value::kHeaderListFieldNumber, s);
  }
  void Attachments(absl::string_view name, const std::vector<imap::mime::Attachment>& attachments) {
    // The small fields of each attachment go through a scratch buffer; its
    // content (megabytes, maybe) is written once, straight into the record.
    using A = connector::v1::Attachment;
    std::vector<std::string> heads(attachments.size());
    std::vector<size_t> sizes(attachments.size());
    size_t list_size = 0;
    for (size_t i = 0; i < attachments.size(); ++i) {
      const imap::mime::Attachment& a = attachments[i];
      Wire x(&heads[i]);
      x.NonEmpty(A::kFilenameFieldNumber, a.filename);
      x.NonEmpty(A::kContentTypeFieldNumber, a.content_type);
      x.NonEmpty(A::kDispositionFieldNumber, a.disposition);
      x.NonEmpty(A::kContentIdFieldNumber, a.content_id);
      x.NonEmpty(A::kPartFieldNumber, a.part);
      x.NonZero(A::kSizeFieldNumber, a.size);
      x.NonEmpty(A::kSha256FieldNumber, a.sha256);
      x.NonEmpty(A::kSha256LfFieldNumber, a.sha256_lf);
      sizes[i] = heads[i].size() +
                 (a.content.has_value() ? Wire::FieldSize(A::kContentFieldNumber, a.content->size())
                                        : 0);
      list_size += Wire::FieldSize(connector::v1::AttachmentList::kAttachmentsFieldNumber, sizes[i]);
    }
    const int list_field = connector::v1::Value::kAttachmentListFieldNumber;
    const size_t value_size = Wire::FieldSize(list_field, list_size);
    wire_.Length(connector::v1::Record::kFieldsFieldNumber,
                 Wire::FieldSize(1, name.size()) + Wire::FieldSize(2, value_size));
    wire_.Bytes(1, name);
    wire_.Length(2, value_size);
    wire_.Length(list_field, list_size);
    for (size_t i = 0; i < attachments.size(); ++i) {
      wire_.Length(connector::v1::AttachmentList::kAttachmentsFieldNumber, sizes[i]);
      wire_.Raw(heads[i]);
      // optional: present even when empty.
      const absl::optional<std::string>& content = attachments[i].content;
      if (content.has_value()) wire_.Bytes(A::kContentFieldNumber, *content);
    }
  }

 private:
  // A map entry {1: name, 2: value}, `value` being a whole Value message
  // ("" for null).
  void Entry(absl::string_view name, absl::string_view value) {
    wire_.Length(connector::v1::Record::kFieldsFieldNumber,
                 Wire::FieldSize(1, name.size()) + Wire::FieldSize(2, value.size()));
    wire_.Bytes(1, name);
    wire_.Bytes(2, value);
  }
  // A map entry whose Value holds `payload` as its field `value_field`,
  // written without first copying `payload` into a Value.
  void Entry(absl::string_view name, int value_field, absl::string_view payload) {
    const size_t value_size = Wire::FieldSize(value_field, payload.size());
    wire_.Length(connector::v1::Record::kFieldsFieldNumber,
                 Wire::FieldSize(1, name.size()) + Wire::FieldSize(2, value_size));
    wire_.Bytes(1, name);
    wire_.Length(2, value_size);
    wire_.Bytes(value_field, payload);
  }
  void Scalar(absl::string_view name, int value_field, uint64_t v) {
    std::string& s = Scratch();
    Wire(&s).VarintField(value_field, v);  // a oneof member: written even when 0
    Entry(name, s);
  }
  std::string& Scratch() {
    scratch_.clear();
    return scratch_;
  }

  Wire wire_;
  std::string scratch_;
};

}  // namespace

connector::v1::Record BuildRecord(const imap::records::FetchedMessage& m,
                                  const std::vector<std::string>& columns,
                                  absl::string_view datetime_format) {
  connector::v1::Record record;
  const imap::query::MessageFacts& f = m.facts;
  record.set_folder(f.folder);
  record.set_uid_validity(f.uid_validity);
  record.set_uid(f.uid);
  if (f.record != nullptr) {
    for (std::string& line : DefectLines(f.record->defects)) record.add_defects(std::move(line));
  }
  RecordFields fields(&record);
  WriteColumns(m, columns, datetime_format, fields);
  return record;
}

EncodedRecord EncodeRecord(const imap::records::FetchedMessage& m,
                           const std::vector<std::string>& columns,
                           absl::string_view datetime_format) {
  EncodedRecord out;
  const imap::query::MessageFacts& f = m.facts;
  out.folder = f.folder;
  out.uid_validity = f.uid_validity;
  out.uid = f.uid;
  out.gmail_msgid = f.gmail_msgid;
  Wire w(&out.bytes);
  using R = connector::v1::Record;
  w.NonEmpty(R::kFolderFieldNumber, f.folder);
  w.NonZero(R::kUidValidityFieldNumber, f.uid_validity);
  w.NonZero(R::kUidFieldNumber, f.uid);
  if (f.record != nullptr) {
    for (const std::string& line : DefectLines(f.record->defects)) {
      w.Bytes(R::kDefectsFieldNumber, line);
    }
  }
  WireFields fields(&out.bytes);
  WriteColumns(m, columns, datetime_format, fields);
  return out;
}

void AppendRecordCursor(absl::string_view cursor, std::string* record_bytes) {
  Wire(record_bytes).NonEmpty(connector::v1::Record::kCursorFieldNumber, cursor);
}

}  // namespace server
