// The connector against servers that misbehave, through gRPC and the real
// server binary: tests/hostile_imap_server.py stalls, drips, floods, drops
// connections in the middle of a FETCH, announces a 93 GB literal, garbles
// one message's answer, refuses logins over a connection limit or refuses
// STARTTLS. Every call must end within its budget with the right status,
// and every message must arrive exactly once.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/fixtures/hostile_server.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/loopback_listener.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

namespace {

using connector::v1::Connection;
using connector::v1::Record;
using connector::v1::StreamRecordsRequest;
using connector::v1::StreamRecordsResponse;
using testing_fixtures::HostileServer;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

class HostileServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new testing_fixtures::TempDir("imapc-hostile-data");
    ASSERT_TRUE(data_dir_->ok());
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(data_dir_->path());
    ASSERT_TRUE(s.ok()) << s.status();
    connector_ = s->release();
  }
  static void TearDownTestSuite() {
    if (connector_ != nullptr) connector_->Stop(SIGTERM);
    delete connector_;
    connector_ = nullptr;
    delete data_dir_;  // after the server that used it
    data_dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(connector_, nullptr);
    stub_ = connector::v1::Connector::NewStub(connector_->channel());
  }

  static Connection ConnectionTo(int port, int timeout_ms = 1000) {
    Connection c;
    c.set_name("hostile");
    c.set_is_active(true);
    c.set_is_source(true);
    c.set_is_target(false);
    c.set_server_url("127.0.0.1");
    c.set_port(port);
    c.set_security(connector::v1::SECURITY_NONE);
    c.set_username("alice");
    c.set_password("alice-password");
    c.set_timeout_ms(timeout_ms);
    return c;
  }

  struct Streamed {
    grpc::Status status;
    std::vector<Record> records;
    absl::Duration took;
  };
  Streamed Stream(const Connection& c, int parallelism = 0, int max_batch_records = 0,
                  const std::string& query = "SELECT uid, subject, size") {
    StreamRecordsRequest req;
    *req.mutable_connection()->mutable_connection() = c;
    req.set_query(query);
    req.set_parallelism(parallelism);
    req.set_max_batch_records(max_batch_records);
    grpc::ClientContext ctx;  // no deadline: the connector's own bounds must end the call
    Streamed out;
    const absl::Time start = absl::Now();
    std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader = stub_->StreamRecords(&ctx, req);
    StreamRecordsResponse batch;
    while (reader->Read(&batch)) {
      for (const Record& r : batch.records()) out.records.push_back(r);
    }
    out.status = reader->Finish();
    out.took = absl::Now() - start;
    return out;
  }

  // Every UID from 1 to n exactly once, in order.
  static void ExpectEachOnce(const std::vector<Record>& records, uint32_t n) {
    ASSERT_EQ(records.size(), n);
    for (uint32_t i = 0; i < n; ++i) EXPECT_EQ(records[i].uid(), i + 1) << "record " << i;
  }

  static ServerProcess* connector_;
  static testing_fixtures::TempDir* data_dir_;  // the server's
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
};

ServerProcess* HostileServerTest::connector_ = nullptr;
testing_fixtures::TempDir* HostileServerTest::data_dir_ = nullptr;

connector::v1::TestConnectionResponse TestConnection(connector::v1::Connector::Stub& stub,
                                                      const Connection& c, grpc::Status* status) {
  connector::v1::TestConnectionRequest req;
  *req.mutable_connection() = c;
  connector::v1::TestConnectionResponse resp;
  grpc::ClientContext ctx;
  *status = stub.TestConnection(&ctx, req, &resp);
  return resp;
}

std::string FailedStage(const connector::v1::TestConnectionResponse& r) {
  for (const auto& s : r.stages()) {
    if (s.result() == connector::v1::Stage::FAILED) return s.name();
  }
  return "";
}

// Point 1: a greeting cut before its line end is a timeout after
// timeout_ms, not after a fixed minute, and says what happened.
TEST_F(HostileServerTest, GreetingWithoutLineEndFailsWithinTimeout) {
  HostileServer server({"--greeting-stall"});
  ASSERT_GT(server.port(), 0);
  grpc::Status status;
  const absl::Time start = absl::Now();
  connector::v1::TestConnectionResponse r = TestConnection(*stub_, ConnectionTo(server.port()), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_TIMEOUT);
  EXPECT_EQ(FailedStage(r), "greeting");
  EXPECT_THAT(r.message(), HasSubstr("sent nothing for 1000 ms in the middle of a response"));
}

