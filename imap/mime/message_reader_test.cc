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

// ------------------------------------------------------------ uuencode
// Fixtures: binascii.b2a_uu in lines of 45 bytes; hashes from hashlib.

// Reads `message` whole and in random pieces; returns the whole record
// after checking that the pieces give the same attachments, text and
// defects.
MessageRecord ReadAnyhow(absl::string_view message) {
  MessageRecord whole = ReadMessage(message);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    MessageReader reader;
    size_t at = 0;
    while (at < message.size()) {
      const size_t n = std::uniform_int_distribution<size_t>(1, trial < 3 ? 1 : 40)(rng);
      reader.Feed(message.substr(at, n));
      at += n;
    }
    MessageRecord r = reader.Finish();
    EXPECT_EQ(r.text_body, whole.text_body);
    EXPECT_EQ(r.defects, whole.defects);
    EXPECT_EQ(r.attachments.size(), whole.attachments.size());
    for (size_t i = 0; i < std::min(r.attachments.size(), whole.attachments.size()); ++i) {
      EXPECT_EQ(r.attachments[i].filename, whole.attachments[i].filename);
      EXPECT_EQ(r.attachments[i].size, whole.attachments[i].size);
      EXPECT_EQ(r.attachments[i].sha256, whole.attachments[i].sha256);
    }
  }
  return whole;
}

