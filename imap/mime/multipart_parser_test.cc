#include "imap/mime/multipart_parser.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// ---------------------------------------------------------------- heap accounting
//
// The streaming test checks that the parser's memory does not grow with a
// body's size, so this binary counts the bytes live on the heap.

namespace {

std::atomic<int64_t> g_live_bytes{0};
std::atomic<int64_t> g_peak_bytes{0};
constexpr size_t kHeaderRoom = alignof(std::max_align_t);

void* CountedAlloc(size_t n) {
  void* p = std::malloc(n + kHeaderRoom);
  if (p == nullptr) return nullptr;
  *static_cast<size_t*>(p) = n;
  int64_t live = g_live_bytes.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t peak = g_peak_bytes.load();
  while (live > peak && !g_peak_bytes.compare_exchange_weak(peak, live)) {
  }
  return static_cast<char*>(p) + kHeaderRoom;
}

void CountedFree(void* p) {
  if (p == nullptr) return;
  char* base = static_cast<char*>(p) - kHeaderRoom;
  g_live_bytes.fetch_sub(static_cast<int64_t>(*reinterpret_cast<size_t*>(base)));
  std::free(base);
}

}  // namespace

void* operator new(size_t n) {
  void* p = CountedAlloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void operator delete(void* p) noexcept { CountedFree(p); }
void operator delete[](void* p) noexcept { CountedFree(p); }
void operator delete(void* p, size_t) noexcept { CountedFree(p); }
void operator delete[](void* p, size_t) noexcept { CountedFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { CountedFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { CountedFree(p); }

namespace imap::mime {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::string HexOf(const unsigned char* md, unsigned int n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return HexOf(md, n);
}

// Shows bytes in a log line: CR and LF as \r and \n, other controls and
// 8-bit bytes as \xNN.
std::string Escape(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7F) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// Records the events as a log:
//   "B <label> <media type>"   OnPartBegin
//   "E <label> <data>"         OnPartEnd, with all the entity's data
//   "! <where>: <what>"        OnDefect
// Data goes in the end line because its chunks depend on how the input
// was split.
class Recorder : public MultipartHandler {
 public:
  struct Entity {
    PartInfo info;  // as at OnPartEnd
    std::string data;
  };

  void OnPartBegin(const PartInfo& part) override {
    log.push_back(absl::StrCat("B ", part.Label(), " ", part.content_type.MediaType()));
    open_.push_back(entities.size());
    entities.push_back({part, ""});
  }

  void OnPartData(const PartInfo& part, absl::string_view data) override {
    EXPECT_FALSE(data.empty());
    Entity* e = Find(part);
    ASSERT_NE(e, nullptr) << "data for an entity that is not open: " << part.Label();
    e->data.append(data.data(), data.size());
    EXPECT_EQ(part.decoded_size, e->data.size());
  }

  void OnPartEnd(const PartInfo& part) override {
    ASSERT_FALSE(open_.empty());
    Entity& e = entities[open_.back()];
    EXPECT_EQ(e.info.Label(), part.Label()) << "entities must nest";
    EXPECT_EQ(part.decoded_size, e.data.size());
    e.info = part;
    open_.pop_back();
    log.push_back(absl::StrCat("E ", part.Label(), " ", Escape(e.data)));
  }

  void OnDefect(const Defect& d) override {
    log.push_back(absl::StrCat("! ", d.where, ": ", d.what));
  }

  // Returns the first entity begun with this label, or nullptr.
  const Entity* Get(absl::string_view label) const {
    for (const Entity& e : entities) {
      if (e.info.Label() == label) return &e;
    }
    return nullptr;
  }

  std::vector<std::string> log;
  std::vector<Entity> entities;  // in begin order

 private:
  Entity* Find(const PartInfo& part) {
    for (size_t k = open_.size(); k-- > 0;) {
      Entity& e = entities[open_[k]];
      if (e.info.path == part.path && e.info.kind == part.kind) return &e;
    }
    return nullptr;
  }

  std::vector<size_t> open_;
};

// Feeds `msg` in pieces of `chunk` bytes (0: random sizes from `seed`).
void Parse(absl::string_view msg, size_t chunk, unsigned seed, const MultipartOptions& options,
           Recorder* r) {
  MultipartParser parser(r, options);
  std::mt19937 rng(seed);
  size_t i = 0;
  while (i < msg.size()) {
    size_t n = chunk != 0 ? chunk : 1 + rng() % 23;
    n = std::min(n, msg.size() - i);
    parser.Feed(msg.substr(i, n));
    i += n;
  }
  parser.Finish();
  EXPECT_TRUE(r->log.empty() || r->log.back().rfind("E ", 0) == 0 ||
              r->log.back().rfind("! ", 0) == 0);
}

// Walks `msg` whole, byte by byte and in random pieces: all must log the
// same. Returns the recorder of the whole run.
Recorder Walk(absl::string_view msg, const MultipartOptions& options = {}) {
  Recorder whole;
  Parse(msg, msg.size() + 1, 0, options, &whole);
  Recorder bytes;
  Parse(msg, 1, 0, options, &bytes);
  EXPECT_THAT(bytes.log, ElementsAreArray(whole.log)) << "byte by byte";
  for (unsigned seed = 1; seed <= 4; ++seed) {
    Recorder random;
    Parse(msg, 0, seed, options, &random);
    EXPECT_THAT(random.log, ElementsAreArray(whole.log)) << "random pieces, seed " << seed;
  }
  return whole;
}

// ------------------------------------------------------------ structure

TEST(MultipartParserTest, SinglePartMessage) {
  Recorder r = Walk(
      "From: a@example.com\r\n"
      "Subject: hello\r\n"
      "  world\r\n"
      "\r\n"
      "Hello\r\n"
      "World\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message text/plain", "E message Hello\\r\\nWorld\\r\\n"));
  const PartInfo& m = r.entities[0].info;
  EXPECT_EQ(m.kind, PartInfo::Kind::kMessage);
  EXPECT_EQ(m.path, "");
  EXPECT_EQ(m.depth, 0);
  EXPECT_EQ(m.raw_header, "From: a@example.com\r\nSubject: hello\r\n  world\r\n");
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.fields[0].name, "From");
  EXPECT_EQ(m.fields[0].value, "a@example.com");
  EXPECT_EQ(m.fields[1].name, "Subject");
  EXPECT_EQ(m.fields[1].value, "hello  world");
  EXPECT_TRUE(m.content_type_defaulted);
  EXPECT_EQ(m.encoding, TransferEncoding::k7Bit);
  EXPECT_EQ(m.BodySection(), "1");
  EXPECT_EQ(m.decoded_size, 14u);
  EXPECT_FALSE(m.IsMultipart());
}

TEST(MultipartParserTest, MessageWithoutBody) {
  EXPECT_THAT(Walk("Subject: only a header\r\n").log,
              ElementsAre("B message text/plain", "E message "));
  EXPECT_THAT(Walk("").log, ElementsAre("B message text/plain", "E message "));
}

constexpr absl::string_view kMixed =
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "This is the preamble.\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Part one.\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "\r\n"
    "AAEC\r\n"
    "/w==\r\n"
    "--b1--\r\n"
    "This is the epilogue.\r\n"
    "--b1\r\n"
    "Not a part.\r\n";

TEST(MultipartParserTest, PartsPreambleAndEpilogue) {
  Recorder r = Walk(kMixed);
  // The line end before each boundary belongs to the boundary; the
  // epilogue is dropped; the preamble is the multipart's data.
  EXPECT_THAT(r.log,
              ElementsAre("B message multipart/mixed", "B part 1 text/plain",
                          "E part 1 Part one.\\r\\n", "B part 2 application/octet-stream",
                          "E part 2 \\x00\\x01\\x02\\xff", "E message This is the preamble."));
  const PartInfo& root = r.entities[0].info;
  EXPECT_TRUE(root.IsMultipart());
  EXPECT_EQ(root.parts, 2u);
  EXPECT_EQ(root.BodySection(), "TEXT");
  const PartInfo& p2 = r.Get("part 2")->info;
  EXPECT_EQ(p2.path, "2");
  EXPECT_EQ(p2.depth, 1);
  EXPECT_EQ(p2.encoding, TransferEncoding::kBase64);
  EXPECT_EQ(p2.disposition.type, "attachment");
  EXPECT_EQ(PartFileName(p2.content_type, p2.disposition), "data.bin");
  EXPECT_EQ(p2.BodySection(), "2");
  EXPECT_EQ(p2.raw_header,
            "Content-Type: application/octet-stream\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=\"data.bin\"\r\n");
}

std::string ToLf(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out.push_back(c);
  }
  return out;
}

TEST(MultipartParserTest, LfOnlyLineEnds) {
  Recorder r = Walk(ToLf(kMixed));
  EXPECT_THAT(r.log,
              ElementsAre("B message multipart/mixed", "B part 1 text/plain",
                          "E part 1 Part one.\\n", "B part 2 application/octet-stream",
                          "E part 2 \\x00\\x01\\x02\\xff", "E message This is the preamble."));
}

TEST(MultipartParserTest, NestedMultipartsAreNumberedLikeImapSections) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=outer\r\n"
      "\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=alt\r\n"
      "\r\n"
      "--alt\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "plain\r\n"
      "--alt\r\n"
      "Content-Type: multipart/related; boundary=rel; type=\"text/html\"\r\n"
      "\r\n"
      "--rel\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<img src=cid:x>\r\n"
      "--rel\r\n"
      "Content-Type: image/png\r\n"
      "Content-ID: <x>\r\n"
      "\r\n"
      "PNG\r\n"
      "--rel--\r\n"
      "--alt--\r\n"
      "--outer\r\n"
      "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=sig\r\n"
      "\r\n"
      "--sig\r\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=rep\r\n"
      "\r\n"
      "--rep\r\n"
      "Content-Type: message/delivery-status\r\n"
      "\r\n"
      "Action: failed\r\n"
      "--rep--\r\n"
      "--sig\r\n"
      "Content-Type: application/pgp-signature\r\n"
      "\r\n"
      "SIG\r\n"
      "--sig--\r\n"
      "--outer--\r\n");
  EXPECT_THAT(
      r.log,
      ElementsAre(
          "B message multipart/mixed", "B part 1 multipart/alternative", "B part 1.1 text/plain",
          "E part 1.1 plain", "B part 1.2 multipart/related", "B part 1.2.1 text/html",
          "E part 1.2.1 <img src=cid:x>", "B part 1.2.2 image/png", "E part 1.2.2 PNG",
          "E part 1.2 ", "E part 1 ", "B part 2 multipart/signed", "B part 2.1 multipart/report",
          "B part 2.1.1 message/delivery-status", "E part 2.1.1 Action: failed", "E part 2.1 ",
          "B part 2.2 application/pgp-signature", "E part 2.2 SIG", "E part 2 ", "E message "));
  EXPECT_EQ(r.Get("part 1.2.2")->info.depth, 3);
}

