#include "imap/mime/content_type.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::mime {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr absl::string_view kWhere = "part 1 header";

std::vector<std::string> Whats(const Defects& d) {
  std::vector<std::string> out;
  for (const Defect& x : d) {
    EXPECT_EQ(x.where, kWhere);
    out.push_back(x.what);
  }
  return out;
}

struct Parsed {
  ContentType ct;
  std::vector<std::string> defects;
};

Parsed Type(absl::string_view value) {
  Defects d;
  Parsed p;
  p.ct = ParseContentType(value, &d, kWhere);
  p.defects = Whats(d);
  return p;
}

// ------------------------------------------------------------ media types

TEST(ContentTypeTest, TypeSubtypeAndParameters) {
  Parsed p = Type("text/plain; charset=us-ascii");
  EXPECT_EQ(p.ct.type, "text");
  EXPECT_EQ(p.ct.subtype, "plain");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "us-ascii")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(ContentTypeTest, LowerCasesTypeAndNamesButNotValues) {
  Parsed p = Type("TEXT/HTML; CharSet=\"UTF-8\"; Name=Report.HTML");
  EXPECT_EQ(p.ct.MediaType(), "text/html");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "UTF-8"), Pair("name", "Report.HTML")));
  ASSERT_NE(p.ct.Param("CHARSET"), nullptr);
  EXPECT_EQ(*p.ct.Param("CHARSET"), "UTF-8");
  EXPECT_EQ(p.ct.Param("format"), nullptr);
  EXPECT_TRUE(p.ct.Is("text", "html"));
}

TEST(ContentTypeTest, FoldedValueWithComments) {
  Parsed p = Type("text/plain (body)\r\n\t; charset=us-ascii (Plain text) ;\r\n format=flowed");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "us-ascii"), Pair("format", "flowed")));
  EXPECT_THAT(p.defects, IsEmpty());
  // Only a comment after white space is a comment.
  EXPECT_THAT(Type("application/pdf; name=file(1).pdf").ct.params,
              ElementsAre(Pair("name", "file(1).pdf")));
}

TEST(ContentTypeTest, EmptyOrBrokenTypeBecomesTextPlain) {
  Parsed p = Type("");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.defects, ElementsAre("empty Content-Type; text/plain assumed"));
  p = Type("foo; charset=utf-8");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "utf-8")));
  EXPECT_THAT(p.defects, ElementsAre("invalid Content-Type 'foo'; text/plain assumed"));
  p = Type("/plain");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.defects, ElementsAre("invalid Content-Type '/plain'; text/plain assumed"));
  p = Type("image/jp\xe9g");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.defects, ElementsAre("invalid Content-Type 'image/jp?g'; text/plain assumed"));
  p = Type(";");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.defects, ElementsAre("empty Content-Type; text/plain assumed"));
}

TEST(ContentTypeTest, TypeWithoutSubtype) {
  Parsed p = Type("text; charset=iso-8859-1");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "iso-8859-1")));
  EXPECT_THAT(p.defects, ElementsAre("Content-Type 'text' without subtype; text/plain assumed"));
  p = Type("text/");
  EXPECT_EQ(p.ct.MediaType(), "text/plain");
  EXPECT_THAT(p.defects, ElementsAre("Content-Type 'text' without subtype; text/plain assumed"));
  p = Type("multipart; boundary=x");
  EXPECT_EQ(p.ct.MediaType(), "multipart/mixed");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("boundary", "x")));
  EXPECT_THAT(p.defects,
              ElementsAre("Content-Type 'multipart' without subtype; multipart/mixed assumed"));
}

TEST(ContentTypeTest, EmptyParametersAndTrailingSemicolons) {
  Parsed p = Type("multipart/mixed;; boundary=\"b\";");
  EXPECT_EQ(p.ct.MediaType(), "multipart/mixed");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("boundary", "b")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(ContentTypeTest, QuotedStringsWithEscapesAndSpecials) {
  Parsed p = Type(R"(application/x-test; a="x \"y\" \\z"; b="semi;colon"; c="")");
  EXPECT_THAT(p.ct.params,
              ElementsAre(Pair("a", "x \"y\" \\z"), Pair("b", "semi;colon"), Pair("c", "")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(ContentTypeTest, UnterminatedQuote) {
  Parsed p = Type("text/plain; name=\"abc; charset=x");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "abc; charset=x")));
  EXPECT_THAT(p.defects, ElementsAre("unterminated quoted value of parameter 'name'"));
}

TEST(ContentTypeTest, DuplicateParametersFirstWins) {
  Parsed p = Type("text/plain; charset=us-ascii; CHARSET=utf-8");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "us-ascii")));
  EXPECT_THAT(p.defects, ElementsAre("duplicate parameter 'charset'; the first is used"));
}

