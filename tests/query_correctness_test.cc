// The query compiler and runner against real servers: a generated mailbox,
// many random queries (a seeded generator of predicate trees), and for each
// the records the server-side SEARCH plus client-side check return must be
// exactly those a brute-force evaluation over every message selects.
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "imap/query/compiler.h"
#include "imap/query/evaluator.h"
#include "imap/query/parser.h"
#include "imap/records/query_runner.h"
#include "imap/session/session.h"
#include "tests/fixtures/imap_server_fixture.h"

namespace imap {
namespace {

using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerKind;

constexpr int kMessages = 60;
constexpr int kQueries = 150;

const char* const kSubjects[] = {
    "Invoice 2024-001", "Rechnung f=?utf-8?q?=C3=BC?=r M=?utf-8?q?=C3=A4?=rz", "Weekly report",
    "Lunch on Friday?", "RE: invoice question", "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
    "Meeting notes", "Project X kickoff", "invoice reminder", "Your order has shipped"};
const char* const kFroms[] = {"Billing <billing@billing.example.com>", "alice@example.com",
                              "Bob Smith <bob@example.org>", "\"Zoe Quinn\" <zoe@example.net>",
                              "noreply@shop.example.com"};
const char* const kWords[] = {"refund", "quarterly", "kickoff", "delivery", "budget", "lunch"};
const char* const kZones[] = {"+0100", "-0800", "+0530", "+0000", "-0330"};

struct Generated {
  std::string message;
  std::vector<std::string> flags;
  absl::Time internal_date;
};

Generated MakeMessage(int i, std::mt19937& rng) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  Generated g;
  const absl::Time sent = absl::FromCivil(absl::CivilSecond(2024, 1, 1, 0, 0, 0), absl::UTCTimeZone()) +
                          absl::Hours(37 * i) + absl::Minutes(pick(60));
  const char* zone = kZones[pick(5)];
  absl::TimeZone tz = absl::FixedTimeZone(
      (zone[0] == '-' ? -1 : 1) * (((zone[1] - '0') * 10 + (zone[2] - '0')) * 3600 +
                                   ((zone[3] - '0') * 10 + (zone[4] - '0')) * 60));
  std::string body;
  const int words = 5 + pick(400);
  for (int w = 0; w < words; ++w) absl::StrAppend(&body, kWords[pick(6)], w % 12 == 11 ? "\r\n" : " ");
  const bool attach = pick(3) == 0;
  const std::string headers = absl::StrCat(
      "From: ", kFroms[pick(5)], "\r\nTo: team@example.com\r\nSubject: ", kSubjects[pick(10)],
      "\r\nDate: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S ", sent, tz), zone,
      "\r\nMessage-ID: <gen-", i, "@example.com>\r\nMIME-Version: 1.0\r\n");
  if (!attach) {
    g.message = absl::StrCat(headers, "Content-Type: text/plain; charset=utf-8\r\n\r\n", body, "\r\n");
  } else {
    const char* name = pick(2) == 0 ? "report.pdf" : "notes.txt";
    g.message = absl::StrCat(headers, "Content-Type: multipart/mixed; boundary=\"b", i, "\"\r\n\r\n--b", i,
                             "\r\nContent-Type: text/plain\r\n\r\n", body, "\r\n--b", i,
                             "\r\nContent-Type: application/octet-stream; name=\"", name,
                             "\"\r\nContent-Disposition: attachment; filename=\"", name,
                             "\"\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ=\r\n--b", i, "--\r\n");
  }
  for (const char* f : {"\\Seen", "\\Flagged", "\\Answered", "\\Draft", "$Important", "Project-X"}) {
    if (pick(3) == 0) g.flags.push_back(f);
  }
  g.internal_date = absl::FromCivil(absl::CivilSecond(2024, 2, 1, 0, 0, 0), absl::UTCTimeZone()) +
                    absl::Hours(29 * i) + absl::Minutes(pick(60));
  return g;
}