TEST(MultipartParserTest, MessageRfc822PartsAreWalked) {
  constexpr absl::string_view kInner =
      "Subject: inner\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n"
      "\r\n"
      "--inner\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "inner text\r\n"
      "--inner\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<p>inner</p>\r\n"
      "--inner--";
  Recorder r =
      Walk(absl::StrCat("Content-Type: multipart/mixed; boundary=outer\r\n"
                        "\r\n"
                        "--outer\r\n"
                        "Content-Type: text/plain\r\n"
                        "\r\n"
                        "See attached.\r\n"
                        "--outer\r\n"
                        "Content-Type: message/rfc822\r\n"
                        "\r\n",
                        kInner,
                        "\r\n"
                        "--outer\r\n"
                        "Content-Type: message/rfc822\r\n"
                        "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n"
                        "\r\n"
                        "Subject: single\r\n"
                        "\r\n"
                        "just text\r\n"
                        "--outer--\r\n"));
  EXPECT_THAT(
      r.log,
      ElementsAre("B message multipart/mixed", "B part 1 text/plain", "E part 1 See attached.",
                  "B part 2 message/rfc822", "B message in part 2 multipart/alternative",
                  "B part 2.1 text/plain", "E part 2.1 inner text", "B part 2.2 text/html",
                  "E part 2.2 <p>inner</p>", "E message in part 2 ",
                  absl::StrCat("E part 2 ", Escape(kInner)), "B part 3 message/rfc822",
                  "B message in part 3 text/plain", "E message in part 3 just text",
                  "E part 3 Subject: single\\r\\n\\r\\njust text", "E message "));
  const Recorder::Entity* part2 = r.Get("part 2");
  EXPECT_TRUE(part2->info.EnclosesMessage());
  EXPECT_EQ(part2->info.BodySection(), "2");
  const PartInfo& msg2 = r.Get("message in part 2")->info;
  EXPECT_EQ(msg2.kind, PartInfo::Kind::kMessage);
  EXPECT_EQ(msg2.path, "2");
  EXPECT_EQ(msg2.depth, 2);
  EXPECT_EQ(msg2.BodySection(), "2.TEXT");
  EXPECT_EQ(r.Get("part 2.2")->info.depth, 3);
  EXPECT_EQ(r.Get("message in part 3")->info.BodySection(), "3.1");
}