TEST(ContentTypeTest, MissingSemicolons) {
  Parsed p = Type("multipart/mixed\tboundary=\"b\"");
  EXPECT_EQ(p.ct.MediaType(), "multipart/mixed");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("boundary", "b")));
  EXPECT_THAT(p.defects, ElementsAre("missing ';' before the parameters"));
  p = Type("text/plain; charset=us-ascii name=x.txt; format=\"flowed\" delsp=yes");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "us-ascii"), Pair("name", "x.txt"),
                                       Pair("format", "flowed"), Pair("delsp", "yes")));
  EXPECT_THAT(p.defects, ElementsAre("missing ';' after parameter 'charset'",
                                     "missing ';' after parameter 'format'"));
}

TEST(ContentTypeTest, JunkAfterTypeOrValue) {
  Parsed p = Type("text/html junk; charset=utf-8");
  EXPECT_EQ(p.ct.MediaType(), "text/html");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "utf-8")));
  EXPECT_THAT(p.defects, ElementsAre("junk after the media type ignored: 'junk; charset=utf-8'"));
  p = Type("text/html; charset=\"utf-8\" junk; format=flowed");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("charset", "utf-8"), Pair("format", "flowed")));
  EXPECT_THAT(p.defects, ElementsAre("text after the quoted value of parameter 'charset' ignored"));
  p = Type("text/html; charset; format=flowed");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("format", "flowed")));
  EXPECT_THAT(p.defects, ElementsAre("parameter 'charset' without a value ignored"));
}

TEST(ContentTypeTest, UnquotedValuesWithSpacesAreTolerated) {
  Parsed p = Type("text/plain; name=This is a test.txt");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "This is a test.txt")));
  EXPECT_THAT(p.defects, ElementsAre("unquoted value of parameter 'name' contains spaces"));
}

TEST(ContentTypeTest, BoundariesAreKeptByteForByte) {
  EXPECT_THAT(
      Type("multipart/mixed; boundary=----=_Part_13069834_15179892.1376435426074").ct.params,
      ElementsAre(Pair("boundary", "----=_Part_13069834_15179892.1376435426074")));
  // Not decoded as an encoded word, not converted from 8-bit.
  EXPECT_THAT(Type("multipart/mixed; boundary=\"=?utf-8?q?x?= \xff\"").ct.params,
              ElementsAre(Pair("boundary", "=?utf-8?q?x?= \xff")));
}

// ------------------------------------------------------------ RFC 2231

TEST(Rfc2231Test, CharsetAndLanguage) {
  // RFC 2231 section 4.
  Parsed p = Type("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("title", "This is ***fun***")));
  EXPECT_THAT(p.defects, IsEmpty());
  p = Type("application/pdf; name*=utf-8''%E2%82%AC%20rates.pdf");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "\xe2\x82\xac rates.pdf")));
  p = Type("application/pdf; name*=ISO-8859-1''Fu%DFball.pdf");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name",
                                            "Fu\xc3\x9f"
                                            "ball.pdf")));
  p = Type("application/pdf; name*=windows-1252''%80.pdf");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "\xe2\x82\xac.pdf")));
}

TEST(Rfc2231Test, Continuations) {
  // RFC 2231 section 3.
  Parsed p = Type(
      "message/external-body; access-type=URL;\r\n"
      " URL*0=\"ftp://\";\r\n"
      " URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
  EXPECT_THAT(p.ct.params,
              ElementsAre(Pair("access-type", "URL"),
                          Pair("url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar")));
  EXPECT_THAT(p.defects, IsEmpty());
  // RFC 2231 section 4.1: encoded and plain sections mixed.
  p = Type(
      "application/x-stuff;\r\n"
      " title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
      " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
      " title*2=\"isn't it!\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("title", "This is even more ***fun*** isn't it!")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc2231Test, MultibyteCharacterSplitAcrossSections) {
  Parsed p = Type("text/plain; name*0*=utf-8''%E2%82; name*1*=%AC.txt");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "\xe2\x82\xac.txt")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc2231Test, OutOfOrderSectionsAreSorted) {
  // Parameters may be reordered in transit (RFC 2231 section 3).
  Parsed p = Type("text/plain; name*2=\"c.txt\"; name*0*=utf-8''a%20; name*1=b");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "a bc.txt")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc2231Test, GapsAndDuplicates) {
  Parsed p = Type("text/plain; name*0=a; name*2=c; name*0=x");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "ac")));
  EXPECT_THAT(p.defects,
              ElementsAre("duplicate parameter 'name*0'; the first is used",
                          "RFC 2231 sections of parameter 'name' are not 0, 1, 2, ...; joined in "
                          "order"));
}