// A random condition in the query language, `depth` levels deep at most.
std::string RandomCondition(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  if (depth > 0 && pick(3) == 0) {
    switch (pick(3)) {
      case 0:
        return absl::StrCat("NOT ", RandomCondition(rng, depth - 1));
      case 1:
        return absl::StrCat("(", RandomCondition(rng, depth - 1), " AND ",
                            RandomCondition(rng, depth - 1), ")");
      default:
        return absl::StrCat("(", RandomCondition(rng, depth - 1), " OR ",
                            RandomCondition(rng, depth - 1), ")");
    }
  }
  const char* ops[] = {"<", "<=", ">", ">=", "=", "!="};
  const auto day = [&](int base_month) {
    return absl::StrFormat("'2024-%02d-%02d'", base_month + pick(3), 1 + pick(28));
  };
  switch (pick(14)) {
    case 0:
      return std::string(std::vector<const char*>{"seen", "flagged", "answered", "draft"}[pick(4)]);
    case 1:
      return absl::StrCat("uid ", ops[pick(6)], " ", 1 + pick(kMessages));
    case 2:
      return absl::StrCat("size ", ops[pick(6)], " ", 300 + pick(3000));
    case 3:
      return absl::StrCat("internal_date ", ops[pick(6)], " ", day(2));
    case 4:
      return absl::StrCat("date ", ops[pick(4)], " ", day(1));
    case 5:
      return absl::StrCat("internal_date ", ops[pick(4)], " '2024-03-0", 1 + pick(9), "T1", pick(10),
                          ":30:00+02:00'");
    case 6:
      return absl::StrCat("subject CONTAINS '",
                          std::vector<const char*>{"invoice", "Invoice", "report", "X", "ü", "Grüße"}[pick(6)],
                          "'");
    case 7:
      return absl::StrCat("subject LIKE '",
                          std::vector<const char*>{"%invoice%", "RE:%", "%?", "Weekly%", "invoice%",
                                                   "%2024-0_1"}[pick(6)],
                          "'");
    case 8:
      // "=" finds fewer than the SUBJECT search it is narrowed from.
      return absl::StrCat("subject ", pick(2) ? "=" : "!=", " '",
                          std::vector<const char*>{"Meeting notes", "Invoice", "invoice reminder"}[pick(3)],
                          "'");
    case 9:
      return absl::StrCat("from ", std::vector<const char*>{"CONTAINS 'example.org'", "LIKE '%@billing.example.com'",
                                                            "= 'alice@example.com'", "CONTAINS 'Zoe'",
                                                            "= 'example.com'", "IN ('Bob Smith', 'bob')"}[pick(6)]);
    case 10:
      return absl::StrCat("keywords CONTAINS '", pick(2) ? "$Important" : "Project-X", "'");
    case 11:
      return pick(2) ? "has_attachment" : "attachment_name LIKE '%.pdf'";
    case 12:
      // "world" is only in the attachments, which SEARCH BODY may read.
      return absl::StrCat("body CONTAINS '", pick(4) ? kWords[pick(6)] : "world", "'");
    default:
      return absl::StrCat("uid IN (", 1 + pick(kMessages), ", ", 1 + pick(kMessages), ")");
  }
}

class QueryCorrectnessTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(QueryCorrectnessTest, RandomQueriesMatchBruteForce) {
  absl::StatusOr<std::unique_ptr<ImapServerFixture>> server = ImapServerFixture::Start(GetParam());
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<Transport>> t =
      DialTcp("localhost", (*server)->imaps_port(), absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(t.ok());
  TlsOptions tls;
  tls.server_name = "localhost";
  tls.extra_ca_pem = (*server)->ca_pem();
  ASSERT_TRUE((*t)->StartTls(tls, absl::Now() + absl::Seconds(10)).ok());
  Session s(*std::move(t), SessionOptions());
  ASSERT_TRUE(s.ReadGreeting().ok());
  ASSERT_TRUE(s.Login(ImapServerFixture::kUser, ImapServerFixture::kPassword, AuthMethod::kAuto).ok());

  const std::string folder = absl::StrCat("generated-", getpid());
  ASSERT_TRUE(s.Create(folder).ok());
  std::mt19937 rng(20261127);
  for (int i = 0; i < kMessages; ++i) {
    Generated g = MakeMessage(i, rng);
    absl::StatusOr<AppendResult> a = s.Append(folder, g.message, g.flags, g.internal_date);
    ASSERT_TRUE(a.ok()) << a.status();
  }

  // Every message, fully read, once: the brute-force side.
  records::RunOptions options;
  std::vector<records::FetchedMessage> all;
  absl::StatusOr<query::Plan> everything = query::Compile(*query::ParseQuery("SELECT *"));
  ASSERT_TRUE(everything.ok());
  absl::StatusOr<records::FolderResult> r =
      records::RunOnFolder(s, *everything, folder, options, [&](const records::FetchedMessage& m) {
        all.push_back(m);
        return true;
      });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(all.size(), static_cast<size_t>(kMessages));
  for (records::FetchedMessage& m : all) m.facts.record = &m.record;

  int exact = 0;
  for (int q = 0; q < kQueries; ++q) {
    const std::string condition = RandomCondition(rng, 3);
    const std::string text = absl::StrCat("SELECT uid WHERE ", condition);
    SCOPED_TRACE(text);
    absl::StatusOr<query::Query> parsed = query::ParseQuery(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    absl::StatusOr<query::Plan> plan = query::Compile(*parsed);
    ASSERT_TRUE(plan.ok());
    exact += plan->search_is_exact;

    std::set<uint32_t> expected;
    for (const records::FetchedMessage& m : all) {
      absl::StatusOr<bool> match = query::Evaluate(*parsed->where, m.facts);
      ASSERT_TRUE(match.ok()) << match.status();
      if (*match) expected.insert(m.facts.uid);
    }
    std::set<uint32_t> got;
    r = records::RunOnFolder(s, *plan, folder, options, [&](const records::FetchedMessage& m) {
      EXPECT_TRUE(got.insert(m.facts.uid).second) << "UID " << m.facts.uid << " twice";
      return true;
    });
    ASSERT_TRUE(r.ok()) << r.status() << " SEARCH " << query::SearchText(plan->search);
    EXPECT_EQ(got, expected) << "SEARCH " << query::SearchText(plan->search);
    if (plan->search_is_exact) {
      EXPECT_EQ(r->matched_by_search, expected.size());
    }
  }
  // The generator exercises both exact pushdown and client-side checks.
  EXPECT_GT(exact, kQueries / 10);
  EXPECT_LT(exact, kQueries * 9 / 10);
  EXPECT_TRUE(s.Logout().ok());
}

std::string ServerName(const ::testing::TestParamInfo<ServerKind>& param_info) {
  return testing_fixtures::ServerKindName(param_info.param);
}

INSTANTIATE_TEST_SUITE_P(Servers, QueryCorrectnessTest,
                         ::testing::Values(ServerKind::kDovecot, ServerKind::kCyrus), ServerName);

}  // namespace
}  // namespace imap
