#include "server/record_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/mime/message_reader.h"

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

}  // namespace
}  // namespace server
