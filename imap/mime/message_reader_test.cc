#include "imap/mime/message_reader.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::mime {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

// A message a mail client would show as: text (plain and HTML
// alternatives, the HTML with an inline image), a PDF attachment, a text
// attachment and a forwarded message. Hashes were computed with sha256sum.
constexpr char kRich[] =
    "From: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>, bob@example.com\r\n"
    "To: Team: a@example.com, \"B, Person\" <b@example.com>;\r\n"
    "Cc: c@example.com (Carl)\r\n"
    "Subject: =?utf-8?b?UmVjaG51bmcgZsO8cg==?= Januar\r\n"
    "Date: Mon, 06 Jan 2025 09:00:00 +0100\r\n"
    "Message-ID: <rich-1@example.com>\r\n"
    "In-Reply-To: <older@example.com>\r\n"
    "References: <oldest@example.com>\r\n <older@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble, not shown\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=alt\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DFe,\r\n"
    "die Rechnung liegt bei.=\r\n"
    " Danke.\r\n"
    "--alt\r\n"
    "Content-Type: multipart/related; boundary=rel\r\n"
    "\r\n"
    "--rel\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Gr\xc3\xbc\xc3\x9f" "e</p><img src=\"cid:logo@x\">\r\n"
    "--rel\r\n"
    "Content-Type: image/gif\r\n"
    "Content-ID: <logo@x>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "R0lGODlhLXRpbnk=\r\n"
    "--rel--\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"ignored.pdf\"\r\n"
    "Content-Disposition: attachment;\r\n filename*=utf-8''Rechnung%20f%C3%BCr%20Januar.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "UERGLWJ5dGVz\r\n"
    "AAECIGJpbmFyeSBjb250ZW50\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; name=notes.txt\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "bGluZSBvbmUNCmxpbmUgdHdvDQo=\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: x@example.com\r\n"
    "Subject: forwarded\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "The forwarded text is not the body.\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

void ExpectRich(const MessageRecord& r) {
  EXPECT_EQ(r.subject, "Rechnung f\xc3\xbcr Januar");
  ASSERT_EQ(r.from.size(), 2u);
  EXPECT_EQ(r.from[0].name, "J\xc3\xb6rg");
  EXPECT_EQ(r.from[0].address, "joerg@example.com");
  EXPECT_EQ(r.from[1].address, "bob@example.com");
  ASSERT_EQ(r.to.size(), 2u);
  EXPECT_EQ(r.to[1].name, "B, Person");
  EXPECT_EQ(r.to[1].group, "Team");
  ASSERT_EQ(r.cc.size(), 1u);
  EXPECT_EQ(r.cc[0].address, "c@example.com");
  ASSERT_TRUE(r.date.utc.has_value());
  EXPECT_EQ(*r.date.utc, absl::FromCivil(absl::CivilSecond(2025, 1, 6, 8, 0, 0), absl::UTCTimeZone()));
  EXPECT_EQ(r.message_id, "<rich-1@example.com>");
  EXPECT_EQ(r.in_reply_to, "<older@example.com>");
  EXPECT_THAT(r.references, ElementsAre("<oldest@example.com>", "<older@example.com>"));
  ASSERT_TRUE(r.text_body.has_value());
  // The line end before a boundary belongs to the boundary.
  EXPECT_EQ(*r.text_body, "Gr\xc3\xbc\xc3\x9f" "e,\ndie Rechnung liegt bei. Danke.");
  ASSERT_TRUE(r.html_body.has_value());
  EXPECT_EQ(*r.html_body, "<p>Gr\xc3\xbc\xc3\x9f" "e</p><img src=\"cid:logo@x\">");
  ASSERT_EQ(r.attachments.size(), 3u);
  const Attachment& pdf = r.attachments[0];
  EXPECT_EQ(pdf.filename, "Rechnung f\xc3\xbcr Januar.pdf");  // RFC 2231 beats name=
  EXPECT_EQ(pdf.content_type, "application/pdf");
  EXPECT_EQ(pdf.disposition, "attachment");
  EXPECT_EQ(pdf.part, "2");
  EXPECT_EQ(pdf.size, 27u);
  EXPECT_EQ(pdf.sha256, "469bfb5f7fa9ad6434066a0ab84fb23ff5a5c9e1d10556492bafefffecc1c789");
  const Attachment& notes = r.attachments[1];
  EXPECT_EQ(notes.filename, "notes.txt");
  EXPECT_EQ(notes.part, "3");
  EXPECT_EQ(notes.sha256, "6612d9c94c2da8d2544e1188348fc7baf717ffff1bacde51929a166404a41ffc");
  EXPECT_EQ(notes.sha256_lf, "e9024f1a07d29d52ad3aa5e1a18e94db1f3a9fd32b89e39d47c472cd99071e13");
  const Attachment& forwarded = r.attachments[2];
  EXPECT_EQ(forwarded.content_type, "message/rfc822");
  EXPECT_EQ(forwarded.part, "4");
  EXPECT_EQ(forwarded.size, std::string("From: x@example.com\r\nSubject: forwarded\r\n"
                                        "Content-Type: text/plain\r\n\r\nThe forwarded text is not the "
                                        "body.").size());
  ASSERT_EQ(r.other_parts.size(), 1u);  // the inline image of the HTML
  EXPECT_EQ(r.other_parts[0].content_type, "image/gif");
  EXPECT_EQ(r.other_parts[0].part, "1.2.2");
  EXPECT_EQ(r.other_parts[0].size, 11u);
  EXPECT_EQ(r.size, sizeof(kRich) - 1);
}

