// Several replicas, through the real binary against Dovecot: two server
// processes over one data directory (replicas on one ReadWriteMany volume)
// share connections, acknowledged positions and the cursor key; replicas
// with a data directory each (--replicas_share_data_dir=false) keep no
// state and say so.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "imap/session/session.h"
#include "tests/fixtures/dovecot_environment.h"
#include "tests/fixtures/engine_session.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

namespace {

using connector::v1::AcknowledgeRequest;
using connector::v1::AcknowledgeResponse;
using connector::v1::Connection;
using connector::v1::Connector;
using connector::v1::StreamRecordsRequest;
using connector::v1::StreamRecordsResponse;
using testing_fixtures::ImapServerFixture;
using testing_fixtures::RunCommand;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

ImapServerFixture* dovecot = nullptr;

constexpr int kMessages = 10;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string JsonEscaped(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

// A logged-in engine session, to seed the test's folder.
std::unique_ptr<imap::Session> EngineSession() {
  return testing_fixtures::LoggedInEngineSession(*dovecot);
}

struct Streamed {
  grpc::Status status;
  std::vector<uint32_t> uids;
  std::vector<std::string> cursors;  // one per record
};

Streamed Stream(Connector::Stub& stub, const StreamRecordsRequest& request, int stop_after = -1) {
  Streamed out;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader = stub.StreamRecords(&ctx, request);
  StreamRecordsResponse batch;
  bool stopped = false;
  while (!stopped && reader->Read(&batch)) {
    for (const connector::v1::Record& r : batch.records()) {
      out.uids.push_back(r.uid());
      out.cursors.push_back(r.cursor());
      if (stop_after >= 0 && static_cast<int>(out.uids.size()) >= stop_after) {
        stopped = true;
        break;
      }
    }
  }
  if (stopped) ctx.TryCancel();
  out.status = reader->Finish();
  return out;
}

StreamRecordsRequest Named(const std::string& name, bool since_last_ack = false) {
  StreamRecordsRequest r;
  r.mutable_connection()->set_name(name);
  r.set_query("SELECT uid");
  r.set_max_batch_records(2);
  r.set_since_last_ack(since_last_ack);
  return r;
}

grpc::Status Ack(Connector::Stub& stub, const std::string& name, const std::string& cursor,
                 AcknowledgeResponse* response, bool no_post_actions = false) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  AcknowledgeRequest request;
  request.mutable_connection()->set_name(name);
  request.set_cursor(cursor);
  if (no_post_actions) request.mutable_post_actions();  // set, and empty: nothing to run
  return stub.Acknowledge(&ctx, request, response);
}

absl::StatusOr<Connection> Get(Connector::Stub& stub, const std::string& name) {
  grpc::ClientContext ctx;
  connector::v1::GetConnectionRequest request;
  request.set_name(name);
  Connection c;
  grpc::Status s = stub.GetConnection(&ctx, request, &c);
  if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  return c;
}

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(dovecot, nullptr);
    ASSERT_TRUE(temp_dir_.ok());
    dir_ = temp_dir_.path();
    engine_ = EngineSession();
    ASSERT_NE(engine_, nullptr);
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = dovecot->Folder(absl::StrCat("r", getpid(), "-", info->name()));
    ASSERT_TRUE(engine_->Create(folder_).ok());
    for (int i = 0; i < kMessages; ++i) {
      const std::string raw = absl::StrCat("From: a@example.com\r\nSubject: replica ", i,
                                           "\r\nMessage-ID: <replica-", i, "@example.com>\r\n\r\nbody ", i,
                                           "\r\n");
      absl::StatusOr<imap::AppendResult> a = engine_->Append(folder_, raw);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(a->uid.has_value());
      uids_.push_back(*a->uid);
    }
    // One declared connection, "shared", served by every replica.
    WriteFile(dir_ + "/connections.json",
              absl::StrCat("{\"connections\": [{\"name\": \"shared\", \"serverUrl\": \"imaps://localhost:",
                           dovecot->imaps_port(), "\", \"username\": \"", ImapServerFixture::kUser,
                           "\", \"timeoutMs\": 10000, \"defaultFolder\": \"", JsonEscaped(folder_),
                           "\", \"postActions\": {\"markSeen\": true}, \"tls\": {\"caBundlePem\": \"",
                           JsonEscaped(dovecot->ca_pem()), "\"}}]}"));
    ASSERT_EQ(RunCommand(absl::StrCat("mkdir -p '", dir_, "/secrets'")), 0);
    WriteFile(dir_ + "/secrets/shared", absl::StrCat(ImapServerFixture::kPassword, "\n"));
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    if (engine_ != nullptr) (void)engine_->Delete(folder_);
  }

  std::vector<std::string> DeclaredFlags() const {
    return {absl::StrCat("--connections_file=", dir_, "/connections.json"),
            absl::StrCat("--secrets_dir=", dir_, "/secrets")};
  }

  // Starts replicas A and B over `data_dir` (the same for both unless
  // `data_dir_b` is given) at the same moment.
  void StartBoth(const std::string& data_dir, std::vector<std::string> flags = {},
                 const std::string& data_dir_b = "") {
    for (const std::string& f : DeclaredFlags()) flags.push_back(f);
    absl::StatusOr<std::unique_ptr<ServerProcess>> a, b;
    std::thread other([&] { b = ServerProcess::Start(data_dir_b.empty() ? data_dir : data_dir_b, flags); });
    a = ServerProcess::Start(data_dir, flags);
    other.join();
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    a_ = *std::move(a);
    b_ = *std::move(b);
    stub_a_ = Connector::NewStub(a_->channel());
    stub_b_ = Connector::NewStub(b_->channel());
  }

  Connection Stored(const std::string& name) const {
    Connection c;
    c.set_name(name);
    c.set_username(ImapServerFixture::kUser);
    c.set_password(ImapServerFixture::kPassword);
    c.set_server_url(absl::StrCat("imaps://localhost:", dovecot->imaps_port()));
    c.mutable_tls()->set_ca_bundle_pem(dovecot->ca_pem());
    c.set_timeout_ms(10000);
    c.set_default_folder(folder_);
    return c;
  }

  std::vector<uint32_t> UidsFrom(size_t first) const {
    return std::vector<uint32_t>(uids_.begin() + static_cast<std::ptrdiff_t>(first), uids_.end());
  }

  testing_fixtures::TempDir temp_dir_{"imapc-replicas"};
  std::string dir_;  // temp_dir_'s path
  std::string folder_;
  std::vector<uint32_t> uids_;
  std::unique_ptr<imap::Session> engine_;
  std::unique_ptr<ServerProcess> a_, b_;
  std::unique_ptr<Connector::Stub> stub_a_, stub_b_;
};

