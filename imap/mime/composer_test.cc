#include "imap/mime/composer.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/mime/message_reader.h"

namespace imap::mime {
namespace {

using ::testing::HasSubstr;

std::string Sha256Hex(const std::string& data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(d), sizeof(d)));
}

ComposeInput Sample() {
  ComposeInput in;
  in.from = {{"Jörg Müller-Lüdenscheidt, Vertrieb", "joerg@example.de"}};
  in.to = {{"", "team@example.com"}, {"Zoë \"Z\" Quinn", "zoe@example.net"}};
  in.cc = {{"Ops", "ops@example.org"}};
  in.subject = "Grüße aus Köln – ein sehr langer Betreff, der über mehrere Zeilen gefaltet werden muss, "
               "damit keine Zeile zu lang wird";
  in.date = absl::FromUnixSeconds(1717236000);
  in.in_reply_to = "<parent@example.de>";
  in.references = {"<root@example.de>", "<parent@example.de>"};
  in.text_body = "Hallo Team,\n\nanbei der Bericht. = kein Problem.\n.\nLetzte Zeile mit Leerzeichen   \n";
  in.html_body = "<p>Hallo <b>Team</b></p>\n";
  in.attachments.push_back({"Bericht für März – Übersicht der Verkäufe im ersten Quartal 2024.pdf",
                            "application/pdf", std::string(5000, '\x01') + "end", "", false});
  in.attachments.push_back({"logo.png", "image/png", "PNGDATA", "logo@example.de", true});
  in.extra_headers = {{"X-Connector-Run", "nightly ✓"}};
  return in;
}

TEST(ComposeMessage, ReadsBackAsWritten) {
  ComposeInput in = Sample();
  const ComposeInput copy = Sample();
  absl::StatusOr<ComposedMessage> out = ComposeMessage(std::move(in));
  ASSERT_TRUE(out.ok()) << out.status();
  for (absl::string_view line : absl::StrSplit(out->bytes, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
  }
  MessageRecord r = ReadMessage(out->bytes);
  EXPECT_TRUE(r.defects.empty()) << r.defects[0].where << ": " << r.defects[0].what;
  EXPECT_EQ(r.subject, copy.subject);
  ASSERT_EQ(r.from.size(), 1u);
  EXPECT_EQ(r.from[0].name, copy.from[0].name);
  EXPECT_EQ(r.from[0].address, "joerg@example.de");
  ASSERT_EQ(r.to.size(), 2u);
  EXPECT_EQ(r.to[1].name, "Zoë \"Z\" Quinn");
  EXPECT_EQ(r.cc[0].name, "Ops");
  EXPECT_EQ(r.message_id, out->message_id);
  EXPECT_TRUE(absl::EndsWith(out->message_id, "@example.de>"));
  EXPECT_EQ(r.in_reply_to, "<parent@example.de>");
  EXPECT_THAT(r.references, ::testing::ElementsAre("<root@example.de>", "<parent@example.de>"));
  ASSERT_TRUE(r.date.utc.has_value());
  EXPECT_EQ(*r.date.utc, absl::FromUnixSeconds(1717236000));
  ASSERT_TRUE(r.text_body.has_value());
  EXPECT_EQ(*r.text_body, copy.text_body);
  ASSERT_TRUE(r.html_body.has_value());
  EXPECT_EQ(*r.html_body, copy.html_body);
  ASSERT_EQ(r.attachments.size(), 2u);
  EXPECT_EQ(r.attachments[0].filename, copy.attachments[0].filename);
  EXPECT_EQ(r.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(r.attachments[0].sha256, Sha256Hex(copy.attachments[0].content));
  EXPECT_EQ(r.attachments[1].content_id, "logo@example.de");
  EXPECT_EQ(r.attachments[1].disposition, "inline");
  bool found = false;
  for (const HeaderValue& h : r.headers) found |= h.name == "X-Connector-Run" && h.value == "nightly ✓";
  EXPECT_TRUE(found);
}

TEST(ComposeMessage, TheSameRecordGetsTheSameMessageId) {
  absl::StatusOr<ComposedMessage> a = ComposeMessage(Sample());
  absl::StatusOr<ComposedMessage> b = ComposeMessage(Sample());
  ComposeInput changed = Sample();
  changed.text_body += "!";
  absl::StatusOr<ComposedMessage> c = ComposeMessage(std::move(changed));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->message_id, b->message_id);
  EXPECT_NE(a->message_id, c->message_id);
}

TEST(ComposeMessage, PlainAsciiStaysReadable) {
  ComposeInput in;
  in.from = {{"Ada", "ada@example.com"}};
  in.subject = "Status report";
  in.text_body = "All good.\n";
  absl::StatusOr<ComposedMessage> out = ComposeMessage(std::move(in));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(out->bytes, HasSubstr("\r\nSubject: Status report\r\n"));
  EXPECT_THAT(out->bytes, HasSubstr("Content-Transfer-Encoding: 7bit\r\n\r\nAll good.\r\n"));
  EXPECT_EQ(*ReadMessage(out->bytes).text_body, "All good.\n");
}

TEST(ComposeMessage, ValuesCannotInjectHeaders) {
  ComposeInput in;
  in.from = {{"Eve\r\nBcc: victim@example.com", "eve@example.com"}};
  in.subject = "hi\r\nBcc: victim@example.com";
  in.extra_headers = {{"X-Note", "a\r\nBcc: victim@example.com"}};
  absl::StatusOr<ComposedMessage> out = ComposeMessage(std::move(in));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(absl::StrContains(out->bytes, "\r\nBcc:"));
  EXPECT_TRUE(ReadMessage(out->bytes).bcc.empty());
}

TEST(ComposeMessage, BadFieldsAreNamed) {
  auto error = [](ComposeInput in) { return std::string(ComposeMessage(std::move(in)).status().message()); };
  ComposeInput no_from;
  EXPECT_THAT(error(no_from), HasSubstr("from"));
  ComposeInput bad_to;
  bad_to.from = {{"", "a@example.com"}};
  bad_to.to = {{"", "a@example.com"}, {"", "not an address"}};
  EXPECT_THAT(error(bad_to), HasSubstr("to[1].address"));
  ComposeInput bad_header;
  bad_header.from = {{"", "a@example.com"}};
  bad_header.extra_headers = {{"X-Ok", "1"}, {"Bad Name", "2"}};
  EXPECT_THAT(error(bad_header), HasSubstr("headers[1].name"));
  ComposeInput ours;
  ours.from = {{"", "a@example.com"}};
  ours.extra_headers = {{"Content-Type", "text/html"}};
  EXPECT_THAT(error(ours), HasSubstr("headers[0].name"));
  ComposeInput bad_type;
  bad_type.from = {{"", "a@example.com"}};
  bad_type.attachments = {{"x", "pdf", "1", "", false}};
  EXPECT_THAT(error(bad_type), HasSubstr("attachments[0].content_type"));
  ComposeInput bad_id;
  bad_id.from = {{"", "a@example.com"}};
  bad_id.message_id = "no-brackets@example.com";
  EXPECT_THAT(error(bad_id), HasSubstr("message_id"));
}

}  // namespace
}  // namespace imap::mime