TEST(MessageReaderTest, ReadsARichMessage) {
  MessageRecord r = ReadMessage(kRich);
  ExpectRich(r);
  EXPECT_TRUE(r.defects.empty()) << r.defects[0].where << ": " << r.defects[0].what;
}

TEST(MessageReaderTest, AnyChunkingGivesTheSameRecord) {
  std::mt19937 rng(7);
  const std::string message = kRich;
  for (int trial = 0; trial < 50; ++trial) {
    MessageReader reader;
    size_t at = 0;
    while (at < message.size()) {
      const size_t n = std::uniform_int_distribution<size_t>(1, trial < 5 ? 1 : 97)(rng);
      reader.Feed(absl::string_view(message).substr(at, n));
      at += n;
    }
    ExpectRich(reader.Finish());
  }
}

TEST(MessageReaderTest, KeepsAttachmentContentOnlyWhenAsked) {
  MessageRecord plain = ReadMessage(kRich);
  EXPECT_FALSE(plain.attachments[0].content.has_value());
  ReaderOptions options;
  options.keep_attachment_content = true;
  MessageRecord kept = ReadMessage(kRich, options);
  ASSERT_TRUE(kept.attachments[0].content.has_value());
  EXPECT_EQ(*kept.attachments[0].content, std::string("PDF-bytes\0\1\2 binary content", 27));
  options.max_kept_attachment_bytes = 10;
  MessageRecord capped = ReadMessage(kRich, options);
  EXPECT_FALSE(capped.attachments[0].content.has_value());
  EXPECT_EQ(capped.attachments[0].size, 27u);  // still measured and hashed
  EXPECT_THAT(capped.defects, ::testing::Contains(Field(&Defect::what, HasSubstr("not kept"))));
}

TEST(MessageReaderTest, LongBodiesAreCutWithADefect) {
  ReaderOptions options;
  options.max_body_bytes = 10;
  MessageRecord r = ReadMessage("Subject: x\r\n\r\n0123456789abcdef\r\n", options);
  EXPECT_EQ(r.text_body, "0123456789");
  EXPECT_THAT(r.defects, ::testing::Contains(Field(&Defect::what, HasSubstr("longer than 10"))));
}

TEST(MessageReaderTest, SinglePartMessagesAndCharsets) {
  MessageRecord r = ReadMessage(
      "Subject: =?ISO-2022-JP?B?GyRCJDkkXyReJDskcxsoQg==?=\n"
      "Content-Type: text/plain; charset=ISO-2022-JP\n\n"
      "\x1b$B$9$_$^$;$s!#\x1b(B\n");
  EXPECT_EQ(r.subject, "\xe3\x81\x99\xe3\x81\xbf\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93");
  EXPECT_EQ(r.text_body, "\xe3\x81\x99\xe3\x81\xbf\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93\xe3\x80\x82\n");
  EXPECT_TRUE(r.attachments.empty());

  // No charset and 8-bit bytes: valid UTF-8 is kept, anything else guessed.
  r = ReadMessage("Subject: x\r\n\r\nGr\xfc\xdf" "e\r\n");
  EXPECT_EQ(r.text_body, "Gr\xc3\xbc\xc3\x9f" "e\n");
  // A charset nobody knows: guessed, with a defect.
  r = ReadMessage("Content-Type: text/plain; charset=x-martian\r\n\r\nhi\xe9\r\n");
  EXPECT_EQ(r.text_body, "hi\xc3\xa9\n");
  EXPECT_FALSE(r.defects.empty());
}

TEST(MessageReaderTest, BrokenMessagesStillGiveRecords) {
  // Missing final boundary, garbage base64, no header/body separator.
  MessageRecord r = ReadMessage(
      "Subject: broken\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nstill here\r\n"
      "--b\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAA*!!AAA\r\n");
  EXPECT_EQ(r.subject, "broken");
  EXPECT_EQ(r.text_body, "still here");
  ASSERT_EQ(r.attachments.size(), 1u);
  EXPECT_EQ(r.attachments[0].filename, "a.bin");
  EXPECT_FALSE(r.defects.empty());
  for (const char* junk : {"", "\r\n\r\n", "no header at all", "--b--\r\n", ":\r\n:\r\n\r\n"}) {
    MessageRecord j = ReadMessage(junk);
    EXPECT_EQ(j.size, std::string(junk).size());
  }
}

TEST(MessageReaderTest, HeaderListCanBeLeftOut) {
  const std::string message =
      "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nX-Mailer: =?utf-8?q?Caf=C3=A9?=\r\nFrom: a@example.com\r\n\r\nhi\r\n";
  MessageRecord full = ReadMessage(message);
  ASSERT_EQ(full.headers.size(), 3u);
  EXPECT_EQ(full.headers[0].value, "Grüße");
  EXPECT_EQ(full.headers[1].value, "Café");
  ReaderOptions lean;
  lean.keep_header_list = false;
  MessageRecord r = ReadMessage(message, lean);
  EXPECT_TRUE(r.headers.empty());
  EXPECT_EQ(r.subject, "Grüße");  // the named fields are still read
  ASSERT_EQ(r.from.size(), 1u);
}

}  // namespace
}  // namespace imap::mime
