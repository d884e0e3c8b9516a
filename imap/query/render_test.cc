#include "imap/query/render.h"

#include "gtest/gtest.h"
#include "imap/query/parser.h"

namespace imap::query {
namespace {

std::string RenderWhere(const std::string& query) {
  absl::StatusOr<Query> q = ParseQuery(query);
  EXPECT_TRUE(q.ok()) << query << ": " << q.status();
  if (!q.ok() || !q->where.has_value()) return "";
  return RenderExpr(*q->where);
}

TEST(RenderExpr, WritesReadableQueryText) {
  EXPECT_EQ(RenderWhere("WHERE subject CONTAINS 'it''s' AND NOT seen"),
            "subject CONTAINS 'it''s' AND NOT seen");
}

TEST(RenderExpr, RoundTripsThroughTheParser) {
  const char* queries[] = {
      "WHERE (subject LIKE 'Inv%' OR from = 'a@b.example') AND size > 5KB",
      "WHERE date >= '2024-01-01' AND internal_date < '2024-06-01T12:00:00+02:00'",
      "WHERE header('List-Id') CONTAINS 'weekly' AND NOT (flagged OR answered)",
      "WHERE uid IN (1, 2, 3) AND keywords CONTAINS '$Label1' AND has_attachment = false",
      "WHERE attachment_name LIKE '%.pdf' OR body CONTAINS 'Grüße\nline'",
      "WHERE NOT NOT seen",
  };
  for (const char* q : queries) {
    const std::string once = RenderWhere(q);
    ASSERT_FALSE(once.empty()) << q;
    const std::string twice = RenderWhere(std::string("WHERE ") + once);
    EXPECT_EQ(once, twice) << q;
  }
}

}  // namespace
}  // namespace imap::query