// The proof: a stream on A, an Acknowledge on B, a resume with
// since_last_ack on A that starts exactly after the acknowledged record.
TEST_F(ReplicasTest, StreamOnOneAcknowledgeOnTheOtherResumeOnTheFirst) {
  StartBoth(dir_ + "/data");
  Streamed first = Stream(*stub_a_, Named("shared"), 4);
  ASSERT_EQ(first.uids, std::vector<uint32_t>(uids_.begin(), uids_.begin() + 4))
      << first.status.error_message();

  AcknowledgeResponse acked;
  grpc::Status s = Ack(*stub_b_, "shared", first.cursors[3], &acked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(acked.recorded());
  EXPECT_EQ(acked.messages_changed(), 4u);  // the declared post-action: mark seen
  EXPECT_EQ(acked.cursor(), first.cursors[3]);

  // A sees B's acknowledgement without a restart.
  absl::StatusOr<Connection> on_a = Get(*stub_a_, "shared");
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  EXPECT_EQ(on_a->last_ack_cursor(), first.cursors[3]);
  Streamed rest = Stream(*stub_a_, Named("shared", /*since_last_ack=*/true));
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_EQ(rest.uids, UidsFrom(4));  // no loss, no repeat

  // And the other way round: acknowledged on A, resumed on B.
  ASSERT_TRUE(Ack(*stub_a_, "shared", rest.cursors[2], &acked).ok());
  Streamed on_b = Stream(*stub_b_, Named("shared", /*since_last_ack=*/true));
  ASSERT_TRUE(on_b.status.ok()) << on_b.status.error_message();
  EXPECT_EQ(on_b.uids, UidsFrom(7));

  // Acknowledging again on B what A acknowledged changes nothing.
  ASSERT_TRUE(Ack(*stub_b_, "shared", rest.cursors[2], &acked).ok());
  EXPECT_EQ(acked.messages_changed(), 0u);
}

TEST_F(ReplicasTest, ConfigureOnOneIsServedByTheOther) {
  StartBoth(dir_ + "/data");
  {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = Stored("configured");
    connector::v1::ConfigureResponse response;
    grpc::Status s = stub_a_->Configure(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  absl::StatusOr<Connection> on_b = Get(*stub_b_, "configured");
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_TRUE(on_b->has_password());
  Streamed all = Stream(*stub_b_, Named("configured"));
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.uids, uids_);

  // Acknowledged on B, the position survives a Configure on A that does
  // not carry it.
  AcknowledgeResponse acked;
  ASSERT_TRUE(Ack(*stub_b_, "configured", all.cursors[5], &acked).ok());
  {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = Stored("configured");
    request.mutable_connection()->set_timeout_ms(20000);
    connector::v1::ConfigureResponse response;
    ASSERT_TRUE(stub_a_->Configure(&ctx, request, &response).ok());
    EXPECT_EQ(response.connection().last_ack_cursor(), all.cursors[5]);
  }
  Streamed rest = Stream(*stub_a_, Named("configured", /*since_last_ack=*/true));
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_EQ(rest.uids, UidsFrom(6));

  {
    grpc::ClientContext ctx;
    connector::v1::DeleteConnectionRequest request;
    request.set_name("configured");
    connector::v1::DeleteConnectionResponse response;
    ASSERT_TRUE(stub_b_->DeleteConnection(&ctx, request, &response).ok());
  }
  EXPECT_EQ(Get(*stub_a_, "configured").status().code(), absl::StatusCode::kNotFound);
}

// Acknowledgements racing on two replicas, in opposite orders: the
// furthest position wins, for a declared and for a configured connection.
TEST_F(ReplicasTest, ConcurrentAcknowledgesEndWithTheFurthest) {
  StartBoth(dir_ + "/data");
  {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = Stored("configured");
    connector::v1::ConfigureResponse response;
    ASSERT_TRUE(stub_a_->Configure(&ctx, request, &response).ok());
  }
  for (const std::string name : {"shared", "configured"}) {
    Streamed all = Stream(*stub_a_, Named(name));
    ASSERT_EQ(all.uids, uids_) << all.status.error_message();
    std::vector<std::string> errors_a, errors_b;
    auto run = [&](Connector::Stub* stub, std::vector<int> order, std::vector<std::string>* errors) {
      for (int i : order) {
        AcknowledgeResponse acked;
        grpc::Status s = Ack(*stub, name, all.cursors[static_cast<size_t>(i)], &acked, true);
        if (!s.ok()) errors->push_back(s.error_message());
      }
    };
    std::thread on_a(run, stub_a_.get(), std::vector<int>{0, 2, 4, 6, 8, 9}, &errors_a);
    std::thread on_b(run, stub_b_.get(), std::vector<int>{9, 7, 5, 3, 1}, &errors_b);
    on_a.join();
    on_b.join();
    EXPECT_TRUE(errors_a.empty()) << errors_a.front();
    EXPECT_TRUE(errors_b.empty()) << errors_b.front();
    for (Connector::Stub* stub : {stub_a_.get(), stub_b_.get()}) {
      absl::StatusOr<Connection> c = Get(*stub, name);
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_EQ(c->last_ack_cursor(), all.cursors.back()) << name;
      Streamed rest = Stream(*stub, Named(name, /*since_last_ack=*/true));
      ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
      EXPECT_TRUE(rest.uids.empty()) << name << ": " << rest.uids.size() << " records after the last";
    }
    // An earlier cursor acknowledged now answers the recorded position.
    AcknowledgeResponse late;
    ASSERT_TRUE(Ack(*stub_b_, name, all.cursors[1], &late, true).ok());
    EXPECT_EQ(late.cursor(), all.cursors.back());
  }
}

// Servers started at the same moment over an empty data directory make
// one cursor key between them: a cursor from one is taken by the other.
TEST_F(ReplicasTest, ServersStartingTogetherAgreeOnOneCursorKey) {
  for (int round = 0; round < 3; ++round) {
    const std::string data = absl::StrCat(dir_, "/empty-", round);
    StartBoth(data);
    const std::vector<std::string> keys =
        absl::StrSplit(ReadFile(data + "/cursor-keys"), '\n', absl::SkipEmpty());
    EXPECT_EQ(keys.size(), 1u);
    Streamed first = Stream(*stub_a_, Named("shared"), 3);
    ASSERT_EQ(first.cursors.size(), 3u) << first.status.error_message();
    StreamRecordsRequest resume = Named("shared");
    resume.set_resume_after(first.cursors[2]);
    Streamed rest = Stream(*stub_b_, resume);
    ASSERT_TRUE(rest.status.ok()) << "round " << round << ": " << rest.status.error_message();
    EXPECT_EQ(rest.uids, UidsFrom(3));
    AcknowledgeResponse acked;
    grpc::Status s = Ack(*stub_b_, "shared", first.cursors[2], &acked, true);
    EXPECT_TRUE(s.ok()) << s.error_message();
    a_.reset();
    b_.reset();
  }
}

// Replicas with a data directory each: the orchestrator's cursor is the
// only state, and whatever would need more is refused with the way out.
TEST_F(ReplicasTest, WithoutASharedDataDirectoryTheCursorIsTheOnlyState) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> keyless =
      ServerProcess::Start(dir_ + "/alone", {"--replicas_share_data_dir=false"});
  ASSERT_FALSE(keyless.ok());
  EXPECT_THAT(std::string(keyless.status().message()), HasSubstr("needs --cursor_key_file"));

  WriteFile(dir_ + "/cursor-keys", "replica-test-key-0123456789abcdef\n");
  StartBoth(dir_ + "/data-a",
            {"--replicas_share_data_dir=false", absl::StrCat("--cursor_key_file=", dir_, "/cursor-keys")},
            dir_ + "/data-b");

  Streamed since = Stream(*stub_a_, Named("shared", /*since_last_ack=*/true));
  EXPECT_EQ(since.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(since.status.error_message(), HasSubstr("since_last_ack: "));
  EXPECT_THAT(since.status.error_message(), HasSubstr("resume_after"));
  EXPECT_THAT(since.status.error_message(), HasSubstr("shared data volume"));
  EXPECT_TRUE(since.uids.empty());
  {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = Stored("configured");
    connector::v1::ConfigureResponse response;
    grpc::Status s = stub_a_->Configure(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("Configure: "));
    EXPECT_THAT(s.error_message(), HasSubstr("unknown to the others"));
  }
  {
    grpc::ClientContext ctx;
    connector::v1::DeleteConnectionRequest request;
    request.set_name("shared");
    connector::v1::DeleteConnectionResponse response;
    grpc::Status s = stub_b_->DeleteConnection(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("DeleteConnection: "));
  }

  // Streamed on A, acknowledged on B: the post-action runs, nothing is
  // recorded, and B resumes from the client's cursor.
  Streamed first = Stream(*stub_a_, Named("shared"), 3);
  ASSERT_EQ(first.uids, std::vector<uint32_t>(uids_.begin(), uids_.begin() + 3));
  AcknowledgeResponse acked;
  grpc::Status s = Ack(*stub_b_, "shared", first.cursors[2], &acked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(acked.recorded());
  EXPECT_EQ(acked.messages_changed(), 3u);
  absl::StatusOr<Connection> on_b = Get(*stub_b_, "shared");
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(on_b->last_ack_cursor(), "");
  StreamRecordsRequest resume = Named("shared");
  resume.set_resume_after(acked.cursor());
  Streamed rest = Stream(*stub_b_, resume);
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_EQ(rest.uids, UidsFrom(3));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new testing_fixtures::DovecotEnvironment(&dovecot));
  return RUN_ALL_TESTS();
}