// Point 1: a server that drips one byte every 0.5 s never goes silent for
// timeout_ms; each TestConnection stage still ends within timeout_ms.
TEST_F(HostileServerTest, DrippingServerEndsTestConnectionWithinItsBudget) {
  HostileServer server({"--drip", "0.5"});
  grpc::Status status;
  const absl::Time start = absl::Now();
  connector::v1::TestConnectionResponse r = TestConnection(*stub_, ConnectionTo(server.port()), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_TIMEOUT);
  EXPECT_EQ(FailedStage(r), "greeting");
  EXPECT_THAT(r.message(), HasSubstr("did not complete its answer within 1000 ms"));
}

// Point 1: endless untagged lines in answer to EXAMINE end TestQuery and
// StreamRecords (no client deadline) at the command bound.
TEST_F(HostileServerTest, EndlessUntaggedLinesEndTestQueryAndStreamRecords) {
  HostileServer server({"--flood-after-login"});
  Connection c = ConnectionTo(server.port(), /*timeout_ms=*/200);
  {
    connector::v1::TestQueryRequest req;
    *req.mutable_connection()->mutable_connection() = c;
    req.set_query("SELECT uid");
    connector::v1::TestQueryResponse resp;
    grpc::ClientContext ctx;
    const absl::Time start = absl::Now();
    grpc::Status s = stub_->TestQuery(&ctx, req, &resp);
    EXPECT_LT(absl::Now() - start, absl::Seconds(30));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("did not complete its answer within 2000 ms"));
  }
  Streamed st = Stream(c, /*parallelism=*/1);
  EXPECT_EQ(st.status.error_code(), grpc::StatusCode::UNAVAILABLE) << st.status.error_message();
  EXPECT_THAT(st.status.error_message(), HasSubstr("did not complete its answer"));
  EXPECT_LT(st.took, absl::Seconds(120));
}