TEST(MultipartParserTest, Base64EncodedMessageRfc822IsDecodedThenWalked) {
  // "Subject: x\r\n\r\nhi" in base64 (not allowed by RFC 2046, seen anyway).
  Recorder r = Walk(
      "Content-Type: message/rfc822\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "U3ViamVjdDogeA0KDQpoaQ==\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message message/rfc822",
                                 "! message header: transfer encoding 'base64' on a "
                                 "message/rfc822 part",
                                 "B message in part 1 text/plain", "E message in part 1 hi",
                                 "E message Subject: x\\r\\n\\r\\nhi"));
}

// ------------------------------------------------------------ boundaries

TEST(MultipartParserTest, BoundariesWithSpecials) {
  // Every character RFC 2046 allows in a boundary, and a space.
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=\"'()+_,-./:=? x\"\r\n"
      "\r\n"
      "--'()+_,-./:=? x\r\n"
      "\r\n"
      "one\r\n"
      "--'()+_,-./:=? x--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain", "E part 1 one",
                                 "E message "));
  // Unquoted with '=' as JavaMail and Outlook write it.
  r = Walk(
      "Content-Type: multipart/alternative; boundary=----=_Part_0_1.2\r\n"
      "\r\n"
      "------=_Part_0_1.2\r\n"
      "\r\n"
      "one\r\n"
      "------=_Part_0_1.2--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/alternative", "B part 1 text/plain",
                                 "E part 1 one", "E message "));
}

TEST(MultipartParserTest, SimilarBoundaries) {
  // The outer boundary is a prefix of the inner one.
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=abc\r\n"
      "\r\n"
      "--abc\r\n"
      "Content-Type: multipart/alternative; boundary=abcdef\r\n"
      "\r\n"
      "--abcdef\r\n"
      "\r\n"
      "one\r\n"
      "--abcdefg\r\n"
      "--abc-\r\n"
      "--abcdef--x\r\n"
      "still one\r\n"
      "--abcdef--\r\n"
      "--abc\r\n"
      "\r\n"
      "two\r\n"
      "--abc--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 multipart/alternative",
                                 "B part 1.1 text/plain",
                                 "E part 1.1 one\\r\\n--abcdefg\\r\\n--abc-\\r\\n--abcdef--x\\r\\n"
                                 "still one",
                                 "E part 1 ", "B part 2 text/plain", "E part 2 two", "E message "));
  // The inner boundary is a prefix of the outer one, and the inner
  // multipart is never closed: the outer boundary closes it.
  r = Walk(
      "Content-Type: multipart/mixed; boundary=abcdef\r\n"
      "\r\n"
      "--abcdef\r\n"
      "Content-Type: multipart/alternative; boundary=abc\r\n"
      "\r\n"
      "--abc\r\n"
      "\r\n"
      "one\r\n"
      "--abcdef\r\n"
      "\r\n"
      "two\r\n"
      "--abcdef--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 multipart/alternative",
                                 "B part 1.1 text/plain", "E part 1.1 one",
                                 "! part 1 body: close boundary missing before an outer boundary",
                                 "E part 1 ", "B part 2 text/plain", "E part 2 two", "E message "));
}

TEST(MultipartParserTest, BoundaryLinesWithTrailingWhiteSpace) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b \t\r\n"
      "\r\n"
      "one\r\n"
      "--b  \r\n"
      "\r\n"
      "two\r\n"
      "--b-- \t \r\n"
      "epilogue\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain", "E part 1 one",
                                 "B part 2 text/plain", "E part 2 two", "E message "));
}

TEST(MultipartParserTest, CloseBoundaryAtEndOfInputWithoutLineEnd) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "\n"
      "one\n"
      "--b--");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain", "E part 1 one",
                                 "E message "));
}

TEST(MultipartParserTest, MissingCloseBoundary) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "\r\n"
      "last line\r\n");
  // The end of the input closes everything; the last line end went with
  // the boundary that is missing.
  EXPECT_THAT(
      r.log,
      ElementsAre("B message multipart/mixed", "B part 1 text/plain", "E part 1 last line",
                  "! message body: close boundary missing at the end of the input", "E message "));
  // Cut inside a part's header.
  r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/ht");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/ht", "E part 1 ",
                                 "! message body: close boundary missing at the end of the input",
                                 "E message "));
}