TEST(Rfc2231Test, ExtendedFormWinsOverPlainForm) {
  Parsed p = Type("text/plain; name=\"fallback.txt\"; name*=utf-8''real.txt");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "real.txt")));
  EXPECT_THAT(p.defects, IsEmpty());
}

TEST(Rfc2231Test, BadPercentEscapeAndMissingCharset) {
  Parsed p = Type("text/plain; name*=100%25%zz.txt");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "100%%zz.txt")));
  EXPECT_THAT(p.defects, ElementsAre("invalid %-escape in parameter 'name' kept"));
}

TEST(Rfc2231Test, UnsupportedCharsetIsReportedAndReadLeniently) {
  // An invalid byte in iso-2022-jp (from the corpus) becomes U+FFFD.
  Parsed p = Type("application/octet-stream; name*=iso-2022-jp'ja'Dij%8aat.mp3");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name",
                                            "Dij\xef\xbf\xbd"
                                            "at.mp3")));
  EXPECT_EQ(p.defects.size(), 1u);
}

// ------------------------------------------------------------ RFC 2047 in values

TEST(EncodedWordParamTest, QuotedAndUnquoted) {
  Parsed p = Type("application/pdf; name=\"=?utf-8?B?VGhpcyBpcyBhIHRlc3QucGRm?=\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "This is a test.pdf")));
  EXPECT_THAT(p.defects, IsEmpty());
  p = Type("application/pdf; name==?utf-8?B?VGhpcyBpcyBhIHRlc3QucGRm?=");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "This is a test.pdf")));
  EXPECT_THAT(p.defects, IsEmpty());
  p = Type("application/pdf; name=\"=?ISO-8859-1?Q?Fu=DFball_2.pdf?=\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name",
                                            "Fu\xc3\x9f"
                                            "ball 2.pdf")));
}

TEST(EncodedWordParamTest, AdjacentWordsJoinAcrossSplitCharacters) {
  // The euro sign's bytes are split over two words; the space between
  // words is dropped, text around them is kept.
  Parsed p = Type("text/plain; name=\"rates =?utf-8?B?4oI=?=\r\n =?UTF-8?B?rA==?=.txt\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "rates \xe2\x82\xac.txt")));
  // RFC 2047 section 5: ".txt" should have been separated from the word.
  EXPECT_THAT(p.defects, ElementsAre(::testing::HasSubstr("not separated")));
}

TEST(EncodedWordParamTest, WordsSplitOverRfc2231Sections) {
  Parsed p = Type("text/plain; name*0=\"=?UTF-8?B?4oKsIHJhdGVz\"; name*1=\"LnR4dA==?=\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "\xe2\x82\xac rates.txt")));
}

TEST(EncodedWordParamTest, NotAnEncodedWordStaysAsIs) {
  EXPECT_THAT(Type("text/plain; name=\"a=?b.txt\"").ct.params,
              ElementsAre(Pair("name", "a=?b.txt")));
  EXPECT_THAT(Type("text/plain; name=\"=?utf-8?X?abc?=\"").ct.params,
              ElementsAre(Pair("name", "=?utf-8?X?abc?=")));
}

TEST(EightBitParamTest, RawUtf8KeptOtherBytesReadAsWindows1252) {
  Parsed p = Type(
      "text/plain; name=\"ci\xc3\xab"
      "le.txt\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name",
                                            "ci\xc3\xab"
                                            "le.txt")));
  EXPECT_THAT(p.defects, IsEmpty());
  p = Type("text/plain; name=\"caf\xe9 \x80.txt\"");
  EXPECT_THAT(p.ct.params, ElementsAre(Pair("name", "caf\xc3\xa9 \xe2\x82\xac.txt")));
  EXPECT_THAT(p.defects,
              ElementsAre("8-bit bytes that are not UTF-8 in a parameter; read as windows-1252"));
}