// Point 2: a 93 GB literal is not waited for. By default the stream fails
// with RESOURCE_EXHAUSTED naming the UID; with skip_oversized_messages the
// message is a record with a defect and the others all arrive.
TEST_F(HostileServerTest, OversizedMessageFailsOrBecomesADefectRecord) {
  HostileServer server({"--messages", "12", "--huge-literal", "5"});
  Connection c = ConnectionTo(server.port(), 5000);
  Streamed failed = Stream(c, 1);
  EXPECT_EQ(failed.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(failed.status.error_message(), HasSubstr("UID 5 is 93000000000 bytes"));
  EXPECT_LT(failed.took, absl::Seconds(20));

  c.set_skip_oversized_messages(true);
  for (int parallelism : {1, 3}) {
    SCOPED_TRACE(parallelism);
    Streamed st = Stream(c, parallelism, /*max_batch_records=*/2);
    ASSERT_TRUE(st.status.ok()) << st.status.error_message();
    ExpectEachOnce(st.records, 12);
    const Record& big = st.records[4];
    ASSERT_EQ(big.defects_size(), 1);
    EXPECT_THAT(big.defects(0), HasSubstr("93000000000 bytes"));
    EXPECT_EQ(big.fields().at("size").int_value(), 93000000000);
    EXPECT_EQ(st.records[3].defects_size(), 0);
    EXPECT_EQ(st.records[3].fields().at("subject").string_value(), "message 4");
  }
}

// Point 3: a server that drops every connection after 3 messages, below
// the batch size: each reconnect keeps what it read, so all arrive.
TEST_F(HostileServerTest, DropsMidBatchKeepProgress) {
  HostileServer server({"--messages", "40", "--drop-after", "3"});
  Connection c = ConnectionTo(server.port(), 5000);
  for (int parallelism : {1, 2}) {
    SCOPED_TRACE(parallelism);
    Streamed st = Stream(c, parallelism, /*max_batch_records=*/100);
    ASSERT_TRUE(st.status.ok()) << st.status.error_message();
    ExpectEachOnce(st.records, 40);
  }
}

// Point 4: an answer that never parses is retried once, then that message
// becomes a record with a defect; a one-off garble is simply retried.
TEST_F(HostileServerTest, MalformedAnswerTwiceBecomesADefectRecord) {
  {
    HostileServer server({"--messages", "10", "--garble", "7"});
    Streamed st = Stream(ConnectionTo(server.port(), 5000), 2, 3);
    ASSERT_TRUE(st.status.ok()) << st.status.error_message();
    ExpectEachOnce(st.records, 10);
    ASSERT_EQ(st.records[6].defects_size(), 1);
    EXPECT_THAT(st.records[6].defects(0), HasSubstr("did not parse twice in a row"));
    EXPECT_EQ(st.records[7].fields().at("subject").string_value(), "message 8");
    // Two attempts for UID 7, not eight or more.
    EXPECT_LE(server.Stat("faults"), 2);
  }
  {
    HostileServer server({"--messages", "10", "--garble-once", "7"});
    Streamed st = Stream(ConnectionTo(server.port(), 5000), 1, 3);
    ASSERT_TRUE(st.status.ok()) << st.status.error_message();
    ExpectEachOnce(st.records, 10);
    EXPECT_EQ(st.records[6].defects_size(), 0);
    EXPECT_EQ(st.records[6].fields().at("subject").string_value(), "message 7");
  }
}

// Point 5: with a per-user limit of one connection, the extra workers of a
// parallel stream are refused with [LIMIT]; the one that works reads all.
TEST_F(HostileServerTest, RefusedExtraConnectionsDoNotEndTheStream) {
  HostileServer server({"--messages", "60", "--max-connections", "1"});
  Streamed st = Stream(ConnectionTo(server.port(), 5000), /*parallelism=*/4, /*max_batch_records=*/5);
  ASSERT_TRUE(st.status.ok()) << st.status.error_message();
  ExpectEachOnce(st.records, 60);
  EXPECT_GT(server.Stat("refused_logins"), 0);
  EXPECT_EQ(server.Stat("max_concurrent"), 1);
}

// Issue 14: a provider that throttles logins ([THROTTLED], BYE too many
// connections) is waited out with backoff, and nothing is lost.
TEST_F(HostileServerTest, ThrottledLoginsAreWaitedOutWithoutLoss) {
  HostileServer server({"--messages", "25", "--throttle", "4"});
  Streamed st = Stream(ConnectionTo(server.port(), 5000), /*parallelism=*/1, /*max_batch_records=*/10);
  ASSERT_TRUE(st.status.ok()) << st.status.error_message();
  ExpectEachOnce(st.records, 25);
  EXPECT_EQ(server.Stat("refused_logins"), 4);
  EXPECT_GE(server.Stat("connections"), 5);
}

// Issue 14's connection governor: with max_connections 3 on a server that
// refuses a fourth login, 6 concurrent streams of parallelism 2 queue for
// the 3 slots instead of being refused, and all complete.
TEST_F(HostileServerTest, ConcurrentStreamsQueueForTheMailboxsConnections) {
  HostileServer server({"--messages", "30", "--max-connections", "3"});
  Connection c = ConnectionTo(server.port(), 5000);
  c.set_max_connections(3);
  std::vector<Streamed> results(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] { results[i] = Stream(c, /*parallelism=*/2, /*max_batch_records=*/5); });
  }
  for (std::thread& t : threads) t.join();
  for (const Streamed& st : results) {
    ASSERT_TRUE(st.status.ok()) << st.status.error_message();
    ExpectEachOnce(st.records, 30);
  }
  EXPECT_EQ(server.Stat("refused_logins"), 0);
  EXPECT_LE(server.Stat("max_concurrent"), 3);

  connector::v1::TestQueryRequest req;
  *req.mutable_connection()->mutable_connection() = c;
  req.set_query("SELECT uid");
  connector::v1::TestQueryResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->TestQuery(&ctx, req, &resp).ok());
  bool said = false;
  for (const auto& step : resp.steps()) {
    if (step.name() == "connections") {
      said = absl::StrContains(step.detail(), "1 of 3 connections") &&
             absl::StrContains(step.detail(), "parallelism");
    }
  }
  EXPECT_TRUE(said);
}

// Point 6 and point 9: the status of each RPC for each failure category,
// as docs/status-codes.md lists them, and server alerts in TestConnection.
struct CategoryCase {
  std::string name;
  std::vector<std::string> server_args;  // empty: a closed port
  connector::v1::Security security;
  std::string password;
  std::string query;
  connector::v1::FailureCategory category;
  grpc::StatusCode rpc_code;
  std::string message;
};