TEST(MultipartParserTest, NoBoundaryLineAtAll) {
  Recorder r = Walk(
      "Content-Type: multipart/alternative; boundary=declared\r\n"
      "\r\n"
      "Plain text sent with the wrong type.\r\n"
      "--other\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/alternative",
                                 "! message body: no boundary line found; the multipart has no "
                                 "parts",
                                 "E message Plain text sent with the wrong type.\\r\\n--other"));
}

TEST(MultipartParserTest, MultipartWithoutBoundaryIsOpaque) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed\r\n"
      "\r\n"
      "--x\r\n"
      "body\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed",
                                 "! message header: multipart without a boundary; its body is "
                                 "not split",
                                 "E message --x\\r\\nbody\\r\\n"));
  EXPECT_TRUE(r.entities[0].info.opaque);
  EXPECT_FALSE(r.entities[0].info.IsMultipart());
}

TEST(MultipartParserTest, EmptyBoundary) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=\"\"\r\n"
      "\r\n"
      "--\r\n"
      "\r\n"
      "one\r\n"
      "----\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "! message header: empty boundary",
                                 "B part 1 text/plain", "E part 1 one", "E message "));
}

TEST(MultipartParserTest, LongLinesThatStartLikeBoundaries) {
  const std::string dashes(5000, '-');
  const std::string spaced = "--b" + std::string(3000, ' ');
  Recorder r = Walk(absl::StrCat("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n",
                                 dashes, "\r\n", spaced, "\r\n-", "\r\n--b--\r\n"));
  ASSERT_THAT(r.log, ::testing::SizeIs(4));
  EXPECT_EQ(r.Get("part 1")->data, absl::StrCat(dashes, "\r\n", spaced, "\r\n-"));
}

TEST(MultipartParserTest, DashesInsideLinesAndLinesStartingWithDashes) {
  // Dashes inside long lines, lines that start with one or two dashes but
  // are no boundary, a boundary that is a prefix of such lines, and a CR
  // right before a dash line: the body runs between them are found with
  // a whole-chunk scan, which must split nothing differently.
  std::string text;
  for (int i = 0; i < 12; ++i) {
    text += "well-known e-mail re-send -- not a line start -" + std::string(static_cast<size_t>(i), '-');
    text += i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
    if (i % 4 == 1) text += "- item\r\n--b but text\r\n--bx\r\n-\r\n";
  }
  text += "-\r\n";
  const std::string msg = absl::StrCat(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\npreamble-line\r\n-pre\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\n",
      text, "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
      text, "\r\n--b--\r\nepilogue\r\n--b\r\n");
  Recorder r = Walk(msg);
  ASSERT_NE(r.Get("part 1"), nullptr);
  // The line end before the boundary belongs to it.
  EXPECT_EQ(r.Get("part 1")->data, text.substr(0, text.size() - 2));
  ASSERT_NE(r.Get("part 2"), nullptr);
  EXPECT_EQ(r.Get("message")->info.parts, 2u);
  EXPECT_EQ(r.Get("message")->data, "preamble-line\r\n-pre");
  for (size_t a = 0; a <= msg.size(); ++a) {
    Recorder two;
    MultipartParser parser(&two);
    parser.Feed(absl::string_view(msg).substr(0, a));
    parser.Feed(absl::string_view(msg).substr(a));
    parser.Finish();
    ASSERT_THAT(two.log, ElementsAreArray(r.log)) << "split at " << a;
  }
}

// ------------------------------------------------------------ default types

TEST(MultipartParserTest, PartWithoutContentType) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "\r\n"
      "no header at all\r\n"
      "--b\r\n"
      "Content-Disposition: inline\r\n"
      "\r\n"
      "no type\r\n"
      "--b--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain",
                                 "E part 1 no header at all", "B part 2 text/plain",
                                 "E part 2 no type", "E message "));
  EXPECT_TRUE(r.Get("part 1")->info.content_type_defaulted);
  EXPECT_EQ(r.Get("part 1")->info.raw_header, "");
  EXPECT_EQ(r.Get("part 2")->info.disposition.type, "inline");
}

TEST(MultipartParserTest, DigestPartsDefaultToMessages) {
  Recorder r = Walk(
      "Content-Type: multipart/digest; boundary=d\r\n"
      "\r\n"
      "--d\r\n"
      "\r\n"
      "Subject: first\r\n"
      "\r\n"
      "body one\r\n"
      "--d\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "not a message\r\n"
      "--d--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/digest", "B part 1 message/rfc822",
                                 "B message in part 1 text/plain", "E message in part 1 body one",
                                 "E part 1 Subject: first\\r\\n\\r\\nbody one",
                                 "B part 2 text/plain", "E part 2 not a message", "E message "));
  EXPECT_TRUE(r.Get("part 1")->info.content_type_defaulted);
}

// ------------------------------------------------------------ headers

TEST(MultipartParserTest, PartHeaderEndedByBoundary) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/html\r\n"
      "--b\r\n"
      "--b--\r\n");
  EXPECT_THAT(r.log,
              ElementsAre("B message multipart/mixed", "B part 1 text/html",
                          "! part 1 header: header not ended by a blank line before the boundary",
                          "E part 1 ", "B part 2 text/plain",
                          "! part 2 header: header not ended by a blank line before the boundary",
                          "E part 2 ", "E message "));
}