// ------------------------------------------------------------ Content-Disposition

TEST(ContentDispositionTest, TypeAndFilename) {
  Defects d;
  ContentDisposition cd =
      ParseContentDisposition("Attachment; FileName=\"a b.txt\"; size=12", &d, kWhere);
  EXPECT_EQ(cd.type, "attachment");
  EXPECT_THAT(cd.params, ElementsAre(Pair("filename", "a b.txt"), Pair("size", "12")));
  EXPECT_THAT(d, IsEmpty());
  cd = ParseContentDisposition("INLINE", &d, kWhere);
  EXPECT_EQ(cd.type, "inline");
  EXPECT_THAT(cd.params, IsEmpty());
  EXPECT_THAT(d, IsEmpty());
}

TEST(ContentDispositionTest, RepairsMissingTypeAndSemicolon) {
  Defects d;
  ContentDisposition cd = ParseContentDisposition("filename=\"a.txt\"", &d, kWhere);
  EXPECT_EQ(cd.type, "");
  EXPECT_THAT(cd.params, ElementsAre(Pair("filename", "a.txt")));
  EXPECT_THAT(Whats(d), ElementsAre("Content-Disposition without a type"));
  d.clear();
  cd = ParseContentDisposition("attachment filename=a.txt", &d, kWhere);
  EXPECT_EQ(cd.type, "attachment");
  EXPECT_THAT(cd.params, ElementsAre(Pair("filename", "a.txt")));
  EXPECT_THAT(Whats(d), ElementsAre("missing ';' before the parameters"));
  d.clear();
  cd = ParseContentDisposition("; filename=a.txt", &d, kWhere);
  EXPECT_EQ(cd.type, "");
  EXPECT_THAT(cd.params, ElementsAre(Pair("filename", "a.txt")));
  EXPECT_THAT(Whats(d), ElementsAre("Content-Disposition without a type"));
  d.clear();
  cd = ParseContentDisposition("\"attachment\"; filename=a.txt", &d, kWhere);
  EXPECT_EQ(cd.type, "");
  EXPECT_THAT(cd.params, ElementsAre(Pair("filename", "a.txt")));
  EXPECT_THAT(Whats(d), ElementsAre("invalid Content-Disposition type '\"attachment\"' ignored"));
}

TEST(PartFileNameTest, DispositionFirstThenName) {
  Defects d;
  ContentType ct = ParseContentType("application/pdf; name=\"from-type.pdf\"", &d, kWhere);
  ContentDisposition cd =
      ParseContentDisposition("attachment; filename=\" from-disposition.pdf \"", &d, kWhere);
  EXPECT_EQ(PartFileName(ct, cd), "from-disposition.pdf");
  EXPECT_EQ(PartFileName(ct, ContentDisposition()), "from-type.pdf");
  EXPECT_EQ(PartFileName(ContentType(), ContentDisposition()), absl::nullopt);
  cd = ParseContentDisposition("attachment; filename=\"\"", &d, kWhere);
  EXPECT_EQ(PartFileName(ContentType(), cd), "");
  EXPECT_THAT(d, IsEmpty());
}

// ------------------------------------------------------------ transfer encodings

TEST(TransferEncodingTest, CanonicalNames) {
  struct Case {
    const char* value;
    TransferEncoding want;
  };
  for (const Case& c :
       {Case{"7bit", TransferEncoding::k7Bit}, Case{"8BIT", TransferEncoding::k8Bit},
        Case{"Binary", TransferEncoding::kBinary}, Case{" base64 ", TransferEncoding::kBase64},
        Case{"Quoted-Printable", TransferEncoding::kQuotedPrintable},
        Case{"base64\r\n ", TransferEncoding::kBase64},
        Case{"(RFC 2045 allows comments) base64 (here)", TransferEncoding::kBase64},
        Case{"x-uuencode", TransferEncoding::kUuencode}, Case{"X-UUE", TransferEncoding::kUuencode},
        Case{"uuencode", TransferEncoding::kUuencode},
        Case{"x-uuencoded", TransferEncoding::kUuencode}}) {
    Defects d;
    EXPECT_EQ(ParseTransferEncoding(c.value, &d, kWhere), c.want) << c.value;
    EXPECT_THAT(d, IsEmpty()) << c.value;
  }
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kQuotedPrintable), "quoted-printable");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::k7Bit), "7bit");
  EXPECT_EQ(TransferEncodingName(TransferEncoding::kUuencode), "x-uuencode");
}