TEST_F(HostileServerTest, EachFailureCategoryHasOneCodeInEveryRpc) {
  const std::vector<CategoryCase> cases = {
      {"refused", {}, connector::v1::SECURITY_NONE, "alice-password", "SELECT uid",
       connector::v1::FAILURE_CATEGORY_REFUSED, grpc::StatusCode::UNAVAILABLE, "connect"},
      {"timeout", {"--greeting-stall"}, connector::v1::SECURITY_NONE, "alice-password", "SELECT uid",
       connector::v1::FAILURE_CATEGORY_TIMEOUT, grpc::StatusCode::UNAVAILABLE, "sent nothing"},
      {"starttls refused", {"--starttls", "refuse-bad"}, connector::v1::SECURITY_STARTTLS,
       "alice-password", "SELECT uid", connector::v1::FAILURE_CATEGORY_TLS,
       grpc::StatusCode::UNAVAILABLE, "STARTTLS"},
      {"starttls stripped", {"--starttls", "strip"}, connector::v1::SECURITY_STARTTLS,
       "alice-password", "SELECT uid", connector::v1::FAILURE_CATEGORY_TLS,
       grpc::StatusCode::FAILED_PRECONDITION, "does not offer STARTTLS"},
      {"auth", {}, connector::v1::SECURITY_NONE, "wrong", "SELECT uid",
       connector::v1::FAILURE_CATEGORY_AUTH_FAILED, grpc::StatusCode::UNAUTHENTICATED,
       "AUTHENTICATIONFAILED"},
  };
  for (const CategoryCase& k : cases) {
    SCOPED_TRACE(k.name);
    std::unique_ptr<HostileServer> server;
    int port = testing_fixtures::PickFreePort();
    if (!k.server_args.empty() || k.name == "auth") {
      server = std::make_unique<HostileServer>(k.server_args);
      port = server->port();
    }
    Connection c = ConnectionTo(port, 1000);
    c.set_security(k.security);
    c.set_password(k.password);
    grpc::Status status;
    connector::v1::TestConnectionResponse r = TestConnection(*stub_, c, &status);
    ASSERT_TRUE(status.ok());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.category(), k.category) << r.message();

    connector::v1::TestQueryRequest tq;
    *tq.mutable_connection()->mutable_connection() = c;
    tq.set_query(k.query);
    connector::v1::TestQueryResponse tq_resp;
    grpc::ClientContext ctx;
    grpc::Status q = stub_->TestQuery(&ctx, tq, &tq_resp);
    EXPECT_EQ(q.error_code(), k.rpc_code) << "TestQuery: " << q.error_message();
    EXPECT_THAT(q.error_message(), HasSubstr(k.message));

    // Streams retry what a new connection can fix; these end quickly
    // only where the policy says not to retry, so bound the wait.
    if (k.rpc_code != grpc::StatusCode::UNAVAILABLE) {
      Streamed st = Stream(c, 1);
      EXPECT_EQ(st.status.error_code(), k.rpc_code) << "StreamRecords: " << st.status.error_message();
      EXPECT_THAT(st.status.error_message(), HasSubstr(k.message));
    }
  }
}

TEST_F(HostileServerTest, StartTlsRefusedIsUnavailableForStreams) {
  HostileServer server({"--starttls", "refuse-no"});
  Connection c = ConnectionTo(server.port(), 1000);
  c.set_security(connector::v1::SECURITY_STARTTLS);
  StreamRecordsRequest req;
  *req.mutable_connection()->mutable_connection() = c;
  req.set_query("SELECT uid");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader = stub_->StreamRecords(&ctx, req);
  StreamRecordsResponse batch;
  while (reader->Read(&batch)) {
  }
  grpc::Status s = reader->Finish();
  // Retried as a connection problem until the deadline; never
  // INVALID_ARGUMENT, which would blame the request.
  EXPECT_NE(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE ||
              s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      << s.error_code() << " " << s.error_message();
}

TEST_F(HostileServerTest, ServerAlertsShowInTestConnection) {
  HostileServer server({"--login-alert", "Please log in via your web browser"});
  grpc::Status status;
  connector::v1::TestConnectionResponse r = TestConnection(*stub_, ConnectionTo(server.port()), &status);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(FailedStage(r), "login");
  EXPECT_THAT(r.message(), HasSubstr("[server alert: Please log in via your web browser]"));
  bool in_stage = false;
  for (const auto& s : r.stages()) {
    if (s.name() == "login") in_stage = absl::StrContains(s.detail(), "Please log in via your web browser");
  }
  EXPECT_TRUE(in_stage);
  EXPECT_THAT(connector_->log(), HasSubstr("[ALERT] Please log in via your web browser"));
}

// A cancel while the connection is still being opened (here: a greeting
// that never ends, with a long timeout_ms) stops the IMAP work at once,
// not when timeout_ms runs out.
TEST_F(HostileServerTest, CancelWhileConnectingStopsTheImapWorkAtOnce) {
  HostileServer server({"--greeting-stall"});
  StreamRecordsRequest req;
  *req.mutable_connection()->mutable_connection() = ConnectionTo(server.port(), /*timeout_ms=*/120000);
  req.set_query("SELECT uid");
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader = stub_->StreamRecords(&ctx, req);
  // Wait (a bounded poll of the server's own count) until the connector is
  // connected and waiting for the rest of the greeting.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (server.Stat("connections") < 1 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(server.Stat("connections"), 1);
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The connector hangs up long before the 120 s timeout_ms would have.
  const absl::Time closed_by = absl::Now() + absl::Seconds(20);
  while (server.Stat("closed") < 1 && absl::Now() < closed_by) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(server.Stat("closed"), 1);
}

// Issue 14: providers' refusals are explained in their terms.
TEST_F(HostileServerTest, ProviderRefusalsAreExplained) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--gmail-refuse", "app-password"}, "create an app password"},
      {{"--gmail-refuse", "web-login"}, "sign in to the account once in a browser"},
      {{"--m365-refuse"}, "Microsoft 365 no longer accepts passwords over IMAP"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.says);
    HostileServer server(k.args);
    grpc::Status status;
    connector::v1::TestConnectionResponse r = TestConnection(*stub_, ConnectionTo(server.port()), &status);
    ASSERT_TRUE(status.ok());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(FailedStage(r), "login");
    EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_AUTH_FAILED) << r.message();
    EXPECT_THAT(r.message(), HasSubstr(k.says));
  }
}