TEST(MultipartParserTest, BodyWithoutBlankLine) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain\r\n"
      "Hello there\r\n"
      "second line\r\n"
      "--b\r\n"
      "Content-Type: text/plain\r\n"
      "Hello again\r\n"
      "--b--\r\n");
  const char* kDefect =
      "header not ended by a blank line; the body starts at a line that is not a header field";
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain",
                                 absl::StrCat("! part 1 header: ", kDefect),
                                 "E part 1 Hello there\\r\\nsecond line", "B part 2 text/plain",
                                 absl::StrCat("! part 2 header: ", kDefect), "E part 2 Hello again",
                                 "E message "));
  // A message that is all body.
  r = Walk("Hello world\nsecond line\n");
  EXPECT_THAT(r.log,
              ElementsAre("B message text/plain", absl::StrCat("! message header: ", kDefect),
                          "E message Hello world\\nsecond line\\n"));
}

TEST(MultipartParserTest, FoldedLineWithoutWhiteSpaceStaysInTheHeader) {
  Recorder r = Walk(
      "Subject: a long\r\n"
      "subject that lost its indent\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<p>x</p>");
  EXPECT_THAT(r.log, ElementsAre("B message text/html",
                                 "! message header: header line 2 has no colon; joined to the field before it",
                                 "E message <p>x</p>"));
  const PartInfo& m = r.entities[0].info;
  ASSERT_EQ(m.fields.size(), 2u);
  EXPECT_EQ(m.fields[0].value, "a long subject that lost its indent");
}

TEST(MultipartParserTest, MboxFromLineByteOrderMarkAndObsoleteSyntax) {
  Recorder r = Walk(
      "\xEF\xBB\xBF"
      "From MAILER-DAEMON Fri Jul  8 12:08:34 2011\r\n"
      "Subject : obsolete space before the colon\r\n"
      "\r\n"
      "body");
  EXPECT_THAT(r.log, ElementsAre("B message text/plain",
                                 "! message header: byte order mark before the header skipped",
                                 "E message body"));
  const PartInfo& m = r.entities[0].info;
  EXPECT_EQ(m.raw_header, "Subject : obsolete space before the colon\r\n");
  ASSERT_EQ(m.fields.size(), 1u);
  EXPECT_EQ(m.fields[0].name, "Subject");
}

TEST(MultipartParserTest, DuplicateAndBrokenMimeFields) {
  Recorder r = Walk(
      "Content-Type: text/html\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Transfer-Encoding: 7-bit\r\n"
      "\r\n"
      "x");
  EXPECT_THAT(r.log, ElementsAre("B message text/html",
                                 "! message header: several Content-Type fields; the first is used",
                                 "! message header: Content-Transfer-Encoding '7-bit' read as 7bit",
                                 "E message x"));
}

TEST(MultipartParserTest, HeaderSizeLimit) {
  MultipartOptions options;
  options.max_header_bytes = 64;
  Recorder r = Walk(
      absl::StrCat("X-Long: ", std::string(200, 'x'), "\r\nContent-Type: text/html\r\n\r\nbody"),
      options);
  EXPECT_THAT(r.log, ElementsAre("B message text/plain",
                                 "! message header: header longer than 64 bytes; the rest is "
                                 "ignored",
                                 "E message body"));
  EXPECT_EQ(r.entities[0].info.raw_header.size(), 64u);
  EXPECT_TRUE(r.entities[0].info.header_truncated);
}

// ------------------------------------------------------------ decoding

TEST(MultipartParserTest, PartsAreTransferDecoded) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: Quoted-Printable\r\n"
      "\r\n"
      "caf=C3=A9 =\r\n"
      "na=c3=afve  \r\n"
      "--b\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "aGVsbG8=\r\n"
      "-- \r\n"
      "list footer\r\n"
      "--b--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 text/plain",
                                 "E part 1 caf\\xc3\\xa9 na\\xc3\\xafve", "B part 2 text/plain",
                                 "! part 2 body: data after base64 padding ignored",
                                 "E part 2 hello", "E message "));
}

TEST(MultipartParserTest, TransferEncodingOnMultipartIgnored) {
  Recorder r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "--b\r\n"
      "\r\n"
      "one\r\n"
      "--b--\r\n");
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed",
                                 "! message header: transfer encoding 'base64' on a multipart "
                                 "ignored",
                                 "B part 1 text/plain", "E part 1 one", "E message "));
}

// ------------------------------------------------------------ limits

// A multipart nested `levels` deep, innermost a text part.
std::string Nested(int levels) {
  std::string head;
  std::string tail;
  for (int i = 0; i < levels; ++i) {
    absl::StrAppend(&head, "Content-Type: multipart/mixed; boundary=b", i, "\r\n\r\n--b", i,
                    "\r\n");
    tail = absl::StrCat("\r\n--b", i, "--", tail);
  }
  return absl::StrCat(head, "\r\ndeep", tail, "\r\n");
}

TEST(MultipartParserTest, NestingDepthLimit) {
  MultipartOptions options;
  options.max_depth = 3;
  Recorder r = Walk(Nested(5), options);
  EXPECT_THAT(r.log,
              ElementsAre("B message multipart/mixed", "B part 1 multipart/mixed",
                          "B part 1.1 multipart/mixed", "B part 1.1.1 multipart/mixed",
                          "! part 1.1.1 header: nesting deeper than 3; the multipart is not split",
                          "E part 1.1.1 --b3\\r\\nContent-Type: multipart/mixed; "
                          "boundary=b4\\r\\n\\r\\n--b4\\r\\n\\r\\ndeep\\r\\n--b4--\\r\\n--b3--",
                          "E part 1.1 ", "E part 1 ", "E message "));
  EXPECT_TRUE(r.Get("part 1.1.1")->info.opaque);
  // An enclosed message at the limit is not walked either.
  options.max_depth = 1;
  r = Walk(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny\r\n--b--\r\n",
      options);
  EXPECT_THAT(r.log, ElementsAre("B message multipart/mixed", "B part 1 message/rfc822",
                                 "! part 1 header: nesting deeper than 1; the enclosed message is "
                                 "not walked",
                                 "E part 1 Subject: x\\r\\n\\r\\ny", "E message "));
  EXPECT_FALSE(r.Get("part 1")->info.EnclosesMessage());
}

