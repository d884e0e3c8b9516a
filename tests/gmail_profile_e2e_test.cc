// The Gmail profile through gRPC and the real server binary, against
// tests/hostile_imap_server.py --gmail (a small scripted Gmail account:
// X-GM-EXT-1, SPECIAL-USE, labels as folders, one message in two labels):
// the gmail_* columns, label and X-GM-RAW conditions pushed down to the
// server's SEARCH (the script records what it was asked), folders by role,
// deduplication across labels, FAILED_PRECONDITION on a server that is not
// Gmail, and Gmail's and Microsoft's login refusals.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/hostile_server.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

namespace {

using connector::v1::Connection;
using connector::v1::Record;
using connector::v1::StreamRecordsRequest;
using connector::v1::StreamRecordsResponse;
using ScriptedServer = testing_fixtures::HostileServer;
using testing_fixtures::ServerProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The script's Gmail account (tests/hostile_imap_server.py, GMAIL_MESSAGES).
constexpr int64_t kReportId = 1278455344230334865;  // \Inbox \Important Work
constexpr int64_t kDesignId = 1278455344230334867;  // Work, Été
const char kEte[] = "\xC3\x89t\xC3\xA9";             // "Été", "&AMk-t&AOk-" on the wire

class GmailProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new testing_fixtures::TempDir("imapc-gmail-data");
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

  static Connection ConnectionTo(int port) {
    Connection c;
    c.set_name("gmail");
    c.set_is_active(true);
    c.set_is_source(true);
    c.set_is_target(false);
    c.set_server_url("127.0.0.1");
    c.set_port(port);
    c.set_security(connector::v1::SECURITY_NONE);
    c.set_username("alice");
    c.set_password("alice-password");
    c.set_timeout_ms(5000);
    return c;
  }

  struct Streamed {
    grpc::Status status;
    std::vector<Record> records;
  };
  Streamed Stream(const Connection& c, const std::string& query, bool dedup = false,
                  int parallelism = 0) {
    StreamRecordsRequest req;
    *req.mutable_connection()->mutable_connection() = c;
    req.set_query(query);
    req.set_deduplicate_gmail_messages(dedup);
    req.set_parallelism(parallelism);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Streamed out;
    std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader =
        stub_->StreamRecords(&ctx, req);
    StreamRecordsResponse batch;
    while (reader->Read(&batch)) {
      for (const Record& r : batch.records()) out.records.push_back(r);
    }
    out.status = reader->Finish();
    return out;
  }

  static std::vector<std::string> Labels(const Record& r) {
    std::vector<std::string> out;
    for (const std::string& l : r.fields().at("gmail_labels").string_list().values()) {
      out.push_back(l);
    }
    return out;
  }
  static std::vector<uint32_t> Uids(const std::vector<Record>& records) {
    std::vector<uint32_t> out;
    for (const Record& r : records) out.push_back(r.uid());
    return out;
  }

  static ServerProcess* connector_;
  static testing_fixtures::TempDir* data_dir_;  // the server's
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
};

ServerProcess* GmailProfileTest::connector_ = nullptr;
testing_fixtures::TempDir* GmailProfileTest::data_dir_ = nullptr;

TEST_F(GmailProfileTest, GmailColumns) {
  ScriptedServer server({"--gmail"});
  ASSERT_GT(server.port(), 0);
  Streamed s = Stream(ConnectionTo(server.port()),
                      "SELECT uid, subject, gmail_labels, gmail_msgid, gmail_thread_id "
                      "FROM \"[Gmail]/All Mail\"");
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.records.size(), 5u);
  const Record& report = s.records[0];
  EXPECT_EQ(report.folder(), "[Gmail]/All Mail");
  EXPECT_EQ(report.fields().at("subject").string_value(), "quarterly report");
  EXPECT_THAT(Labels(report), ElementsAre("\\Inbox", "\\Important", "Work"));
  // 64-bit ids arrive whole (they are above 2^53: a double would lose them).
  EXPECT_EQ(report.fields().at("gmail_msgid").int_value(), kReportId);
  EXPECT_EQ(report.fields().at("gmail_thread_id").int_value(), kReportId);
  // The reply is in the same conversation.
  EXPECT_EQ(s.records[1].fields().at("gmail_thread_id").int_value(), kReportId);
  EXPECT_NE(s.records[1].fields().at("gmail_msgid").int_value(), kReportId);
  // Labels named in modified UTF-7 arrive as UTF-8; quoted ones unquoted.
  EXPECT_THAT(Labels(s.records[2]), ElementsAre("Work", kEte));
  EXPECT_THAT(Labels(s.records[4]), ElementsAre("\\Inbox", "Two words"));
}

