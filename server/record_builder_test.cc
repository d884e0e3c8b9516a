#include "server/record_builder.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "imap/mime/message_reader.h"
#include "imap/query/schema.h"

namespace server {
namespace {

using connector::v1::Value;

// Every header column, and a body column for contrast.
const std::vector<std::string> kHeaderColumns = {
    "message_id", "subject", "from", "sender", "to", "cc", "bcc", "reply_to",
    "date", "in_reply_to", "references", "headers", "text_body"};

connector::v1::Record Build(absl::string_view message) {
  imap::records::FetchedMessage m;
  m.record = imap::mime::ReadMessage(message);
  m.facts.record = &m.record;
  m.facts.uid = 7;
  m.facts.folder = "INBOX";
  return BuildRecord(m, kHeaderColumns, "%Y-%m-%d");
}

Value::KindCase KindOf(const connector::v1::Record& r, const std::string& column) {
  return r.fields().at(column).kind_case();
}

TEST(RecordBuilderTest, AbsentHeaderFieldsAreNullEveryOne) {
  const connector::v1::Record r = Build("X-Mailer: test\r\n\r\nhello\r\n");
  for (const std::string& column : kHeaderColumns) {
    if (column == "headers" || column == "text_body") continue;
    EXPECT_EQ(KindOf(r, column), Value::KIND_NOT_SET) << column;
  }
  // The header list is there (one field) and so is the body.
  EXPECT_EQ(r.fields().at("headers").header_list().headers_size(), 1);
  EXPECT_EQ(r.fields().at("text_body").string_value(), "hello\n");
}

TEST(RecordBuilderTest, PresentButEmptyHeaderFieldsAreEmptyNotNull) {
  const connector::v1::Record r = Build(
      "Subject:\r\nMessage-ID:\r\nIn-Reply-To:\r\nReferences:\r\nFrom:\r\nSender:\r\n"
      "To: undisclosed-recipients:;\r\nCc:\r\nBcc:\r\nReply-To:\r\n\r\nhello\r\n");
  for (const char* column : {"subject", "message_id", "in_reply_to"}) {
    EXPECT_EQ(KindOf(r, column), Value::kStringValue) << column;
    EXPECT_EQ(r.fields().at(column).string_value(), "") << column;
  }
  EXPECT_EQ(KindOf(r, "references"), Value::kStringList);
  for (const char* column : {"from", "sender", "to", "cc", "bcc", "reply_to"}) {
    EXPECT_EQ(KindOf(r, column), Value::kAddressList) << column;
  }
  // No Date field at all: null like the rest.
  EXPECT_EQ(KindOf(r, "date"), Value::KIND_NOT_SET);
}

TEST(RecordBuilderTest, PresentHeaderFieldsHaveTheirValues) {
  const connector::v1::Record r = Build(
      "Subject: Hi\r\nMessage-ID: <a@b>\r\nFrom: A <a@example.com>\r\n"
      "Date: Mon, 06 Jan 2025 09:00:00 +0000\r\nReferences: <x@y> <z@y>\r\n\r\nhello\r\n");
  EXPECT_EQ(r.fields().at("subject").string_value(), "Hi");
  EXPECT_EQ(r.fields().at("message_id").string_value(), "<a@b>");
  ASSERT_EQ(r.fields().at("from").address_list().addresses_size(), 1);
  EXPECT_EQ(r.fields().at("from").address_list().addresses(0).address(), "a@example.com");
  EXPECT_EQ(r.fields().at("date").timestamp_value().text(), "2025-01-06");
  EXPECT_EQ(r.fields().at("references").string_list().values_size(), 2);
  EXPECT_EQ(KindOf(r, "to"), Value::KIND_NOT_SET);
}

TEST(RecordBuilderTest, ColumnsTheFetchDidNotReadAreNull) {
  imap::records::FetchedMessage m;
  m.facts.uid = 3;
  const connector::v1::Record r = BuildRecord(m, {"uid", "subject", "from"}, "%Y");
  EXPECT_EQ(r.fields().at("uid").int_value(), 3);
  EXPECT_EQ(KindOf(r, "subject"), Value::KIND_NOT_SET);
  EXPECT_EQ(KindOf(r, "from"), Value::KIND_NOT_SET);
}

TEST(RecordBuilderTest, GmailColumns) {
  imap::records::FetchedMessage m;
  m.facts.uid = 4;
  m.facts.gmail_labels = std::vector<std::string>{"\\Inbox", "Work", "\xc3\x89t\xc3\xa9"};
  m.facts.gmail_msgid = 1278455344230334865u;
  m.facts.gmail_thread_id = 18446744073709551615u;  // beyond int64: null, not negative
  const connector::v1::Record r =
      BuildRecord(m, {"gmail_labels", "gmail_msgid", "gmail_thread_id"}, "%Y");
  EXPECT_THAT(r.fields().at("gmail_labels").string_list().values(),
              ::testing::ElementsAre("\\Inbox", "Work", "\xc3\x89t\xc3\xa9"));
  EXPECT_EQ(r.fields().at("gmail_msgid").int_value(), 1278455344230334865);
  EXPECT_EQ(KindOf(r, "gmail_thread_id"), Value::KIND_NOT_SET);
  // Not fetched (a server without X-GM-EXT-1 never gets this far): null.
  imap::records::FetchedMessage plain;
  const connector::v1::Record p = BuildRecord(plain, {"gmail_labels", "gmail_msgid"}, "%Y");
  EXPECT_EQ(KindOf(p, "gmail_labels"), Value::KIND_NOT_SET);
  EXPECT_EQ(KindOf(p, "gmail_msgid"), Value::KIND_NOT_SET);
}

// EncodeRecord against BuildRecord: the same record, on every message of
// the repository's test mail, with every column, and with facts that take
// the less common paths (no size, ids beyond int64, dates before 1970).
TEST(EncodeRecordTest, ParsesToTheRecordBuildRecordMakes) {
  std::vector<std::string> all_columns;
  for (const imap::query::Column& c : imap::query::Columns()) all_columns.emplace_back(c.name);
  const std::vector<std::vector<std::string>> column_sets = {
      all_columns,
      {"uid", "subject", "from", "date", "text_body", "attachments"},
      {"size", "flags", "keywords", "nonexistent", "uid"},
      {}};
  std::vector<std::string> messages = {
      "", "Subject:\r\n\r\n", "X: \xff\r\n\r\n\x00\x01",
      "Date: Thu, 01 Jan 1960 00:00:00 +0000\r\nFrom: a@b, broken <\r\n\r\nbody"};
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(IMAPC_TEST_DATA_DIR)) {
    if (entry.path().extension() != ".eml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    messages.push_back(absl::StrReplaceAll(text.str(), {{"\r\n", "\n"}, {"\n", "\r\n"}}));
  }
  ASSERT_GT(messages.size(), 20u);
  int compared = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    for (bool content : {false, true}) {
      imap::mime::ReaderOptions options;
      options.keep_attachment_content = content;
      imap::records::FetchedMessage m;
      m.record = imap::mime::ReadMessage(messages[i], options);
      m.facts.record = i % 5 == 4 ? nullptr : &m.record;
      m.facts.uid = static_cast<uint32_t>(i);  // 0 once: absent in proto3, set in the Value
      m.facts.uid_validity = i % 2 == 0 ? 0 : 4000000000u;
      m.facts.folder = i % 3 == 0 ? "" : "Entw\xc3\xbcrfe";
      if (i % 4 != 0) m.facts.size = messages[i].size();
      m.facts.flags = {"\\Seen", "$Label1", "\\Flagged", ""};
      m.facts.internal_date = absl::FromUnixSeconds(i % 2 == 0 ? -86400 : 1700000000 + i);
      if (i % 2 == 1) {
        m.facts.gmail_labels = std::vector<std::string>{"\\Inbox", ""};
        m.facts.gmail_msgid = i;
        m.facts.gmail_thread_id = 18446744073709551615u;
      }
      m.raw = messages[i];
      for (const std::vector<std::string>& columns : column_sets) {
        const connector::v1::Record built = BuildRecord(m, columns, "%Y-%m-%dT%H:%M:%S");
        const EncodedRecord encoded = EncodeRecord(m, columns, "%Y-%m-%dT%H:%M:%S");
        connector::v1::Record parsed;
        ASSERT_TRUE(parsed.ParseFromString(encoded.bytes)) << i;
        EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, built))
            << "message " << i << "\nencoded: " << parsed.DebugString()
            << "\nbuilt: " << built.DebugString();
        EXPECT_EQ(encoded.uid, m.facts.uid);
        EXPECT_EQ(encoded.uid_validity, m.facts.uid_validity);
        EXPECT_EQ(encoded.folder, m.facts.folder);
        EXPECT_EQ(encoded.gmail_msgid, m.facts.gmail_msgid);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, static_cast<int>(messages.size() * 2 * column_sets.size()));
}

TEST(EncodeRecordTest, CursorIsAppendedAsItsField) {
  imap::records::FetchedMessage m;
  m.facts.uid = 9;
  EncodedRecord encoded = EncodeRecord(m, {"uid"}, "%Y");
  AppendRecordCursor("c1", &encoded.bytes);
  connector::v1::Record parsed;
  ASSERT_TRUE(parsed.ParseFromString(encoded.bytes));
  EXPECT_EQ(parsed.cursor(), "c1");
  EXPECT_EQ(parsed.fields().at("uid").int_value(), 9);
}

}  // namespace
}  // namespace server