TEST(MultipartParserTest, VeryDeepInputStaysWithinLimits) {
  // 3000 nested multiparts and 3000 nested messages: the first levels are
  // walked, the rest is data; nothing recurses without bound.
  Recorder r;
  {
    MultipartParser parser(&r);
    parser.Feed(Nested(3000));
    parser.Finish();
  }
  EXPECT_EQ(r.entities.size(), 33u);
  std::string messages;
  for (int i = 0; i < 3000; ++i) messages += "Content-Type: message/rfc822\r\n\r\n";
  Recorder m;
  {
    MultipartParser parser(&m);
    parser.Feed(messages);
    parser.Finish();
  }
  EXPECT_EQ(m.entities.size(), 33u);
}

TEST(MultipartParserTest, DefectLimit) {
  MultipartOptions options;
  options.max_defects = 2;
  std::string msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 5; ++i) msg += "--b\r\nContent-Transfer-Encoding: x\r\n\r\n";
  Recorder r = Walk(msg, options);
  std::vector<std::string> defects;
  for (const std::string& line : r.log) {
    if (line.rfind("! ", 0) == 0) defects.push_back(line);
  }
  EXPECT_THAT(defects,
              ElementsAre("! part 1 header: unknown Content-Transfer-Encoding 'x'; read as 7bit",
                          "! part 2 header: unknown Content-Transfer-Encoding 'x'; read as 7bit",
                          "! part 3 header: too many defects; the rest are not reported"));
  EXPECT_EQ(r.entities.size(), 6u);
}

TEST(MultipartParserTest, FeedAfterFinishIsIgnored) {
  Recorder r;
  MultipartParser parser(&r);
  parser.Feed("Subject: x\r\n\r\nbody");
  parser.Finish();
  parser.Feed("more");
  parser.Finish();
  EXPECT_THAT(r.log, ElementsAre("B message text/plain", "E message body"));
}

// ------------------------------------------------------------ streaming

// Counts the data of one part without keeping it, and the largest chunk.
class HashingHandler : public MultipartHandler {
 public:
  HashingHandler() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~HashingHandler() override { EVP_MD_CTX_free(ctx_); }

  void OnPartBegin(const PartInfo&) override {}
  void OnPartData(const PartInfo& part, absl::string_view data) override {
    if (part.path != "2") return;
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    size += data.size();
    largest_chunk = std::max(largest_chunk, data.size());
  }
  void OnPartEnd(const PartInfo&) override {}
  void OnDefect(const Defect& d) override { defects.push_back(d); }

  std::string Hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    return HexOf(md, n);
  }

  uint64_t size = 0;
  size_t largest_chunk = 0;
  Defects defects;

 private:
  EVP_MD_CTX* ctx_;
};

TEST(MultipartParserTest, FiftyMegabyteAttachmentStreamsInBoundedMemory) {
  constexpr size_t kRawBlock = 57 * 1024;  // encodes to 1024 lines of 76
  constexpr size_t kBlocks = 900;          // 900 * 57 KiB = 51.3 MB decoded
  std::string raw(kRawBlock, '\0');
  std::string encoded_block;
  encoded_block.reserve(kRawBlock / 57 * 78);
  EVP_MD_CTX* expected = EVP_MD_CTX_new();
  EVP_DigestInit_ex(expected, EVP_sha256(), nullptr);

  HashingHandler h;
  MultipartParser parser(&h);
  parser.Feed(
      "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n--=_b\r\n\r\nsee attachment\r\n"
      "--=_b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n");
  const int64_t live_before = g_live_bytes.load();
  g_peak_bytes.store(live_before);
  uint32_t x = 12345;
  for (size_t b = 0; b < kBlocks; ++b) {
    for (char& c : raw) {
      x = x * 1103515245u + 12345u;
      c = static_cast<char>(x >> 24);
    }
    EVP_DigestUpdate(expected, raw.data(), raw.size());
    // Independent encoder: OpenSSL, 76 characters a line.
    encoded_block.clear();
    char line[80];
    for (size_t i = 0; i < raw.size(); i += 57) {
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(line),
                              reinterpret_cast<const unsigned char*>(raw.data() + i), 57);
      encoded_block.append(line, static_cast<size_t>(n));
      encoded_block += "\r\n";
    }
    // Feed in uneven pieces.
    for (size_t i = 0; i < encoded_block.size(); i += 8191) {
      parser.Feed(absl::string_view(encoded_block).substr(i, 8191));
    }
  }
  const int64_t peak = g_peak_bytes.load() - live_before;
  parser.Feed("--=_b--\r\n");
  parser.Finish();

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(expected, md, &n);
  EVP_MD_CTX_free(expected);
  EXPECT_EQ(h.size, kBlocks * kRawBlock);
  EXPECT_EQ(h.Hex(), HexOf(md, n));
  EXPECT_THAT(h.defects, IsEmpty());
  EXPECT_LE(h.largest_chunk, 8192u);
  // The parser's own growth while 51 MB streamed through (the test's
  // buffers were allocated before): a few KiB, nowhere near the body.
  EXPECT_LT(peak, 64 * 1024) << "peak heap growth " << peak;
}

// ------------------------------------------------------------ robustness