TEST_F(GmailProfileTest, LabelConditionsArePushedDown) {
  ScriptedServer server({"--gmail"});
  Streamed s = Stream(ConnectionTo(server.port()),
                      "SELECT uid, subject FROM \"[Gmail]/All Mail\" "
                      "WHERE gmail_labels CONTAINS 'Work'");
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_THAT(Uids(s.records), ElementsAre(51u, 53u));
  EXPECT_THAT(server.Stats(), HasSubstr("X-GM-LABELS \\\"Work\\\""));

  // A system label, and a label outside ASCII (sent in modified UTF-7).
  Streamed inbox = Stream(ConnectionTo(server.port()),
                          "SELECT uid FROM \"[Gmail]/All Mail\" "
                          "WHERE gmail_labels CONTAINS '\\Inbox'");
  ASSERT_TRUE(inbox.status.ok()) << inbox.status.error_message();
  EXPECT_THAT(Uids(inbox.records), ElementsAre(51u, 52u, 55u));
  Streamed ete = Stream(ConnectionTo(server.port()),
                        absl::StrCat("SELECT uid, gmail_msgid FROM \"[Gmail]/All Mail\" "
                                     "WHERE gmail_labels CONTAINS '",
                                     kEte, "'"));
  ASSERT_TRUE(ete.status.ok()) << ete.status.error_message();
  ASSERT_EQ(ete.records.size(), 1u);
  EXPECT_EQ(ete.records[0].fields().at("gmail_msgid").int_value(), kDesignId);
  EXPECT_THAT(server.Stats(), HasSubstr("X-GM-LABELS \\\"&AMk-t&AOk-\\\""));
}

TEST_F(GmailProfileTest, GmailRawIsASearchOnTheServer) {
  ScriptedServer server({"--gmail"});
  Streamed s = Stream(ConnectionTo(server.port()),
                      "SELECT uid, subject FROM \"[Gmail]/All Mail\" "
                      "WHERE gmail_raw = 'label:work -subject:design'");
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.records[0].fields().at("subject").string_value(), "quarterly report");
  EXPECT_THAT(server.Stats(), HasSubstr("X-GM-RAW \\\"label:work -subject:design\\\""));

  // TestQuery shows the command, and nothing is left to the client.
  connector::v1::TestQueryRequest req;
  *req.mutable_connection()->mutable_connection() = ConnectionTo(server.port());
  req.set_query("SELECT uid FROM INBOX WHERE gmail_raw = 'in:important'");
  connector::v1::TestQueryResponse resp;
  grpc::ClientContext ctx;
  grpc::Status status = stub_->TestQuery(&ctx, req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.client_filter(), "");
  bool shown = false;
  for (const std::string& c : resp.imap_commands()) shown |= absl::StrContains(c, "X-GM-RAW");
  EXPECT_TRUE(shown);
  ASSERT_EQ(resp.samples_size(), 1);
  EXPECT_EQ(resp.samples(0).uid(), 1u);

  // A Gmail search that would have to run on the client is refused.
  Streamed mixed = Stream(ConnectionTo(server.port()),
                          "SELECT uid WHERE gmail_raw = 'x' OR subject LIKE 'a%b'");
  EXPECT_EQ(mixed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(mixed.status.error_message(), HasSubstr("gmail_raw"));
}