TEST(TransferEncodingTest, ToleratedVariants) {
  struct Case {
    const char* value;
    TransferEncoding want;
    const char* defect;
  };
  for (const Case& c : {
           Case{"7-bit", TransferEncoding::k7Bit, "Content-Transfer-Encoding '7-bit' read as 7bit"},
           Case{"8bits", TransferEncoding::k8Bit, "Content-Transfer-Encoding '8bits' read as 8bit"},
           Case{"quoted printable", TransferEncoding::kQuotedPrintable,
                "Content-Transfer-Encoding 'quoted printable' read as quoted-printable"},
           Case{"quoted-printable;", TransferEncoding::kQuotedPrintable,
                "Content-Transfer-Encoding 'quoted-printable;' read as quoted-printable"},
           Case{"\"base64\"", TransferEncoding::kBase64,
                "Content-Transfer-Encoding '\"base64\"' read as base64"},
           Case{"", TransferEncoding::k7Bit, "empty Content-Transfer-Encoding; read as 7bit"},
           Case{"plain", TransferEncoding::k7Bit,
                "unknown Content-Transfer-Encoding 'plain'; read as 7bit"},
           Case{"text/html", TransferEncoding::k7Bit,
                "unknown Content-Transfer-Encoding 'text/html'; read as 7bit"},
           Case{"x-foo", TransferEncoding::k7Bit,
                "unknown Content-Transfer-Encoding 'x-foo'; read as 7bit"},
           Case{"X_UUencode", TransferEncoding::kUuencode,
                "Content-Transfer-Encoding 'X_UUencode' read as x-uuencode"},
           Case{"uue", TransferEncoding::kUuencode,
                "Content-Transfer-Encoding 'uue' read as x-uuencode"},
       }) {
    Defects d;
    EXPECT_EQ(ParseTransferEncoding(c.value, &d, kWhere), c.want) << c.value;
    EXPECT_THAT(Whats(d), ElementsAre(c.defect)) << c.value;
  }
}

TEST(TransferEncodingTest, NullDefectsAllowed) {
  EXPECT_EQ(ParseTransferEncoding("x-foo", nullptr, kWhere), TransferEncoding::k7Bit);
  EXPECT_EQ(ParseContentType("bad", nullptr, kWhere).MediaType(), "text/plain");
}

// ------------------------------------------------------------ robustness

TEST(ContentTypeTest, RandomInputIsAlwaysRepaired) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab/;=\"\\()*'%0 \t\r\n?=\x80\xff";
  for (int round = 0; round < 3000; ++round) {
    std::string v;
    size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) v.push_back(alphabet[rng() % alphabet.size()]);
    Defects d;
    ContentType ct = ParseContentType(v, &d, kWhere);
    EXPECT_FALSE(ct.type.empty());
    EXPECT_FALSE(ct.subtype.empty());
    ParseContentDisposition(v, &d, kWhere);
    ParseTransferEncoding(v, &d, kWhere);
  }
}

// A value on one line is read in place; line breaks anywhere else,
// quoted values included, are removed first.
TEST(ContentTypeTest, LineBreaksAreRemovedEverywhere) {
  Parsed one = Type("text/plain; charset=\"utf-8\"; format=flowed");
  EXPECT_THAT(one.ct.params, ElementsAre(Pair("charset", "utf-8"), Pair("format", "flowed")));
  EXPECT_THAT(one.defects, IsEmpty());
  Parsed folded = Type("multi\r\npart/mixed;\r\n boundary=\"ab\r\n\tcd\"; x=1\n2");
  EXPECT_EQ(folded.ct.MediaType(), "multipart/mixed");
  EXPECT_THAT(folded.ct.params, ElementsAre(Pair("boundary", "ab\tcd"), Pair("x", "12")));
  EXPECT_THAT(folded.defects, IsEmpty());
  Defects d;
  EXPECT_EQ(ParseTransferEncoding("quoted-\r\nprintable", &d, kWhere),
            TransferEncoding::kQuotedPrintable);
  EXPECT_EQ(ParseContentDisposition("attach\r\nment; filename=a\r\n.txt", &d, kWhere).type,
            "attachment");
  EXPECT_THAT(d, IsEmpty());
}

}  // namespace
}  // namespace imap::mime