TEST(MultipartParserTest, MutatedInputNeverBreaksTheParser) {
  const std::string seed_msg = absl::StrCat(
      "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
      "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nx=41=\r\ny\r\n--a\r\n"
      "Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+\r\n--a--\r\n"
      "--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n"
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: t\r\n\r\nu\r\n"
      "--d--\r\n--o--\r\n");
  const std::string bytes = "-\r\n:= \t;\"ab\x80";
  std::mt19937 rng(2024);
  for (int round = 0; round < 400; ++round) {
    std::string msg = seed_msg;
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < edits; ++k) {
      size_t at = rng() % (msg.size() + 1);
      switch (rng() % 3) {
        case 0:
          msg.insert(at, 1, bytes[rng() % bytes.size()]);
          break;
        case 1:
          if (at < msg.size()) msg.erase(at, 1 + rng() % 8);
          break;
        default:
          if (at < msg.size()) msg[at] = bytes[rng() % bytes.size()];
          break;
      }
    }
    // Same events whatever the split (defects compared as a set: see the
    // MultipartParser::Feed() comment on enclosed messages).
    Recorder whole;
    Parse(msg, msg.size() + 1, 0, {}, &whole);
    Recorder pieces;
    Parse(msg, 0, static_cast<unsigned>(round), {}, &pieces);
    std::vector<std::string> a = whole.log;
    std::vector<std::string> b = pieces.log;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    ASSERT_EQ(a, b) << Escape(msg);
  }
}

// ------------------------------------------------------------ real messages

std::string ReadTestData(absl::string_view name) {
  std::string file = __FILE__;
  std::string root = file.substr(0, file.rfind("imap/mime/"));
  std::ifstream in(absl::StrCat(root, "tests/data/mime/", name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open tests/data/mime/" << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One entity of a real message: where, type, file name, decoded size and
// SHA-256 (worked out with sed, base64 -d / quopri and sha256sum).
struct Expected {
  const char* label;
  const char* type;
  const char* filename;  // nullptr: none
  uint64_t size;
  const char* sha256;
};

void CheckRealMessage(absl::string_view name, const std::vector<Expected>& want,
                      const std::vector<std::string>& want_defects) {
  SCOPED_TRACE(std::string(name));
  Recorder r = Walk(ReadTestData(name));
  ASSERT_EQ(r.entities.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Recorder::Entity& e = r.entities[i];
    SCOPED_TRACE(want[i].label);
    EXPECT_EQ(e.info.Label(), want[i].label);
    EXPECT_EQ(e.info.content_type.MediaType(), want[i].type);
    absl::optional<std::string> fn = PartFileName(e.info.content_type, e.info.disposition);
    if (want[i].filename == nullptr) {
      EXPECT_EQ(fn, absl::nullopt);
    } else {
      EXPECT_EQ(fn, want[i].filename);
    }
    EXPECT_EQ(e.data.size(), want[i].size);
    EXPECT_EQ(Sha256Hex(e.data), want[i].sha256);
  }
  std::vector<std::string> defects;
  for (const std::string& line : r.log) {
    if (line.rfind("! ", 0) == 0) defects.push_back(line.substr(2));
  }
  EXPECT_THAT(defects, ElementsAreArray(want_defects));
}

constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(RealMessagesTest, UnquotedBoundaryWithEquals) {
  // Python's policy.default cuts this boundary at '=' and finds no parts.
  CheckRealMessage("mikel-mail__mime_emails_raw_email_with_illegal_boundary.eml",
                   {{"message", "multipart/alternative", nullptr, 48,
                     "fa1379096b551d4fe772f098fc0854fd7a20fb19fb93e41ef0753063f52f96db"},
                    {"part 1", "text/plain", nullptr, 52,
                     "0ea2568d7a19aebe64ab339e8bd8176456c24082d0862f6b5d9288b9fb2cde32"},
                    {"part 2", "text/html", nullptr, 641,
                     "6d480274b9f1d027ce695a76fd1d4babf4d96c5f8b17aceca156298ff6af4c0b"}},
                   {});
}

TEST(RealMessagesTest, SimilarBoundaries) {
  CheckRealMessage("mikel-mail__mime_emails_email_with_similar_boundaries.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "multipart/alternative", nullptr, 0, kEmpty},
                    {"part 1.1", "text/plain", nullptr, 6,
                     "7dd91e07f0341646d53f6938278a4d3e87961fabea066f7e6f40b7398f3b0b0f"},
                    {"part 1.2", "text/html", nullptr, 244,
                     "128b9e556fd3992fc81981968f451e850bde7a28f5dd3f6ac188879db0afc143"},
                    {"part 2", "application/octetstream", "LOGO.png", 3,
                     "d0a188436fbb0f2591e6a20cf869574916ad5db99680c2d0f812d818b580f398"}},
                   {});
}

TEST(RealMessagesTest, PartWithoutHeaderInADeliveryReport) {
  CheckRealMessage("mikel-mail__mime_emails_raw_email_with_mimepart_without_content_type.eml",
                   {{"message", "multipart/report", nullptr, 37,
                     "65839b691b3d61d3d50aabfa7058f94500d942427a8e549347a4734221d6668a"},
                    {"part 1", "text/plain", nullptr, 519,
                     "3a29dc38f03151b37cf9bbac99208da9a523146761f78fa691ca2e6917f04cae"},
                    {"part 2", "message/delivery-status", nullptr, 322,
                     "474eb6aaabbd0f34c91eaf4b1aa8e5e35302f09335cc93620d828dba1aead23d"},
                    {"part 3", "message/rfc822", nullptr, 1548,
                     "92ac63fbb6b8f677c2ddb477ec396fa47ba5be6cc6edd9bf9e94299ff3a6677f"},
                    {"message in part 3", "text/plain", nullptr, 143,
                     "199227bb814106947bd3b8f9be1d7871445411292341c753caad5d4336920c30"}},
                   {});
}

TEST(RealMessagesTest, DigestInsideTopLevelMessageRfc822) {
  CheckRealMessage("mimekit__messages_multipart-digest.txt",
                   {{"message", "message/rfc822", nullptr, 330,
                     "dee516ad41a41058ab6c978cc31424917593af04dde6357fabc289cfd7ae43bd"},
                    {"message in part 1", "multipart/digest", nullptr, 9,
                     "d73d9dabbdd2bcd673a10fbddb2114d8213b91a35aa58511be4ab3c2c8dac86f"},
                    {"part 1.1", "message/rfc822", nullptr, 42,
                     "b90be61fe9f99d80bc9bf93ace6568e3b6b32f4064acbe9825e6961dfa4f5901"},
                    {"message in part 1.1", "text/plain", nullptr, 8,
                     "4a66e169d9f2a7c0c4a9d75d91bf46a596c57f9522d008e9420ccc638fb8d1e6"},
                    {"part 1.2", "message/rfc822", nullptr, 42,
                     "dd7fcb93b17fe86939efd1d4724084c0baec3910b11a98365b48918db3c03ab9"},
                    {"message in part 1.2", "text/plain", nullptr, 8,
                     "9ebead347844d18c392d1f123ed4e3b9b44a963ff4e7cce13caf3a1451ba13e8"}},
                   {});
}

TEST(RealMessagesTest, UnquotedFileNameWithSpaces) {
  CheckRealMessage("mikel-mail__attachment_emails_attachment_with_unquoted_name.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "text/plain", nullptr, 25,
                     "696ea9d4b79ee4a7f644aedf6a91731b3fa4c1d9bd7d1e91bca4ed5ce14fff40"},
                    {"part 2", "text/plain", "This is a test.txt", 11,
                     "12ad052c11ebcc644692dfbf6186c8441a55ba49e7f8a5f979eeb638160669d8"}},
                   {"part 2 header: unquoted value of parameter 'name' contains spaces",
                    "part 2 header: unquoted value of parameter 'filename' contains spaces"});
}