TEST(MessageReaderUuencodeTest, UuencodedPartsAreDecodedAttachments) {
  const MessageRecord r = ReadAnyhow(
      "From: a@example.com\r\n"
      "Subject: files\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "See attached.\r\n"
      "--b\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: x-uuencode\r\n"
      "\r\n"
      "begin 644 all.bin\r\n"
      "M  $\" P0%!@<(\"0H+# T.#Q 1$A,4%187&!D:&QP='A\\@(2(C)\"4F)R@I*BLL\r\n"
      "M+2XO,#$R,S0U-C<X.3H[/#T^/T!!0D-$149'2$E*2TQ-3D]045)35%565UA9\r\n"
      "M6EM<75Y?8&%B8V1E9F=H:6IK;&UN;W!Q<G-T=79W>'EZ>WQ]?G^ @8*#A(6&\r\n"
      "MAXB)BHN,C8Z/D)&2DY25EI>8F9J;G)V>GZ\"AHJ.DI::GJ*FJJZRMKJ^PL;*S\r\n"
      "MM+6VM[BYNKN\\O;Z_P,'\"P\\3%QL?(R<K+S,W.S]#1TM/4U=;7V-G:V]S=WM_@\r\n"
      "?X>+CY.7FY^CIZNOL[>[O\\/'R\\_3U]O?X^?K[_/W^_P  \r\n"
      "`\r\n"
      "end\r\n"
      "--b\r\n"
      "Content-Type: text/plain; name=\"hello.txt\"\r\n"
      "Content-Transfer-Encoding: X-UUE\r\n"
      "\r\n"
      "begin 644 other-name.txt\r\n"
      "-:&5L;&\\L('=O<FQD\"@``\r\n"
      "`\r\n"
      "end\r\n"
      "--b--\r\n");
  EXPECT_TRUE(r.defects.empty()) << r.defects[0].where << ": " << r.defects[0].what;
  EXPECT_EQ(r.text_body, "See attached.");
  ASSERT_EQ(r.attachments.size(), 2u);
  const Attachment& bin = r.attachments[0];
  EXPECT_EQ(bin.filename, "all.bin");  // from the "begin" line
  EXPECT_EQ(bin.content_type, "application/octet-stream");
  EXPECT_EQ(bin.part, "2");
  EXPECT_EQ(bin.size, 256u);
  EXPECT_EQ(bin.sha256, "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
  const Attachment& txt = r.attachments[1];
  EXPECT_EQ(txt.filename, "hello.txt");  // the header's name wins
  EXPECT_EQ(txt.content_type, "text/plain");
  EXPECT_EQ(txt.size, 13u);
  EXPECT_EQ(txt.sha256, "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020");
}

TEST(MessageReaderUuencodeTest, BlocksInPlainTextBecomeAttachments) {
  const MessageRecord r = ReadAnyhow(
      "From: a@example.com\r\n"
      "Subject: old school\r\n"
      "\r\n"
      "Hi,\r\n"
      "begin 644 meters of rope\r\n"
      "was all we had.\r\n"
      "\r\n"
      "begin 644 logo.png\r\n"
      "MB5!.1PT*&@K(R<K+S,W.S]#1TM/4U=;7V-G:V]S=WM_@X>+CY.7FY^CIZNOL\r\n"
      "6[>[O\\/'R\\_3U]O?X^?K[_/W^_P``````\r\n"
      "`\r\n"
      "end\r\n"
      "and the notes:\r\n"
      "begin 600 r\xe9sum\xe9.txt\r\n"
      "M3&EN92!O;F4-\"DQI;F4@='=O#0I,:6YE(&]N90T*3&EN92!T=V\\-\"DQI;F4@\r\n"
      "/;VYE#0I,:6YE('1W;PT*\r\n"
      " \r\n"
      "end\r\n"
      "Bye.\r\n");
  EXPECT_TRUE(r.defects.empty()) << r.defects[0].where << ": " << r.defects[0].what;
  EXPECT_EQ(r.text_body,
            "Hi,\nbegin 644 meters of rope\nwas all we had.\n\nand the notes:\nBye.\n");
  ASSERT_EQ(r.attachments.size(), 2u);
  const Attachment& png = r.attachments[0];
  EXPECT_EQ(png.filename, "logo.png");
  EXPECT_EQ(png.content_type, "application/octet-stream");
  EXPECT_EQ(png.disposition, "attachment");
  EXPECT_EQ(png.part, "1");
  EXPECT_EQ(png.size, 67u);
  EXPECT_EQ(png.sha256, "d116adfe61163af9ade29c6fa2a55b474df4a9bc4251b69de4bd7586adef19c3");
  EXPECT_EQ(png.sha256_lf, "");
  const Attachment& notes = r.attachments[1];
  EXPECT_EQ(notes.filename, "r\xc3\xa9sum\xc3\xa9.txt");  // Latin-1 on the begin line
  EXPECT_EQ(notes.size, 60u);
  EXPECT_EQ(notes.sha256, "8debae9513e47c638bb162f0de911b0aeb329c770f5343d84b30e4160f14a580");

  ReaderOptions keep;
  keep.keep_attachment_content = true;
  const MessageRecord kept = ReadMessage(
      "Subject: x\r\n\r\nbegin 644 h.txt\r\n-:&5L;&\\L('=O<FQD\"@``\r\n`\r\nend\r\n", keep);
  ASSERT_EQ(kept.attachments.size(), 1u);
  EXPECT_EQ(kept.attachments[0].content, "hello, world\n");
  EXPECT_EQ(kept.text_body, "");
}

TEST(MessageReaderUuencodeTest, TextAloneLosesItsFilesLikeTheWholeMessage) {
  const std::string text =
      "Hi,\r\nbegin 644 h.txt\r\n-:&5L;&\\L('=O<FQD\"@``\r\n`\r\nend\r\nBye.\r\n";
  EXPECT_EQ(TextWithoutUuencodedFiles(text), "Hi,\r\nBye.\r\n");
  EXPECT_EQ(ReadMessage("Subject: x\r\n\r\n" + text).text_body, "Hi,\nBye.\n");
  EXPECT_EQ(TextWithoutUuencodedFiles("begin 644 meters\r\nof rope"),
            "begin 644 meters\r\nof rope");
  // In a multipart the "end" line has no line end of its own (that one
  // belongs to the boundary).
  const MessageRecord r = ReadAnyhow(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" +
      text + "begin 644 c\r\n#0V%T\r\nend\r\n--b--\r\n");
  EXPECT_TRUE(r.defects.empty()) << r.defects[0].what;
  EXPECT_EQ(r.text_body, "Hi,\nBye.\n");
  ASSERT_EQ(r.attachments.size(), 2u);
  EXPECT_EQ(r.attachments[1].filename, "c");
  EXPECT_EQ(r.attachments[1].size, 3u);
}

TEST(MessageReaderUuencodeTest, MalformedBlocksGiveDefectsNotCrashes) {
  // Cut short by text: the file ends there and the text goes on.
  MessageRecord r =
      ReadAnyhow("Subject: x\r\n\r\nbegin 644 h.txt\r\n-:&5L;&\\L('=O<FQD\"@``\r\nthanks, bye\r\n");
  EXPECT_EQ(r.text_body, "thanks, bye\n");
  ASSERT_EQ(r.attachments.size(), 1u);
  EXPECT_EQ(r.attachments[0].size, 13u);
  EXPECT_THAT(r.defects,
              ElementsAre(Defect{"part 1 body", "uuencoded file without an 'end' line"}));
  // Cut short by the end of the message.
  r = ReadAnyhow("Subject: x\r\n\r\nbegin 644 h.txt\r\n-:&5L;&\\L('=O<FQD\"@``");
  ASSERT_EQ(r.attachments.size(), 1u);
  EXPECT_EQ(r.attachments[0].sha256,
            "853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020");
  EXPECT_THAT(r.defects,
              ElementsAre(Defect{"part 1 body", "uuencoded file without an 'end' line"}));
  // A stray character inside a data line is read as zero bits (the line
  // right after "begin" must be clean, or the block is not believed).
  r = ReadAnyhow("Subject: x\r\n\r\nbegin 644 c\r\n#0V%T\r\n#0V\x01T\r\nend\r\n");
  ASSERT_EQ(r.attachments.size(), 1u);
  EXPECT_EQ(r.attachments[0].size, 6u);
  EXPECT_EQ(r.text_body, "");
  EXPECT_THAT(r.defects,
              ElementsAre(Defect{"part 1 body", "invalid uuencode character read as zero bits"}));
  // A begin line at the very end, and one followed by a huge line, stay text.
  r = ReadAnyhow("Subject: x\r\n\r\nbegin 644 c");
  EXPECT_EQ(r.text_body, "begin 644 c");
  EXPECT_TRUE(r.attachments.empty());
  const std::string huge(5000, 'M');
  r = ReadAnyhow("Subject: x\r\n\r\nbegin 644 c\r\n" + huge + "\r\nend\r\n");
  EXPECT_EQ(r.text_body, "begin 644 c\n" + huge + "\nend\n");
  EXPECT_TRUE(r.attachments.empty());
  // A uuencoded part that is not uuencoded is passed through.
  r = ReadAnyhow(
      "Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: "
      "x-uuencode\r\n"
      "\r\nnot uuencoded\r\n");
  ASSERT_EQ(r.attachments.size(), 1u);
  EXPECT_EQ(r.attachments[0].size, std::string("not uuencoded\r\n").size());
  EXPECT_THAT(r.defects, ElementsAre(Defect{
                             "message body",
                             "no uuencode 'begin' line; the body is passed through undecoded"}));
}

// ------------------------------------------------------------ chunk independence

// Every field of two records that the body path fills.
void ExpectSameBodies(const MessageRecord& got, const MessageRecord& want, const std::string& how) {
  EXPECT_EQ(got.text_body, want.text_body) << how;
  EXPECT_EQ(got.html_body, want.html_body) << how;
  EXPECT_EQ(got.defects, want.defects) << how;
  ASSERT_EQ(got.attachments.size(), want.attachments.size()) << how;
  for (size_t i = 0; i < got.attachments.size(); ++i) {
    const Attachment& g = got.attachments[i];
    const Attachment& w = want.attachments[i];
    EXPECT_EQ(g.filename, w.filename) << how;
    EXPECT_EQ(g.part, w.part) << how;
    EXPECT_EQ(g.size, w.size) << how;
    EXPECT_EQ(g.sha256, w.sha256) << how;
    EXPECT_EQ(g.sha256_lf, w.sha256_lf) << how;
    EXPECT_EQ(g.content, w.content) << how;
  }
  ASSERT_EQ(got.other_parts.size(), want.other_parts.size()) << how;
  for (size_t i = 0; i < got.other_parts.size(); ++i) {
    EXPECT_EQ(got.other_parts[i].size, want.other_parts[i].size) << how;
  }
}

// Text that walks the reader's whole-run paths and their edges: lines
// starting with 'b' that begin no file, "begin" lines split by chunks, a
// real file among them, lone CRs and CRs before CRLF, and text attachments
// whose CRs may end a chunk.
constexpr char kBodyEdges[] =
    "Content-Type: multipart/mixed; boundary=\"-=b=-\"\r\n"
    "\r\n"
    "---=b=-\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "but not a file,\r\nbegin\r\nbegin 644\r\nbegin 644 prose follows\r\nand more\r\n"
    "- a list item - with dashes\r\n-- \r\nbe well\rbegin 644 lone-cr\r\r\n"
    "begin 644 h.txt\r\n-:&5L;&\\L('=O<FQD\"@``\r\n`\r\nend\r\n"
    "bbb\r\nb\r\nabc-def\r\nnot at a line start: begin 644 c\r\n#0V%T\r\nend\r\nlast line\r\n"
    "---=b=-\r\n"
    "Content-Type: text/csv; name=t.csv\r\n"
    "\r\n"
    "a,b\r\nc\rd\r\r\n\ne,f\r\n"
    "---=b=-\r\n"
    "Content-Type: text/plain; name=q.txt\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "x=0Dy=0D=0Az =20\r\n=\r\nend=\r\n"
    "---=b=---\r\n";

TEST(MessageReaderChunkingTest, EverySplitGivesTheSameRecord) {
  ReaderOptions keep;
  keep.keep_attachment_content = true;
  const std::string message = kBodyEdges;
  const MessageRecord whole = ReadMessage(message, keep);
  EXPECT_EQ(whole.text_body,
            "but not a file,\nbegin\nbegin 644\nbegin 644 prose follows\nand more\n"
            "- a list item - with dashes\n-- \nbe well\nbegin 644 lone-cr\n\n"
            "bbb\nb\nabc-def\nnot at a line start: begin 644 c\n#0V%T\nend\nlast line");
  ASSERT_EQ(whole.attachments.size(), 3u);
  EXPECT_EQ(whole.attachments[0].filename, "h.txt");
  EXPECT_EQ(whole.attachments[0].content, "hello, world\n");
  EXPECT_EQ(whole.attachments[1].content, "a,b\r\nc\rd\r\r\n\ne,f");
  EXPECT_EQ(whole.attachments[2].content, "x\ry\r\nz  \r\nend");
  EXPECT_TRUE(whole.defects.empty()) << whole.defects[0].what;
  // sha256_lf is the hash of the content with LF line ends: the same as the
  // plain hash of a copy that has them already.
  const MessageRecord lf = ReadMessage(
      "Content-Type: text/csv\r\nContent-Disposition: attachment\r\n\r\na,b\nc\nd\n\n\ne,f");
  ASSERT_EQ(lf.attachments.size(), 1u);
  EXPECT_EQ(whole.attachments[1].sha256_lf, lf.attachments[0].sha256);

  for (size_t a = 0; a <= message.size(); ++a) {
    MessageReader two(keep);
    two.Feed(absl::string_view(message).substr(0, a));
    two.Feed(absl::string_view(message).substr(a));
    ExpectSameBodies(two.Finish(), whole, "split at " + std::to_string(a));
    // And a third piece of a few bytes after it: CRs and "begin" lines at
    // both ends of a short chunk.
    for (size_t len : {1, 2, 5}) {
      MessageReader three(keep);
      three.Feed(absl::string_view(message).substr(0, a));
      three.Feed(absl::string_view(message).substr(a, len));
      if (a + len < message.size()) three.Feed(absl::string_view(message).substr(a + len));
      ExpectSameBodies(three.Finish(), whole,
                       "pieces at " + std::to_string(a) + " and " + std::to_string(a + len));
    }
  }
  MessageReader bytes(keep);
  for (char c : message) bytes.Feed(absl::string_view(&c, 1));
  ExpectSameBodies(bytes.Finish(), whole, "byte by byte");
}

TEST(MessageReaderChunkingTest, LongTextWithBeginLinesDeepInsideChunks) {
  // Lines far apart, so that the scans run over many 16-byte blocks
  // before they meet a line that starts with 'b' or '-'.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += std::string(static_cast<size_t>(37 + i), static_cast<char>('a' + i % 26)) + "\r\n";
    if (i % 7 == 3) text += "before begin\r\n";
    if (i % 11 == 5) text += "- dash line\r\n";
    if (i == 20) text += "begin 644 mid.txt\r\n#0V%T\r\nend\r\n";
  }
  const std::string message = "Subject: long\r\n\r\n" + text;
  const MessageRecord whole = ReadMessage(message);
  ASSERT_EQ(whole.attachments.size(), 1u);
  EXPECT_EQ(whole.attachments[0].size, 3u);
  ASSERT_TRUE(whole.text_body.has_value());
  EXPECT_EQ(whole.text_body->find("begin 644"), std::string::npos);
  EXPECT_NE(whole.text_body->find("\nbefore begin\n"), std::string::npos);
  EXPECT_EQ(whole.text_body->find('\r'), std::string::npos);
  for (size_t chunk : {3, 16, 17, 61, 500}) {
    MessageReader reader;
    for (size_t at = 0; at < message.size(); at += chunk) {
      reader.Feed(absl::string_view(message).substr(at, chunk));
    }
    ExpectSameBodies(reader.Finish(), whole, "chunks of " + std::to_string(chunk));
  }
}

