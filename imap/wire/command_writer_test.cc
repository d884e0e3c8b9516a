#include "imap/wire/command_writer.h"

#include "gtest/gtest.h"

namespace imap::wire {
namespace {

TEST(CommandWriterTest, PicksAtomQuotedOrLiteral) {
  CommandBuilder b("A1", "LOGIN", LiteralMode::kSynchronizing);
  b.AString("alice").Secret("pa ss\"w\\d");
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->segments.size(), 1u);
  EXPECT_EQ(c->segments[0], "A1 LOGIN alice \"pa ss\\\"w\\\\d\"\r\n");
  EXPECT_EQ(c->redacted, "A1 LOGIN alice <redacted>");
}

TEST(CommandWriterTest, CrLfNeverEndsACommandEarly) {
  CommandBuilder b("A2", "SELECT", LiteralMode::kSynchronizing);
  b.AString("INBOX\r\nA3 DELETE INBOX");
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->segments.size(), 2u);
  EXPECT_EQ(c->segments[0], "A2 SELECT {22}\r\n");
  EXPECT_EQ(c->segments[1], "INBOX\r\nA3 DELETE INBOX\r\n");
}

TEST(CommandWriterTest, LiteralPlusNeedsNoRoundTrip) {
  CommandBuilder b("A4", "LOGIN", LiteralMode::kLiteralPlus);
  b.AString("j\xc3\xb6rg").Secret("x");
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->segments.size(), 1u);
  EXPECT_EQ(c->segments[0], "A4 LOGIN {5+}\r\nj\xc3\xb6rg \"x\"\r\n");
}

TEST(CommandWriterTest, LiteralMinusFallsBackAbove4096) {
  CommandBuilder b("A5", "X", LiteralMode::kLiteralMinus);
  b.String(std::string(4097, '\x80'));
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->segments.size(), 2u);
  EXPECT_EQ(c->segments[0], "A5 X {4097}\r\n");
}

TEST(CommandWriterTest, EmptyAndSpecialStringsAreQuoted) {
  CommandBuilder b("A6", "X", LiteralMode::kSynchronizing);
  b.AString("").AString("a b").AString("%").AString("x]");
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->segments[0], "A6 X \"\" \"a b\" \"%\" \"x]\"\r\n");
}

TEST(CommandWriterTest, GlueJoinsParentheses) {
  CommandBuilder b("A8", "UID SEARCH", LiteralMode::kSynchronizing);
  b.Raw("NOT").Raw("(").Glue().Raw("SUBJECT").String("a b").Glue().Raw(")");
  absl::StatusOr<Command> c = b.Build();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->segments[0], "A8 UID SEARCH NOT (SUBJECT \"a b\")\r\n");
}

TEST(CommandWriterTest, NulIsRefused) {
  CommandBuilder b("A7", "LOGIN", LiteralMode::kLiteralPlus);
  b.AString("u").Secret(std::string("a\0b", 3));
  absl::StatusOr<Command> c = b.Build();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find(std::string("a\0b", 3)), absl::string_view::npos);
}

}  // namespace
}  // namespace imap::wire