// The soak: a server that drops, stalls, drips and garbles at random under
// 8 concurrent streams. Every message exactly once per stream, no call
// past its budget, RSS flat. IMAPC_SOAK_SECONDS sets the length (30 s by
// default; the closing note reports a 10-minute run).
long RssKb(pid_t pid) {
  const std::string status = testing_fixtures::ReadFile(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, "VmRSS:")) {
      long kb = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(line, "kB")), &kb);
      return kb;
    }
  }
  return -1;
}

TEST_F(HostileServerTest, SoakUnderRandomFaults) {
  int seconds = 30;
  if (const char* env = getenv("IMAPC_SOAK_SECONDS")) (void)absl::SimpleAtoi(env, &seconds);
  constexpr int kMessages = 150;
  HostileServer server({"--messages", absl::StrCat(kMessages), "--body-size", "6000", "--chaos", "11",
                        "--chaos-rate", "0.01"});
  Connection c = ConnectionTo(server.port(), 500);
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  long rss_after_first_round = 0;
  long rss_max = 0;
  int rounds = 0;
  int failures = 0;
  absl::Duration longest = absl::ZeroDuration();
  while (absl::Now() < end) {
    std::vector<std::thread> threads;
    std::vector<Streamed> results(8);
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&, i] { results[i] = Stream(c, 1 + i % 3, 10 + 7 * i); });
    }
    for (std::thread& t : threads) t.join();
    for (const Streamed& st : results) {
      longest = std::max(longest, st.took);
      if (!st.status.ok()) {
        ++failures;
        ADD_FAILURE() << st.status.error_code() << " " << st.status.error_message();
        continue;
      }
      std::set<uint32_t> uids;
      for (const Record& r : st.records) uids.insert(r.uid());
      EXPECT_EQ(st.records.size(), static_cast<size_t>(kMessages));
      EXPECT_EQ(uids.size(), static_cast<size_t>(kMessages));
      for (size_t i = 1; i < st.records.size(); ++i) {
        EXPECT_LT(st.records[i - 1].uid(), st.records[i].uid());
      }
    }
    ++rounds;
    const long rss = RssKb(connector_->pid());
    rss_max = std::max(rss_max, rss);
    if (rounds == 1) rss_after_first_round = rss;
  }
  const long rss_end = RssKb(connector_->pid());
  std::cout << "soak: " << seconds << " s, " << rounds << " rounds of 8 streams x " << kMessages
            << " messages, faults injected " << server.Stat("faults") << ", connections "
            << server.Stat("connections") << ", failed streams " << failures << ", longest stream "
            << absl::FormatDuration(longest) << ", RSS after round 1 " << rss_after_first_round
            << " kB, max " << rss_max << " kB, at the end " << rss_end << " kB\n";
  EXPECT_EQ(failures, 0);
  EXPECT_GT(server.Stat("faults"), 0);
  // No call past its budget: a stream of 150 small messages that stalls
  // is cut by timeout_ms (0.5 s) and resumes.
  EXPECT_LT(longest, absl::Seconds(60));
  // Flat: later rounds do not keep growing past the first one's level.
  if (rounds > 2) {
    EXPECT_LT(rss_end, rss_after_first_round + 64 * 1024);
  }
}

}  // namespace