// ------------------------------------------------------------ absent headers

TEST(MessageReaderTest, TellsAbsentHeadersFromEmptyOnes) {
  MessageRecord none = ReadMessage("X-Other: 1\r\n\r\nbody\r\n");
  EXPECT_FALSE(none.present.subject);
  EXPECT_FALSE(none.present.from);
  EXPECT_FALSE(none.present.to);
  EXPECT_FALSE(none.present.cc);
  EXPECT_FALSE(none.present.bcc);
  EXPECT_FALSE(none.present.sender);
  EXPECT_FALSE(none.present.reply_to);
  EXPECT_FALSE(none.present.date);
  EXPECT_FALSE(none.present.message_id);
  EXPECT_FALSE(none.present.in_reply_to);
  EXPECT_FALSE(none.present.references);
  MessageRecord empty = ReadMessage(
      "Subject:\r\nFrom: \r\nTo: undisclosed-recipients:;\r\nCc:\r\nBcc:\r\nSender:\r\n"
      "Reply-To:\r\nDate:\r\nMessage-ID:\r\nIn-Reply-To:\r\nReferences:\r\n\r\nbody\r\n");
  EXPECT_TRUE(empty.present.subject);
  EXPECT_EQ(empty.subject, "");
  EXPECT_TRUE(empty.present.from);
  EXPECT_TRUE(empty.present.to);
  EXPECT_TRUE(empty.present.cc);
  EXPECT_TRUE(empty.present.bcc);
  EXPECT_TRUE(empty.present.sender);
  EXPECT_TRUE(empty.present.reply_to);
  EXPECT_TRUE(empty.present.date);
  EXPECT_FALSE(empty.date.utc.has_value());
  EXPECT_TRUE(empty.present.message_id);
  EXPECT_EQ(empty.message_id, "");
  EXPECT_TRUE(empty.present.in_reply_to);
  EXPECT_TRUE(empty.present.references);
  EXPECT_TRUE(empty.references.empty());
  // Header fields of enclosed messages and parts do not count.
  MessageRecord inner = ReadMessage(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nSubject: "
      "part\r\n\r\nx\r\n--b--\r\n");
  EXPECT_FALSE(inner.present.subject);
}

}  // namespace
}  // namespace imap::mime