TEST_F(GmailProfileTest, FoldersByRole) {
  ScriptedServer server({"--gmail"});
  Streamed sent = Stream(ConnectionTo(server.port()), "SELECT uid, subject FROM role:sent");
  ASSERT_TRUE(sent.status.ok()) << sent.status.error_message();
  ASSERT_EQ(sent.records.size(), 1u);
  EXPECT_EQ(sent.records[0].folder(), "[Gmail]/Sent Mail");
  EXPECT_EQ(sent.records[0].fields().at("subject").string_value(), "lunch on friday");

  // The quoted attribute is the same role; two roles, in the query's order.
  Streamed two = Stream(ConnectionTo(server.port()),
                        "SELECT uid FROM \"\\Important\", role:all");
  ASSERT_TRUE(two.status.ok()) << two.status.error_message();
  std::set<std::string> folders;
  for (const Record& r : two.records) folders.insert(r.folder());
  EXPECT_THAT(folders, ElementsAre("[Gmail]/All Mail", "[Gmail]/Important"));
  EXPECT_EQ(two.records.size(), 6u);  // 1 important + 5 in All Mail
  EXPECT_EQ(two.records[0].folder(), "[Gmail]/Important");

  // An empty Trash is no error.
  Streamed trash = Stream(ConnectionTo(server.port()), "SELECT uid FROM role:trash");
  ASSERT_TRUE(trash.status.ok()) << trash.status.error_message();
  EXPECT_TRUE(trash.records.empty());

  Streamed drafts = Stream(ConnectionTo(server.port()), "SELECT uid FROM role:drafts");
  EXPECT_EQ(drafts.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(drafts.status.error_message(), HasSubstr("no folder has the role drafts"));
  Streamed bogus = Stream(ConnectionTo(server.port()), "SELECT uid FROM role:outbox");
  EXPECT_EQ(bogus.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(bogus.status.error_message(), HasSubstr("unknown folder role 'outbox'"));
}

// INBOX holds the report, the reply and the invoice; Work the report and
// the design review: the report is in both.
TEST_F(GmailProfileTest, DeduplicationAcrossLabels) {
  ScriptedServer server({"--gmail"});
  const std::string query = "SELECT uid, folder, gmail_msgid FROM INBOX, Work";
  Streamed plain = Stream(ConnectionTo(server.port()), query);
  ASSERT_TRUE(plain.status.ok()) << plain.status.error_message();
  EXPECT_EQ(plain.records.size(), 5u);

  for (int parallelism : {1, 2}) {
    SCOPED_TRACE(parallelism);
    Streamed once = Stream(ConnectionTo(server.port()), query, /*dedup=*/true, parallelism);
    ASSERT_TRUE(once.status.ok()) << once.status.error_message();
    std::vector<std::string> seen;
    for (const Record& r : once.records) {
      seen.push_back(absl::StrCat(r.folder(), " ", r.fields().at("gmail_msgid").int_value()));
    }
    EXPECT_THAT(seen, ElementsAre(absl::StrCat("INBOX ", kReportId),
                                  "INBOX 1278455344230334866", "INBOX 1278455344230334869",
                                  absl::StrCat("Work ", kDesignId)));
  }
  // Without selecting gmail_msgid the ids are fetched all the same.
  Streamed narrow = Stream(ConnectionTo(server.port()), "SELECT uid FROM INBOX, Work", true);
  ASSERT_TRUE(narrow.status.ok()) << narrow.status.error_message();
  EXPECT_EQ(narrow.records.size(), 4u);
}

TEST_F(GmailProfileTest, GmailQueriesNeedAGmailServer) {
  ScriptedServer server({"--messages", "3"});  // an ordinary server
  ASSERT_GT(server.port(), 0);
  for (const char* query :
       {"SELECT uid, gmail_labels", "SELECT uid WHERE gmail_raw = 'in:inbox'",
        "SELECT uid WHERE gmail_thread_id = 5"}) {
    SCOPED_TRACE(query);
    Streamed s = Stream(ConnectionTo(server.port()), query);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_TRUE(s.records.empty());
  }
  Streamed labels = Stream(ConnectionTo(server.port()), "SELECT uid, gmail_labels");
  EXPECT_THAT(labels.status.error_message(),
              HasSubstr("gmail_labels needs a Gmail server (X-GM-EXT-1); this server does not "
                        "offer it"));
  Streamed dedup = Stream(ConnectionTo(server.port()), "SELECT uid", /*dedup=*/true);
  EXPECT_EQ(dedup.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(dedup.status.error_message(),
              HasSubstr("deduplicate_gmail_messages needs a Gmail server (X-GM-EXT-1)"));
  // TestQuery says the same.
  connector::v1::TestQueryRequest req;
  *req.mutable_connection()->mutable_connection() = ConnectionTo(server.port());
  req.set_query("SELECT uid, gmail_msgid");
  connector::v1::TestQueryResponse resp;
  grpc::ClientContext ctx;
  grpc::Status status = stub_->TestQuery(&ctx, req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("gmail_msgid needs a Gmail server"));
  // Plain queries still run there.
  Streamed plain = Stream(ConnectionTo(server.port()), "SELECT uid, subject");
  ASSERT_TRUE(plain.status.ok()) << plain.status.error_message();
  EXPECT_EQ(plain.records.size(), 3u);
}

connector::v1::TestConnectionResponse TestConnection(connector::v1::Connector::Stub& stub,
                                                      const Connection& c) {
  connector::v1::TestConnectionRequest req;
  *req.mutable_connection() = c;
  connector::v1::TestConnectionResponse resp;
  grpc::ClientContext ctx;
  grpc::Status status = stub.TestConnection(&ctx, req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return resp;
}

std::string LoginDetail(const connector::v1::TestConnectionResponse& r) {
  for (const auto& s : r.stages()) {
    if (s.name() == "login") return absl::StrCat(s.detail(), " | ", r.message());
  }
  return "";
}

// The providers' refusals reach TestConnection with the server's words.
TEST_F(GmailProfileTest, ProviderLoginRefusals) {
  struct Case {
    std::vector<std::string> args;
    const char* text;
  };
  for (const Case& k :
       {Case{{"--gmail-refuse", "app-password"}, "Application-specific password required"},
        Case{{"--gmail-refuse", "web-login"}, "Please log in via your web browser"},
        Case{{"--m365-refuse"}, "AUTHENTICATE failed."}}) {
    SCOPED_TRACE(k.args[0] + (k.args.size() > 1 ? " " + k.args[1] : ""));
    ScriptedServer server(k.args);
    ASSERT_GT(server.port(), 0);
    connector::v1::TestConnectionResponse r = TestConnection(*stub_, ConnectionTo(server.port()));
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(LoginDetail(r), HasSubstr(k.text));
    EXPECT_THAT(server.Stats(), HasSubstr("\"refused_logins\": 1"));
  }
}

}  // namespace