TEST(RealMessagesTest, Rfc2231ContinuationsAndEncodedWords) {
  CheckRealMessage("mikel-mail__multi_charset_japanese_attachment_long_name.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "text/plain",
                     "\xe3\x81\x8b\xe3\x81\x8d\xe3\x81\x8f\xe3\x81\x91\xe3\x81\x93"
                     "\xe3\x81\x8b\xe3\x81\x8d\xe3\x81\x8f\xe3\x81\x91\xe3\x81\x93"
                     "\xe3\x81\x8b\xe3\x81\x8d\xe3\x81\x8f\xe3\x81\x91\xe3\x81\x93"
                     "\xe3\x81\x8b\xe3\x81\x8d\xe3\x81\x8f\xe3\x81\x91\xe3\x81\x93"
                     "\xe3\x81\x8b\xe3\x81\x8d\xe3\x81\x8f\xe3\x81\x91\xe3\x81\x93.txt",
                     18, "ce6a091472e812cedb6cbb9a95b003fc110e5b349f6b39a9aee3cab92b379888"}},
                   {});
  // Both names are given; check that the quoted RFC 2047 one decodes too.
  Recorder r = Walk(ReadTestData("mikel-mail__multi_charset_japanese_attachment_long_name.eml"));
  const std::string* name = r.Get("part 1")->info.content_type.Param("name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(*name,
            *PartFileName(r.Get("part 1")->info.content_type, r.Get("part 1")->info.disposition));
}

TEST(RealMessagesTest, LfOnlyPdfAttachment) {
  CheckRealMessage("mikel-mail__attachment_emails_attachment_pdf_lf.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "text/plain", nullptr, 127,
                     "d78d6eaa34e79e23bb230e119a6b24d9f0f378a129fc94dce399cad4e2cba044"},
                    {"part 2", "application/pdf", "broken.pdf", 1026,
                     "c7d1b9b20df8a2bf2f1e0d00d84bcb56d05e56a044be7f3616f6e99f4a18bd0d"}},
                   {});
}

TEST(RealMessagesTest, MissingEndBoundary) {
  CheckRealMessage("mimekit__dkim_multipart-no-end-boundary.msg",
                   {{"message", "multipart/alternative", nullptr, 0, kEmpty},
                    {"part 1", "text/plain", nullptr, 43,
                     "a165f6146ebfbe3b4d0060df3ee53ff55dd5ed1128e7faed5a605fe4eba4a8fc"},
                    {"part 2", "text/html", nullptr, 69,
                     "334ce7bc7f6641d391a565a132b6b27845def916762c4492a9b5a761b06d8b79"}},
                   {"message body: close boundary missing at the end of the input"});
}

TEST(RealMessagesTest, UnquotedEncodedWordFileName) {
  // Python's reference finds no file name here.
  CheckRealMessage("mikel-mail__attachment_emails_attachment_with_base64_encoded_name.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "text/plain", nullptr, 293,
                     "862e76cc55fa8fb77dadcdab6b2fe34fb4dada1e86bed07b735138835a16e039"},
                    {"part 2", "application/pdf", "This is a test.pdf", 399,
                     "3edf4dcb7f2569a4d2d29ea442b37ce50ceeb0e6019a81529612752d4768c3ac"}},
                   {});
}

TEST(RealMessagesTest, NestedEmptyBoundaries) {
  CheckRealMessage("mimekit__mbox_simple.mbox.002.eml",
                   {{"message", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1.1", "multipart/mixed", nullptr, 0, kEmpty},
                    {"part 1.1.1", "text/plain", nullptr, 168,
                     "fd96b79cb5ee58c14c17e00e6010d9652a9128a058000d6a7c9af8b3a42d650c"}},
                   {"message header: empty boundary", "part 1 header: empty boundary",
                    "part 1.1 header: empty boundary",
                    "part 1.1 body: close boundary missing at the end of the input",
                    "part 1 body: close boundary missing at the end of the input",
                    "message body: close boundary missing at the end of the input"});
}

}  // namespace
}  // namespace imap::mime
