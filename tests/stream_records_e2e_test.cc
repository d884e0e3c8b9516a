// StreamRecords, TestQuery, Acknowledge and WriteRecords through gRPC
// against Dovecot, Cyrus and Courier: a generated folder whose every
// message is known is streamed in full and by queries, and every field of
// every record is checked against the generator's truth; then resume,
// acknowledge, UIDVALIDITY changes, follow mode, the connection's flags,
// faults injected by a cutting proxy, cancellation, and memory with large
// messages and a slow reader.
#include <openssl/sha.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/time.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "imap/session/fetch.h"
#include "imap/session/session.h"
#include "imap/wire/fetch_data.h"
#include "tests/fixtures/fault_proxy.h"
#include "tests/fixtures/bad_request.h"
#include "tests/fixtures/engine_session.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/server_process.h"

namespace {

using connector::v1::Connection;
using connector::v1::Record;
using connector::v1::StreamRecordsRequest;
using connector::v1::StreamRecordsResponse;
using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerKind;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

constexpr int kMessages = 40;

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// What the generator knows about one message.
struct Truth {
  std::string raw;
  std::string subject;
  std::string from_name, from_address;
  std::vector<std::string> to;
  std::vector<std::string> cc;
  absl::Time date;
  absl::Time internal_date;
  std::string message_id;
  std::string text_body;  // LF line ends, as records carry it
  std::string html_body;  // "" when none
  std::string attachment_name;  // "" when none
  std::string attachment_content;
  bool flagged = false;
  uint32_t uid = 0;
};

Truth MakeMessage(int i, const std::string& tag) {
  Truth t;
  const bool non_ascii = i % 3 == 0;
  t.subject = non_ascii ? absl::StrCat("Grüße ", i, " aus Köln") : absl::StrCat("Message ", i, " of ", tag);
  const std::string subject_header =
      non_ascii ? absl::StrCat("=?utf-8?q?Gr=C3=BC=C3=9Fe_", i, "_aus_K=C3=B6ln?=") : t.subject;
  t.from_name = absl::StrCat("Sender ", i);
  t.from_address = absl::StrCat("sender", i, "@example.com");
  t.to = {"team@example.com", absl::StrCat("user", i % 4, "@example.org")};
  if (i % 2 == 0) t.cc = {"audit@example.net"};
  t.date = absl::FromCivil(absl::CivilSecond(2024, 3, 1, 8, 0, 0), absl::UTCTimeZone()) +
           absl::Hours(13 * i) + absl::Seconds(i);
  t.internal_date = absl::FromCivil(absl::CivilSecond(2024, 4, 1, 0, 0, 0), absl::UTCTimeZone()) +
                    absl::Hours(7 * i);
  t.message_id = absl::StrCat("<", tag, "-", i, "@example.com>");
  t.text_body = absl::StrCat("Hello number ", i, ".\nSecond line ", tag, "\n");
  t.flagged = i % 5 == 0;
  const std::string crlf_body = absl::StrReplaceAll(t.text_body, {{"\n", "\r\n"}});
  std::string headers = absl::StrCat(
      "From: ", t.from_name, " <", t.from_address, ">\r\nTo: ", t.to[0], ", ", t.to[1], "\r\n",
      t.cc.empty() ? "" : absl::StrCat("Cc: ", t.cc[0], "\r\n"), "Subject: ", subject_header,
      "\r\nDate: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S +0200", t.date, absl::FixedTimeZone(7200)),
      "\r\nMessage-ID: ", t.message_id, "\r\nMIME-Version: 1.0\r\n");
  if (i % 4 == 1) {
    t.attachment_name = i % 8 == 1 ? absl::StrCat("Bericht-", i, "-ä.pdf") : absl::StrCat("data-", i, ".bin");
    t.attachment_content = absl::StrCat("attachment payload ", i, std::string(static_cast<size_t>(i) * 37, 'x'));
    std::string b64;
    absl::Base64Escape(t.attachment_content, &b64);
    const std::string disposition =
        i % 8 == 1 ? absl::StrCat("attachment; filename*=utf-8''Bericht-", i, "-%C3%A4.pdf")
                   : absl::StrCat("attachment; filename=\"", t.attachment_name, "\"");
    t.raw = absl::StrCat(headers, "Content-Type: multipart/mixed; boundary=\"=b", i, "\"\r\n\r\n--=b", i,
                         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", crlf_body, "\r\n--=b", i,
                         "\r\nContent-Type: application/octet-stream\r\nContent-Disposition: ", disposition,
                         "\r\nContent-Transfer-Encoding: base64\r\n\r\n", b64, "\r\n--=b", i, "--\r\n");
  } else if (i % 4 == 2) {
    t.html_body = absl::StrCat("<p>Hello number ", i, "</p>\n");
    t.raw = absl::StrCat(headers, "Content-Type: multipart/alternative; boundary=\"alt", i, "\"\r\n\r\n--alt", i,
                         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", crlf_body, "\r\n--alt", i,
                         "\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
                         absl::StrReplaceAll(t.html_body, {{"\n", "\r\n"}}), "\r\n--alt", i, "--\r\n");
  } else {
    t.raw = absl::StrCat(headers, "Content-Type: text/plain; charset=utf-8\r\n\r\n", crlf_body);
  }
  return t;
}

// A logged-in engine session, to seed folders and look at flags.
std::unique_ptr<imap::Session> EngineSession(const ImapServerFixture& server) {
  return testing_fixtures::LoggedInEngineSession(server);
}

// FETCH FLAGS of every message of `folder`: uid -> flags.
std::map<uint32_t, std::set<std::string>> FlagsOf(imap::Session& s, const std::string& folder) {
  std::map<uint32_t, std::set<std::string>> out;
  absl::StatusOr<imap::MailboxInfo> box = s.Examine(folder);
  if (!box.ok() || box->exists == 0) return out;
  imap::wire::UidSet all;
  all.AddRange(1, 4000000000u);
  absl::StatusOr<std::unique_ptr<imap::FetchStream>> stream = s.UidFetch({all}, "(UID FLAGS)");
  if (!stream.ok()) return out;
  while (true) {
    absl::StatusOr<imap::FetchStream::Event> e = (*stream)->Next();
    if (!e.ok() || *e == imap::FetchStream::Event::kDone) break;
    if (*e != imap::FetchStream::Event::kMessage) continue;
    absl::StatusOr<imap::wire::FetchAttributes> a = imap::wire::ParseFetch((*stream)->message());
    if (a.ok() && a->uid.has_value() && a->flags.has_value()) {
      out[*a->uid] = std::set<std::string>(a->flags->begin(), a->flags->end());
    }
  }
  return out;
}

using testing_fixtures::ViolatedFields;

struct Servers {
  std::map<ServerKind, std::unique_ptr<ImapServerFixture>> running;
};
Servers* servers = nullptr;

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    servers = new Servers;
    for (ServerKind kind : {ServerKind::kDovecot, ServerKind::kCyrus, ServerKind::kCourier}) {
      absl::StatusOr<std::unique_ptr<ImapServerFixture>> s = ImapServerFixture::Start(kind);
      ASSERT_TRUE(s.ok()) << s.status();
      servers->running[kind] = *std::move(s);
    }
  }
  void TearDown() override {
    delete servers;
    servers = nullptr;
  }
};

// What one StreamRecords call delivered.
struct StreamResult {
  std::vector<Record> records;
  std::vector<StreamRecordsResponse> batches;  // without their records
  std::vector<int> batch_sizes;                // records per batch
  grpc::Status status;
};

class StreamRecordsTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    ASSERT_NE(servers, nullptr);
    imap_ = servers->running[GetParam()].get();
    ASSERT_NE(imap_, nullptr);
    char tmpl[] = "/tmp/imapc-stream-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    temp_dir_ = tmpl;
    StartConnector({"--reconnect_backoff=10ms", "--follow_poll_interval=200ms"});
    engine_ = EngineSession(*imap_);
    ASSERT_NE(engine_, nullptr);
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    folder_ = imap_->Folder(absl::StrCat("t", getpid(), "-", absl::StrReplaceAll(info->name(), {{"/", "-"}})));
  }

  void TearDown() override {
    // Courier's DELETE takes 2 s; its folders go with the instance anyway.
    if (engine_ != nullptr && GetParam() != ServerKind::kCourier) (void)engine_->Delete(folder_);
    connector_.reset();
    testing_fixtures::RunCommand(absl::StrCat("rm -rf '", temp_dir_, "'"));
  }

  void StartConnector(const std::vector<std::string>& flags) {
    connector_.reset();
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(temp_dir_ + "/store", flags);
    ASSERT_TRUE(s.ok()) << s.status();
    connector_ = *std::move(s);
    stub_ = connector::v1::Connector::NewStub(connector_->channel());
  }

  // Creates the test's folder with `count` generated messages; fills uids.
  std::vector<Truth> Seed(int count, int first = 0) {
    std::vector<Truth> out;
    if (first == 0) {
      EXPECT_TRUE(engine_->Create(folder_).ok());
    }
    for (int i = first; i < first + count; ++i) {
      Truth t = MakeMessage(i, folder_);
      std::vector<std::string> flags;
      if (t.flagged) flags.push_back("\\Flagged");
      absl::StatusOr<imap::AppendResult> a = engine_->Append(folder_, t.raw, flags, t.internal_date);
      EXPECT_TRUE(a.ok()) << a.status();
      if (a.ok() && a->uid.has_value()) t.uid = *a->uid;
      out.push_back(std::move(t));
    }
    return out;
  }

  Connection MakeConnection(const std::string& name = "mail", int port = 0) {
    Connection c;
    c.set_name(name);
    c.set_username(ImapServerFixture::kUser);
    c.set_password(ImapServerFixture::kPassword);
    c.set_server_url(absl::StrCat("imaps://localhost:", port != 0 ? port : imap_->imaps_port()));
    c.mutable_tls()->set_ca_bundle_pem(imap_->ca_pem());
    c.set_timeout_ms(10000);
    c.set_default_folder(folder_);
    return c;
  }

  grpc::Status Configure(const Connection& c) {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = c;
    connector::v1::ConfigureResponse response;
    return stub_->Configure(&ctx, request, &response);
  }

  // Streams `request`; cancels after `stop_after` records when >= 0.
  StreamResult Stream(const StreamRecordsRequest& request, int stop_after = -1,
                      absl::Duration deadline = absl::Seconds(120)) {
    StreamResult out;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader =
        stub_->StreamRecords(&ctx, request);
    StreamRecordsResponse batch;
    bool cancelled = false;
    while (!cancelled && reader->Read(&batch)) {
      out.batch_sizes.push_back(batch.records_size());
      for (Record& r : *batch.mutable_records()) {
        out.records.push_back(std::move(r));
        if (stop_after >= 0 && static_cast<int>(out.records.size()) >= stop_after) {
          cancelled = true;
          break;
        }
      }
      batch.clear_records();
      out.batches.push_back(batch);
    }
    if (cancelled) ctx.TryCancel();
    out.status = reader->Finish();
    return out;
  }

  StreamRecordsRequest Inline(const Connection& c, const std::string& query = "") {
    StreamRecordsRequest r;
    *r.mutable_connection()->mutable_connection() = c;
    if (!query.empty()) r.set_query(query);
    return r;
  }

  StreamRecordsRequest Named(const std::string& name, const std::string& query = "") {
    StreamRecordsRequest r;
    r.mutable_connection()->set_name(name);
    if (!query.empty()) r.set_query(query);
    return r;
  }

  static std::vector<uint32_t> Uids(const std::vector<Record>& records) {
    std::vector<uint32_t> out;
    for (const Record& r : records) out.push_back(r.uid());
    return out;
  }

  static std::vector<uint32_t> Uids(const std::vector<Truth>& truth) {
    std::vector<uint32_t> out;
    for (const Truth& t : truth) out.push_back(t.uid);
    return out;
  }

  ImapServerFixture* imap_ = nullptr;
  std::string temp_dir_;
  std::string folder_;
  std::unique_ptr<ServerProcess> connector_;
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
  std::unique_ptr<imap::Session> engine_;
};

void ExpectAddresses(const connector::v1::Value& v, const std::vector<std::string>& want) {
  std::vector<std::string> got;
  for (const auto& a : v.address_list().addresses()) got.push_back(a.address());
  EXPECT_EQ(got, want);
}

TEST_P(StreamRecordsTest, EveryFieldOfEveryRecordMatchesTheGenerator) {
  std::vector<Truth> truth = Seed(kMessages);
  StreamRecordsRequest request = Inline(
      MakeConnection(),
      "SELECT uid, folder, uidvalidity, message_id, subject, from, to, cc, date, internal_date, "
      "size, flags, text_body, html_body, attachments, has_attachment, defects");
  request.set_max_batch_records(7);
  StreamResult r = Stream(request);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.records.size(), truth.size());
  EXPECT_EQ(Uids(r.records), Uids(truth));

  // Schema first, batches bounded (7 records at most), the folder reported done.
  ASSERT_FALSE(r.batches.empty());
  EXPECT_GE(r.batches.size(), static_cast<size_t>((kMessages + 6) / 7));
  for (int n : r.batch_sizes) EXPECT_LE(n, 7);
  EXPECT_EQ(r.batches[0].schema_size(), 17);
  EXPECT_EQ(r.batches[0].schema(4).name(), "subject");
  EXPECT_EQ(r.batches[0].schema(4).type(), connector::v1::COLUMN_TYPE_STRING);
  EXPECT_EQ(r.batches[0].schema(8).type(), connector::v1::COLUMN_TYPE_TIMESTAMP);
  EXPECT_EQ(r.batches.back().folder_done(), folder_);
  EXPECT_FALSE(r.batches.back().cursor().empty());

  for (size_t i = 0; i < truth.size(); ++i) {
    const Truth& t = truth[i];
    const Record& rec = r.records[i];
    SCOPED_TRACE(absl::StrCat("message ", i));
    const auto& f = rec.fields();
    EXPECT_EQ(rec.folder(), folder_);
    EXPECT_EQ(f.at("uid").int_value(), t.uid);
    EXPECT_EQ(f.at("folder").string_value(), folder_);
    EXPECT_EQ(f.at("uidvalidity").int_value(), rec.uid_validity());
    EXPECT_EQ(f.at("message_id").string_value(), t.message_id);
    EXPECT_EQ(f.at("subject").string_value(), t.subject);
    ASSERT_EQ(f.at("from").address_list().addresses_size(), 1);
    EXPECT_EQ(f.at("from").address_list().addresses(0).name(), t.from_name);
    EXPECT_EQ(f.at("from").address_list().addresses(0).address(), t.from_address);
    ExpectAddresses(f.at("to"), t.to);
    ExpectAddresses(f.at("cc"), t.cc);
    EXPECT_EQ(f.at("date").timestamp_value().unix_millis(), absl::ToUnixMillis(t.date));
    EXPECT_EQ(f.at("date").timestamp_value().text(),
              absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t.date, absl::UTCTimeZone()));
    EXPECT_EQ(f.at("internal_date").timestamp_value().unix_millis(), absl::ToUnixMillis(t.internal_date));
    EXPECT_EQ(f.at("size").int_value(), static_cast<int64_t>(t.raw.size()));
    std::vector<std::string> flags(f.at("flags").string_list().values().begin(),
                                   f.at("flags").string_list().values().end());
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Flagged"), t.flagged ? 1 : 0);
    EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 0) << "reading must not set \\Seen";
    EXPECT_EQ(f.at("text_body").string_value(), t.text_body);
    if (t.html_body.empty()) {
      EXPECT_EQ(f.at("html_body").kind_case(), connector::v1::Value::KIND_NOT_SET);
    } else {
      EXPECT_EQ(f.at("html_body").string_value(), t.html_body);
    }
    const auto& attachments = f.at("attachments").attachment_list().attachments();
    EXPECT_EQ(f.at("has_attachment").bool_value(), !t.attachment_name.empty());
    if (t.attachment_name.empty()) {
      EXPECT_EQ(attachments.size(), 0);
    } else {
      ASSERT_EQ(attachments.size(), 1);
      EXPECT_EQ(attachments[0].filename(), t.attachment_name);
      EXPECT_EQ(attachments[0].size(), t.attachment_content.size());
      EXPECT_EQ(attachments[0].sha256(), Sha256Hex(t.attachment_content));
      EXPECT_FALSE(attachments[0].has_content());
    }
    EXPECT_EQ(f.at("defects").string_list().values_size(), 0);
    EXPECT_EQ(rec.defects_size(), 0);
  }
  for (const auto& [uid, flags] : FlagsOf(*engine_, folder_)) {
    EXPECT_EQ(flags.count("\\Seen"), 0u) << "uid " << uid;
  }
  // The same bodies when only text columns are asked for (text parts only).
  StreamResult texts = Stream(Inline(MakeConnection(), "SELECT uid, text_body, html_body WHERE body CONTAINS 'number'"));
  ASSERT_TRUE(texts.status.ok()) << texts.status.error_message();
  ASSERT_EQ(texts.records.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(texts.records[i].fields().at("text_body").string_value(), truth[i].text_body) << i;
    EXPECT_EQ(texts.records[i].fields().at("html_body").string_value(), truth[i].html_body) << i;
  }
}

TEST_P(StreamRecordsTest, QueriesStreamExactlyTheMatchingMessages) {
  std::vector<Truth> truth = Seed(kMessages);
  struct Case {
    std::string query;
    std::function<bool(const Truth&)> want;
  };
  const std::vector<Case> cases = {
      {"SELECT uid WHERE flagged", [](const Truth& t) { return t.flagged; }},
      {"SELECT uid WHERE subject CONTAINS 'köln'",
       [](const Truth& t) { return absl::StrContains(t.subject, "Köln"); }},
      {"SELECT uid WHERE has_attachment AND NOT flagged",
       [](const Truth& t) { return !t.attachment_name.empty() && !t.flagged; }},
      {"SELECT uid WHERE date >= '2024-03-10' AND from LIKE 'sender1%'",
       [](const Truth& t) {
         return t.date >= absl::FromCivil(absl::CivilDay(2024, 3, 10), absl::UTCTimeZone()) &&
                absl::StartsWith(t.from_address, "sender1");
       }},
      {"SELECT uid WHERE attachment_name LIKE '%.pdf' OR cc = 'audit@example.net'",
       [](const Truth& t) { return absl::EndsWith(t.attachment_name, ".pdf") || !t.cc.empty(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    std::vector<uint32_t> want;
    for (const Truth& t : truth) {
      if (c.want(t)) want.push_back(t.uid);
    }
    ASSERT_FALSE(want.empty());
    StreamResult r = Stream(Inline(MakeConnection(), c.query));
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(Uids(r.records), want);
    for (const Record& rec : r.records) {
      EXPECT_EQ(rec.fields_size(), 1);
      EXPECT_TRUE(rec.fields().count("uid"));
    }
  }
  // LIMIT counts records across the stream.
  StreamResult limited = Stream(Inline(MakeConnection(), "SELECT uid LIMIT 5"));
  ASSERT_TRUE(limited.status.ok());
  const std::vector<uint32_t> all = Uids(truth);
  EXPECT_EQ(Uids(limited.records), std::vector<uint32_t>(all.begin(), all.begin() + 5));
}

TEST_P(StreamRecordsTest, ResumeAfterACursorLosesAndRepeatsNothing) {
  std::vector<Truth> truth = Seed(kMessages);
  std::mt19937 rng(1127);
  std::vector<uint32_t> received;
  std::string cursor;
  int calls = 0;
  while (calls < 100) {
    ++calls;
    StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid, subject");
    request.set_resume_after(cursor);
    request.set_max_batch_records(1 + static_cast<int>(rng() % 5));
    const int stop_after = 1 + static_cast<int>(rng() % 9);
    StreamResult r = Stream(request, stop_after);
    for (const Record& rec : r.records) received.push_back(rec.uid());
    if (!r.records.empty()) cursor = r.records.back().cursor();
    if (r.status.ok()) break;
    ASSERT_EQ(r.status.error_code(), grpc::StatusCode::CANCELLED) << r.status.error_message();
  }
  EXPECT_GT(calls, 4);
  EXPECT_EQ(received, Uids(truth));
  // A finished stream's cursor resumes to nothing; new mail arrives after it.
  StreamRecordsRequest again = Inline(MakeConnection(), "SELECT uid");
  again.set_resume_after(cursor);
  StreamResult empty = Stream(again);
  ASSERT_TRUE(empty.status.ok());
  EXPECT_TRUE(empty.records.empty());
  std::vector<Truth> more = Seed(3, kMessages);
  StreamResult fresh = Stream(again);
  ASSERT_TRUE(fresh.status.ok());
  EXPECT_EQ(Uids(fresh.records), Uids(more));
}

TEST_P(StreamRecordsTest, AcknowledgeRunsPostActionsOnlyUpToTheCursorAndOnce) {
  std::vector<Truth> truth = Seed(12);
  Connection c = MakeConnection("acked");
  c.mutable_post_actions()->set_mark_seen(true);
  c.mutable_post_actions()->add_add_keywords("Processed");
  ASSERT_TRUE(Configure(c).ok());
  StreamResult first = Stream(Named("acked", "SELECT uid"), 5);
  ASSERT_GE(first.records.size(), 5u);
  // Nothing changed by reading.
  for (const auto& [uid, flags] : FlagsOf(*engine_, folder_)) EXPECT_EQ(flags.count("\\Seen"), 0u);

  connector::v1::AcknowledgeRequest ack;
  ack.mutable_connection()->set_name("acked");
  ack.set_cursor(first.records[4].cursor());
  for (int round = 0; round < 2; ++round) {
    grpc::ClientContext ctx;
    connector::v1::AcknowledgeResponse response;
    grpc::Status s = stub_->Acknowledge(&ctx, ack, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.messages_changed(), round == 0 ? 5u : 0u);
  }
  std::map<uint32_t, std::set<std::string>> flags = FlagsOf(*engine_, folder_);
  for (size_t i = 0; i < truth.size(); ++i) {
    const bool acked = i < 5;
    EXPECT_EQ(flags[truth[i].uid].count("\\Seen"), acked ? 1u : 0u) << i;
    EXPECT_EQ(flags[truth[i].uid].count("Processed"), acked ? 1u : 0u) << i;
  }
  // "What is new since last time" starts after the acknowledged cursor.
  StreamRecordsRequest rest = Named("acked", "SELECT uid");
  rest.set_since_last_ack(true);
  StreamResult r = Stream(rest);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const std::vector<uint32_t> all = Uids(truth);
  EXPECT_EQ(Uids(r.records), std::vector<uint32_t>(all.begin() + 5, all.end()));

  // Move as a post-action, given on the request.
  const std::string archive = folder_ + "-done";
  ASSERT_TRUE(engine_->Create(archive).ok());
  connector::v1::AcknowledgeRequest move;
  move.mutable_connection()->set_name("acked");
  move.set_cursor(r.records[2].cursor());
  move.mutable_post_actions()->set_move_to(archive);
  grpc::ClientContext ctx;
  connector::v1::AcknowledgeResponse response;
  grpc::Status s = stub_->Acknowledge(&ctx, move, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.messages_changed(), 3u);
  EXPECT_EQ(FlagsOf(*engine_, archive).size(), 3u);
  EXPECT_EQ(FlagsOf(*engine_, folder_).size(), truth.size() - 3);
  (void)engine_->Delete(archive);

  // Delete as a post-action: exactly the next two acknowledged messages go.
  connector::v1::AcknowledgeRequest remove;
  remove.mutable_connection()->set_name("acked");
  remove.set_cursor(r.records[4].cursor());
  remove.mutable_post_actions()->set_delete_(true);
  grpc::ClientContext delete_ctx;
  s = stub_->Acknowledge(&delete_ctx, remove, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.messages_changed(), 2u);
  std::map<uint32_t, std::set<std::string>> left = FlagsOf(*engine_, folder_);
  EXPECT_EQ(left.size(), truth.size() - 5);
  EXPECT_EQ(left.count(r.records[3].uid()), 0u);
  EXPECT_EQ(left.count(r.records[4].uid()), 0u);
  EXPECT_EQ(left.count(r.records[5].uid()), 1u);
}

TEST_P(StreamRecordsTest, ChangedUidValidityFailsUnlessAFullRereadIsAsked) {
  Seed(4);
  StreamResult before = Stream(Inline(MakeConnection(), "SELECT uid"));
  ASSERT_TRUE(before.status.ok());
  const std::string cursor = before.batches.back().cursor();
  ASSERT_TRUE(engine_->Delete(folder_).ok());
  std::vector<Truth> again = Seed(3);
  StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid");
  request.set_resume_after(cursor);
  StreamResult refused = Stream(request);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("UIDVALIDITY"));
  EXPECT_THAT(refused.status.error_message(), HasSubstr("full_reread_on_uidvalidity_change"));
  request.set_full_reread_on_uidvalidity_change(true);
  StreamResult reread = Stream(request);
  ASSERT_TRUE(reread.status.ok()) << reread.status.error_message();
  EXPECT_EQ(Uids(reread.records), Uids(again));
}

TEST_P(StreamRecordsTest, FollowModeDeliversMailAppendedDuringTheStream) {
  std::vector<Truth> truth = Seed(3);
  Connection c = MakeConnection();
  // Courier's IDLE looks for new mail every 60 s only (IMAP_ENHANCEDIDLE=0,
  // Debian's default): IDLE begun again each second shows it at once.
  if (GetParam() == ServerKind::kCourier) c.set_idle_refresh_ms(1000);
  StreamRecordsRequest request = Inline(c, "SELECT uid, subject");
  request.set_follow(true);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto reader = stub_->StreamRecords(&ctx, request);
  StreamRecordsResponse batch;
  std::vector<uint32_t> got;
  bool folder_done = false;
  while (!folder_done && reader->Read(&batch)) {
    for (const Record& r : batch.records()) got.push_back(r.uid());
    folder_done = !batch.folder_done().empty();
  }
  ASSERT_TRUE(folder_done);
  EXPECT_EQ(got, Uids(truth));
  std::vector<Truth> more = Seed(3, 3);
  const absl::Time appended = absl::Now();
  while (got.size() < 6 && reader->Read(&batch)) {
    for (const Record& r : batch.records()) got.push_back(r.uid());
  }
  // Well within Courier's 60 s poll: IDLE was begun again meanwhile.
  EXPECT_LT(absl::Now() - appended, absl::Seconds(15));
  std::vector<uint32_t> want = Uids(truth);
  for (uint32_t uid : Uids(more)) want.push_back(uid);
  EXPECT_EQ(got, want);
  ctx.TryCancel();
  while (reader->Read(&batch)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_P(StreamRecordsTest, TheConnectionFormsFlagsAreEnforced) {
  Seed(1);
  Connection inactive = MakeConnection("inactive");
  inactive.set_is_active(false);
  ASSERT_TRUE(Configure(inactive).ok());
  StreamResult r = Stream(Named("inactive"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(r.status.error_message(), HasSubstr("is_active"));

  Connection target = MakeConnection("target-only");
  target.set_is_source(false);
  target.set_is_target(true);
  ASSERT_TRUE(Configure(target).ok());
  r = Stream(Named("target-only"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(r.status.error_message(), HasSubstr("is_source"));

  ASSERT_TRUE(Configure(MakeConnection("elsewhere")).ok());
  StartConnector({"--agent=other-agent"});
  r = Stream(Named("elsewhere"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(r.status.error_message(), HasSubstr("agent"));
}

TEST_P(StreamRecordsTest, DateTimeFormatRendersDateColumns) {
  std::vector<Truth> truth = Seed(2);
  Connection c = MakeConnection();
  c.set_datetime_format("%d.%m.%Y %H:%M");
  StreamResult r = Stream(Inline(c, "SELECT date, internal_date"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.records.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.records[i].fields().at("date").timestamp_value().text(),
              absl::FormatTime("%d.%m.%Y %H:%M", truth[i].date, absl::UTCTimeZone()));
    EXPECT_EQ(r.records[i].fields().at("internal_date").timestamp_value().text(),
              absl::FormatTime("%d.%m.%Y %H:%M", truth[i].internal_date, absl::UTCTimeZone()));
  }
}

TEST_P(StreamRecordsTest, UndecodableMessagesArriveWithTheirDefects) {
  ASSERT_TRUE(engine_->Create(folder_).ok());
  const std::string broken =
      "From: =?x-unknown-charset?q?Bad?= <broken@example.com>\r\nSubject: broken\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n"
      "--never-closed\r\nContent-Type: text/plain; charset=x-unknown\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n";
  ASSERT_TRUE(engine_->Append(folder_, broken).ok());
  Truth fine = MakeMessage(7, folder_);
  ASSERT_TRUE(engine_->Append(folder_, fine.raw).ok());
  StreamResult r = Stream(Inline(MakeConnection(), "SELECT subject, text_body, defects"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].fields().at("subject").string_value(), "broken");
  EXPECT_GT(r.records[0].defects_size(), 0);
  EXPECT_EQ(r.records[0].fields().at("defects").string_list().values_size(), r.records[0].defects_size());
  EXPECT_EQ(r.records[1].fields().at("subject").string_value(), fine.subject);
  EXPECT_EQ(r.records[1].defects_size(), 0);
}

TEST_P(StreamRecordsTest, BadRequestsNameTheirField) {
  Seed(1);
  StreamResult r = Stream(Inline(MakeConnection(), "SELECT subjcet"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(r.status.error_message(), HasSubstr("subject"));
  EXPECT_EQ(ViolatedFields(r.status), std::set<std::string>{"query"});

  StreamRecordsRequest bad_cursor = Inline(MakeConnection());
  bad_cursor.set_resume_after("not-a-cursor");
  bad_cursor.set_shard_count(2);
  bad_cursor.set_shard_index(2);
  r = Stream(bad_cursor);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedFields(r.status), (std::set<std::string>{"resume_after", "shard_index"}));

  r = Stream(Inline(MakeConnection(), "SELECT uid ORDER BY uid DESC"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Issue 13 point 13: a control character in a FROM folder name is
  // refused where it stands.
  r = Stream(Inline(MakeConnection(), "SELECT uid FROM \"a\rb\""));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(r.status.error_message(),
              HasSubstr("line 1, column 19: a folder name cannot contain control characters"));

  Connection missing = MakeConnection();
  missing.set_default_folder(folder_ + "-missing");
  r = Stream(Inline(missing));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::NOT_FOUND) << r.status.error_message();
}

// Issue 13 points 14 and 15: a uuencoded file in the text is an attachment
// (whole-message and text-parts reads alike), and headers the message does
// not have are null, not "".
TEST_P(StreamRecordsTest, UuencodedFilesAreAttachmentsAndMissingHeadersNull) {
  ASSERT_TRUE(engine_->Create(folder_).ok());
  ASSERT_TRUE(engine_->Append(folder_, "From: a@example.com\r\n\r\nHi\r\nbegin 644 c.txt\r\n#0V%T\r\n`\r\nend\r\n")
                  .ok());
  for (const std::string& query : std::vector<std::string>{"SELECT subject, to, text_body, attachments", "SELECT subject, text_body"}) {
    SCOPED_TRACE(query);
    StreamResult r = Stream(Inline(MakeConnection(), query));
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    ASSERT_EQ(r.records.size(), 1u);
    const auto& f = r.records[0].fields();
    EXPECT_EQ(f.at("subject").kind_case(), connector::v1::Value::KIND_NOT_SET);
    EXPECT_EQ(f.at("text_body").string_value(), "Hi\n");
    if (f.contains("to")) {
      EXPECT_EQ(f.at("to").kind_case(), connector::v1::Value::KIND_NOT_SET);
    }
    if (f.contains("attachments")) {
      const auto& attachments = f.at("attachments").attachment_list().attachments();
      ASSERT_EQ(attachments.size(), 1);
      EXPECT_EQ(attachments[0].filename(), "c.txt");
      EXPECT_EQ(attachments[0].size(), 3u);
      // sha256("Cat"), computed apart from the connector.
      EXPECT_EQ(attachments[0].sha256(), "48735c4fae42d1501164976afec76730b9e5fe467f680bdd8daff4bb77674045");
    }
  }
}

TEST_P(StreamRecordsTest, ShardsSplitAFolderWithoutOverlapOrGap) {
  std::vector<Truth> truth = Seed(17);
  std::vector<uint32_t> all;
  for (int shard = 0; shard < 3; ++shard) {
    StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid");
    request.set_shard_count(3);
    request.set_shard_index(shard);
    StreamResult r = Stream(request);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_FALSE(r.records.empty());
    for (const Record& rec : r.records) all.push_back(rec.uid());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Uids(truth));
}

TEST_P(StreamRecordsTest, ParallelConnectionsKeepUidOrderAndResumeExactly) {
  std::vector<Truth> truth = Seed(kMessages);
  StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid, subject, attachments");
  request.set_parallelism(3);
  request.set_max_batch_records(4);  // chunks of 4 UIDs: several per worker
  StreamResult r = Stream(request);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(Uids(r.records), Uids(truth));
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(r.records[i].fields().at("subject").string_value(), truth[i].subject);
  }
  // Stop and resume in the middle, a query with a client-side check.
  std::vector<uint32_t> want;
  for (const Truth& t : truth) {
    if (absl::StartsWith(t.subject, "Message")) want.push_back(t.uid);
  }
  StreamRecordsRequest part = Inline(MakeConnection(), "SELECT uid WHERE subject LIKE 'Message%'");
  part.set_parallelism(4);
  part.set_max_batch_records(2);
  StreamResult first = Stream(part, 5);
  ASSERT_GE(first.records.size(), 5u);
  part.set_resume_after(first.records[4].cursor());
  StreamResult rest = Stream(part);
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  std::vector<uint32_t> got = Uids(first.records);
  got.resize(5);
  for (uint32_t uid : Uids(rest.records)) got.push_back(uid);
  EXPECT_EQ(got, want);
}

TEST_P(StreamRecordsTest, TestQueryShowsSchemaSamplesCountsAndPlanWithoutChangingAnything) {
  std::vector<Truth> truth = Seed(kMessages);
  connector::v1::TestQueryRequest request;
  *request.mutable_connection()->mutable_connection() = MakeConnection();
  request.set_query("SELECT subject, from, attachments WHERE flagged OR subject LIKE 'Grüße%'");
  request.set_sample_size(3);
  grpc::ClientContext ctx;
  connector::v1::TestQueryResponse response;
  grpc::Status s = stub_->TestQuery(&ctx, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.schema_size(), 3);
  EXPECT_EQ(response.schema(1).name(), "from");
  EXPECT_EQ(response.schema(1).type(), connector::v1::COLUMN_TYPE_ADDRESS_LIST);
  EXPECT_EQ(response.samples_size(), 3);
  ASSERT_EQ(response.folders_size(), 1);
  EXPECT_EQ(response.folders(0).folder(), folder_);
  EXPECT_EQ(response.folders(0).messages(), static_cast<uint32_t>(kMessages));
  int expected = 0;
  for (const Truth& t : truth) expected += t.flagged || absl::StartsWith(t.subject, "Grüße");
  // SEARCH narrows by SUBJECT "Grüße" (a superset of the LIKE); the client checks the rest.
  EXPECT_GE(response.folders(0).matched_by_search(), static_cast<uint64_t>(expected));
  EXPECT_FALSE(response.folders(0).search_is_exact());
  EXPECT_THAT(response.client_filter(), HasSubstr("LIKE 'Grüße%'"));
  bool saw_search = false, saw_fetch = false;
  for (const std::string& command : response.imap_commands()) {
    saw_search |= absl::StartsWith(command, "UID SEARCH ");
    saw_fetch |= absl::StrContains(command, "BODY.PEEK[");
    EXPECT_FALSE(absl::StrContains(command, "SELECT \"")) << command;
  }
  EXPECT_TRUE(saw_search);
  EXPECT_TRUE(saw_fetch);
  std::set<std::string> steps;
  for (const auto& step : response.steps()) steps.insert(step.name());
  EXPECT_TRUE(steps.count("login") && steps.count("run") && steps.count("compile"));
  for (const auto& [uid, flags] : FlagsOf(*engine_, folder_)) EXPECT_EQ(flags.count("\\Seen"), 0u);

  // A query that does not parse: where and what.
  request.set_query("SELECT subject\nWHERE date >= ");
  grpc::ClientContext bad_ctx;
  s = stub_->TestQuery(&bad_ctx, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("line 2"));
  EXPECT_EQ(ViolatedFields(s), std::set<std::string>{"query"});
}

TEST_P(StreamRecordsTest, DroppedConnectionsAreResumedWithEveryMessageExactlyOnce) {
  std::vector<Truth> truth = Seed(kMessages);
  int total_cuts = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    // Cuts land anywhere: in TLS, login, SEARCH or in the middle of FETCH.
    testing_fixtures::FaultProxy proxy(imap_->imaps_port(), seed, /*faulty=*/3, 300, 9000);
    StreamRecordsRequest request =
        Inline(MakeConnection("mail", proxy.port()), "SELECT uid, subject, attachments");
    request.set_max_batch_records(4);
    if (seed % 3 == 0) request.set_parallelism(3);  // cuts hit one of several connections
    StreamResult r = Stream(request);
    ASSERT_TRUE(r.status.ok()) << r.status.error_message();
    EXPECT_EQ(Uids(r.records), Uids(truth));
    total_cuts += proxy.cut();
    EXPECT_GE(proxy.accepted(), proxy.cut() + 1);
  }
  EXPECT_GE(total_cuts, 12);
  EXPECT_THAT(connector_->log(), HasSubstr("reconnecting"));
}

TEST_P(StreamRecordsTest, CancellingAndDeadlinesStopTheImapWorkPromptly) {
  Seed(kMessages);
  StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid");
  request.set_max_batch_records(1);
  // A follow stream never ends by itself, so the server sees the cancel
  // (a short stream could be complete, buffered in flow-control windows).
  request.set_follow(true);
  StreamResult cancelled = Stream(request, 2);
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);

  // A follow stream blocked in IDLE (or polling) ends at the call's deadline.
  const absl::Time start = absl::Now();
  StreamResult timed = Stream(request, -1, absl::Seconds(3));
  EXPECT_EQ(timed.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(timed.records.size(), static_cast<size_t>(kMessages));
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  // The server side ends too, and says so.
  const absl::Time until = absl::Now() + absl::Seconds(20);
  while (absl::Now() < until && !absl::StrContains(connector_->log(), "DEADLINE_EXCEEDED")) {
    absl::SleepFor(absl::Milliseconds(50));  // polling the log for a condition
  }
  EXPECT_THAT(connector_->log(), HasSubstr("DEADLINE_EXCEEDED"));
  // The log says who cancelled (issue 13, point 16).
  EXPECT_THAT(connector_->log(), ::testing::AnyOf(HasSubstr("CANCELLED"), HasSubstr("the client cancelled")));
}

connector::v1::OutgoingMessage Composed(int i) {
  connector::v1::OutgoingMessage m;
  connector::v1::ComposedMessage* c = m.mutable_composed();
  auto* from = c->add_from();
  from->set_name(absl::StrCat("Jörg Müller ", i));
  from->set_address(absl::StrCat("joerg", i, "@example.de"));
  auto* to = c->add_to();
  to->set_name("Zoë \"Z\" Quinn");
  to->set_address("zoe@example.net");
  c->add_to()->set_address("team@example.com");
  if (i % 2 == 0) c->add_cc()->set_address("audit@example.org");
  c->set_subject(absl::StrCat("Grüße Nr. ", i, " – Bericht für März, ein langer Betreff der gefaltet werden muss"));
  c->set_date_unix_millis(1717236000000 + i * 60000);
  c->set_text_body(absl::StrCat("Hallo,\n\nZeile ", i, " mit Umlauten: äöü ß.\n"));
  if (i % 3 == 0) c->set_html_body(absl::StrCat("<p>Hallo <b>", i, "</b> – äöü</p>\n"));
  if (i % 2 == 1) {
    auto* a = c->add_attachments();
    a->set_filename(absl::StrCat("Übersicht-", i, " für das erste Quartal 2024 (vertraulich).pdf"));
    a->set_content_type("application/pdf");
    a->set_content(absl::StrCat("%PDF-", std::string(static_cast<size_t>(3000 + i), static_cast<char>(i))));
  }
  m.add_flags("\\Flagged");
  m.add_flags("Archived");
  m.set_internal_date_unix_millis(1717300000000 + i * 1000);
  return m;
}

TEST_P(StreamRecordsTest, WrittenRecordsStreamBackFieldForField) {
  Connection target = MakeConnection("target");
  target.set_is_target(true);
  ASSERT_TRUE(Configure(target).ok());
  std::vector<connector::v1::OutgoingMessage> sent;
  for (int i = 0; i < 6; ++i) sent.push_back(Composed(i));
  connector::v1::OutgoingMessage raw;
  const Truth plain = MakeMessage(3, folder_);
  raw.set_raw(plain.raw);
  sent.push_back(raw);
  // A large attachment (8 MB) and a large raw message (11 MB) go through too.
  connector::v1::OutgoingMessage big = Composed(11);
  std::mt19937 rng(11);
  std::string blob(8u << 20, '\0');
  for (char& c : blob) c = static_cast<char>(rng());
  big.mutable_composed()->mutable_attachments(0)->set_content(blob);
  sent.push_back(big);
  connector::v1::OutgoingMessage big_raw;
  std::string b64;
  absl::Base64Escape(blob, &b64);
  std::string wrapped;
  for (size_t at = 0; at < b64.size(); at += 76) absl::StrAppend(&wrapped, b64.substr(at, 76), "\r\n");
  big_raw.set_raw(absl::StrCat("From: big@example.com\r\nSubject: big raw\r\nMessage-ID: <big-raw@example.com>\r\n"
                               "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
                               "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
                               "Content-Transfer-Encoding: base64\r\n\r\n", wrapped));
  sent.push_back(big_raw);
  connector::v1::OutgoingMessage bad = Composed(9);
  bad.mutable_composed()->mutable_to(0)->set_address("not an address");
  sent.push_back(bad);

  auto write = [&](bool skip_existing, bool create) {
    grpc::ClientContext ctx;
    connector::v1::WriteRecordsResponse response;
    auto writer = stub_->WriteRecords(&ctx, &response);
    connector::v1::WriteRecordsRequest first;
    first.mutable_options()->mutable_connection()->set_name("target");
    first.mutable_options()->set_create_folder(create);
    first.mutable_options()->set_skip_existing_message_ids(skip_existing);
    EXPECT_TRUE(writer->Write(first));
    for (const auto& m : sent) {
      connector::v1::WriteRecordsRequest r;
      *r.mutable_message() = m;
      EXPECT_TRUE(writer->Write(r));
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  };
  // The folder does not exist yet: created on request.
  connector::v1::WriteRecordsResponse first = write(false, true);
  EXPECT_EQ(first.folder(), folder_);
  EXPECT_EQ(first.written(), 9u);
  EXPECT_EQ(first.failed(), 1u);
  ASSERT_EQ(first.results_size(), 10);
  EXPECT_EQ(first.results(9).error_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(first.results(9).error_message(), HasSubstr("messages[9].composed.to[0].address"));
  for (int i = 0; i < 9; ++i) {
    EXPECT_GT(first.results(i).uid(), 0u) << i;
    EXPECT_FALSE(first.results(i).message_id().empty());
  }
  // A retried batch writes nothing twice.
  connector::v1::WriteRecordsResponse again = write(true, false);
  EXPECT_EQ(again.written(), 0u);
  EXPECT_EQ(again.skipped(), 9u);
  EXPECT_EQ(FlagsOf(*engine_, folder_).size(), 9u);

  StreamResult r = Stream(Inline(MakeConnection(),
                                 "SELECT message_id, subject, from, to, cc, date, internal_date, "
                                 "flags, keywords, text_body, html_body, attachments"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.records.size(), 9u);
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(absl::StrCat("composed ", i));
    const connector::v1::ComposedMessage& c = sent[static_cast<size_t>(i)].composed();
    const auto& f = r.records[static_cast<size_t>(i)].fields();
    EXPECT_EQ(r.records[static_cast<size_t>(i)].uid(), first.results(i).uid());
    EXPECT_EQ(f.at("message_id").string_value(), first.results(i).message_id());
    EXPECT_EQ(f.at("subject").string_value(), c.subject());
    EXPECT_EQ(f.at("from").address_list().addresses(0).name(), c.from(0).name());
    EXPECT_EQ(f.at("from").address_list().addresses(0).address(), c.from(0).address());
    ASSERT_EQ(f.at("to").address_list().addresses_size(), 2);
    EXPECT_EQ(f.at("to").address_list().addresses(0).name(), "Zoë \"Z\" Quinn");
    EXPECT_EQ(f.at("to").address_list().addresses(1).address(), "team@example.com");
    EXPECT_EQ(f.at("cc").address_list().addresses_size(), i % 2 == 0 ? 1 : 0);
    EXPECT_EQ(f.at("date").timestamp_value().unix_millis(), c.date_unix_millis());
    EXPECT_EQ(f.at("internal_date").timestamp_value().unix_millis(),
              sent[static_cast<size_t>(i)].internal_date_unix_millis());
    EXPECT_EQ(f.at("text_body").string_value(), c.text_body());
    if (c.html_body().empty()) {
      EXPECT_EQ(f.at("html_body").kind_case(), connector::v1::Value::KIND_NOT_SET);
    } else {
      EXPECT_EQ(f.at("html_body").string_value(), c.html_body());
    }
    const auto& attachments = f.at("attachments").attachment_list().attachments();
    ASSERT_EQ(attachments.size(), c.attachments_size());
    for (int k = 0; k < attachments.size(); ++k) {
      EXPECT_EQ(attachments[k].filename(), c.attachments(k).filename());
      EXPECT_EQ(attachments[k].content_type(), "application/pdf");
      EXPECT_EQ(attachments[k].sha256(), Sha256Hex(c.attachments(k).content()));
    }
    std::vector<std::string> flags(f.at("flags").string_list().values().begin(),
                                   f.at("flags").string_list().values().end());
    EXPECT_THAT(flags, ::testing::Contains("\\Flagged"));
    EXPECT_THAT(std::vector<std::string>(f.at("keywords").string_list().values().begin(),
                                         f.at("keywords").string_list().values().end()),
                ::testing::Contains("Archived"));
    EXPECT_EQ(r.records[static_cast<size_t>(i)].defects_size(), 0);
  }
  // Text columns alone fetch only the text parts (BODYSTRUCTURE first):
  // the same bodies, and no attachment bytes.
  StreamResult texts = Stream(Inline(MakeConnection(), "SELECT uid, text_body, html_body"));
  ASSERT_TRUE(texts.status.ok()) << texts.status.error_message();
  ASSERT_EQ(texts.records.size(), 9u);
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(texts.records[i].fields().at("text_body").string_value(),
              r.records[i].fields().at("text_body").string_value()) << i;
    EXPECT_EQ(texts.records[i].fields().at("html_body").kind_case(),
              r.records[i].fields().at("html_body").kind_case()) << i;
    EXPECT_EQ(texts.records[i].fields().at("html_body").string_value(),
              r.records[i].fields().at("html_body").string_value()) << i;
    EXPECT_EQ(texts.records[i].defects_size(), 0) << i;
  }
  const auto& big_attachments = r.records[7].fields().at("attachments").attachment_list().attachments();
  ASSERT_EQ(big_attachments.size(), 1);
  EXPECT_EQ(big_attachments[0].size(), blob.size());
  EXPECT_EQ(big_attachments[0].sha256(), Sha256Hex(blob));
  const auto& raw_attachments = r.records[8].fields().at("attachments").attachment_list().attachments();
  ASSERT_EQ(raw_attachments.size(), 1);
  EXPECT_EQ(raw_attachments[0].sha256(), Sha256Hex(blob));
  EXPECT_EQ(r.records[8].fields().at("message_id").string_value(), "<big-raw@example.com>");
  EXPECT_EQ(r.records[6].fields().at("subject").string_value(), plain.subject);
  EXPECT_EQ(r.records[6].fields().at("message_id").string_value(), plain.message_id);

  // Not a target: refused, naming the flag.
  grpc::ClientContext ctx;
  connector::v1::WriteRecordsResponse response;
  auto writer = stub_->WriteRecords(&ctx, &response);
  connector::v1::WriteRecordsRequest options;
  ASSERT_TRUE(Configure(MakeConnection("source-only")).ok());
  options.mutable_options()->mutable_connection()->set_name("source-only");
  writer->Write(options);
  writer->WritesDone();
  grpc::Status refused = writer->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("is_target"));
}

TEST_P(StreamRecordsTest, WriteRecordsRefusesOptionsAgainAndDatesImapCannotStore) {
  Connection target = MakeConnection("target");
  target.set_is_target(true);
  ASSERT_TRUE(Configure(target).ok());
  connector::v1::WriteRecordsRequest options;
  options.mutable_options()->mutable_connection()->set_name("target");
  options.mutable_options()->set_create_folder(true);
  auto message = [](int i, int64_t internal_date) {
    connector::v1::WriteRecordsRequest r;
    r.mutable_message()->set_raw(absl::StrCat("From: a@example.com\r\nSubject: dated ", i,
                                              "\r\nMessage-ID: <dated-", i, "@example.com>\r\n\r\nbody\r\n"));
    r.mutable_message()->set_internal_date_unix_millis(internal_date);
    return r;
  };

  // Dates: the range's ends are written, anything outside is that message's
  // INVALID_ARGUMENT naming its field, and the others are still written.
  const int64_t kFirst = 1000;                // 1970-01-01T00:00:01Z
  const int64_t kLast = 4294967295999;        // 2106-02-07T06:28:15Z
  const int64_t dates[] = {kFirst, -1, kFirst - 1, kLast + 1, 253402300800000 /* year 10000 */,
                           1717300000000, kLast};
  connector::v1::WriteRecordsResponse dated;
  {
    grpc::ClientContext ctx;
    auto writer = stub_->WriteRecords(&ctx, &dated);
    ASSERT_TRUE(writer->Write(options));
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(writer->Write(message(i, dates[i])));
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(dated.results_size(), 7);
  EXPECT_EQ(dated.written(), 3u);
  EXPECT_EQ(dated.failed(), 4u);
  for (int i : {1, 2, 3, 4}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(dated.results(i).error_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    EXPECT_THAT(dated.results(i).error_message(),
                HasSubstr(absl::StrCat("messages[", i, "].internal_date_unix_millis: is ", dates[i])));
    EXPECT_EQ(dated.results(i).uid(), 0u);
  }
  StreamResult written = Stream(Inline(MakeConnection(), "SELECT subject, internal_date"));
  ASSERT_TRUE(written.status.ok()) << written.status.error_message();
  ASSERT_EQ(written.records.size(), 3u);
  EXPECT_EQ(written.records[0].fields().at("subject").string_value(), "dated 0");
  EXPECT_EQ(written.records[0].fields().at("internal_date").timestamp_value().unix_millis(), kFirst);
  EXPECT_EQ(written.records[1].fields().at("internal_date").timestamp_value().unix_millis(), dates[5]);
  // Dovecot stores a date in the future as the time of arrival.
  EXPECT_EQ(written.records[2].fields().at("subject").string_value(), "dated 6");

  // Options again after a message: refused, naming the request; the message
  // before it was written, the one after it was not read.
  connector::v1::WriteRecordsResponse refused_response;
  grpc::ClientContext ctx;
  auto writer = stub_->WriteRecords(&ctx, &refused_response);
  ASSERT_TRUE(writer->Write(options));
  ASSERT_TRUE(writer->Write(message(7, 0)));
  ASSERT_TRUE(writer->Write(options));
  writer->Write(message(8, 0));  // may fail: the server may have answered already
  writer->WritesDone();
  grpc::Status refused = writer->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedFields(refused), std::set<std::string>{"requests[2].options"});
  EXPECT_THAT(refused.error_message(), HasSubstr("only the first request may carry options"));
  EXPECT_THAT(refused.error_message(), HasSubstr("1 written"));
  StreamResult after = Stream(Inline(MakeConnection(), "SELECT subject"));
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  ASSERT_EQ(after.records.size(), 4u);
  EXPECT_EQ(after.records[3].fields().at("subject").string_value(), "dated 7");
}

// Peak resident memory of a process, from /proc (VmHWM), in KiB.
int64_t PeakRssKib(pid_t pid) {
  const std::string status = testing_fixtures::ReadFile(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, "VmHWM:")) {
      int64_t kib = 0;
      if (absl::SimpleAtoi(absl::StripSuffix(absl::StripAsciiWhitespace(line), " kB"), &kib)) return kib;
    }
  }
  return -1;
}

TEST_P(StreamRecordsTest, LargeMessagesToASlowReaderKeepServerMemoryBounded) {
  if (GetParam() != ServerKind::kDovecot) GTEST_SKIP() << "one server is enough for memory";
  ASSERT_TRUE(engine_->Create(folder_).ok());
  constexpr int kLarge = 5;
  constexpr size_t kAttachmentBytes = 15u << 20;  // 20 MB as base64
  std::mt19937 rng(5);
  std::vector<std::string> sha;
  for (int i = 0; i < kLarge; ++i) {
    std::string content(kAttachmentBytes, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    std::string b64;
    absl::Base64Escape(content, &b64);
    std::string wrapped;
    for (size_t at = 0; at < b64.size(); at += 76) absl::StrAppend(&wrapped, b64.substr(at, 76), "\r\n");
    const std::string message = absl::StrCat(
        "From: big@example.com\r\nSubject: large ", i,
        "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
        "Content-Type: text/plain\r\n\r\nsee attached\r\n--B\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=\"blob.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        wrapped, "--B--\r\n");
    ASSERT_GT(message.size(), 20u << 20);
    ASSERT_TRUE(engine_->Append(folder_, message).ok());
    sha.push_back(Sha256Hex(content));
  }
  const int64_t before = PeakRssKib(connector_->pid());
  StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid, subject, text_body, attachments");
  request.set_max_batch_records(1);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(300)));
  auto reader = stub_->StreamRecords(&ctx, request);
  StreamRecordsResponse batch;
  std::vector<std::string> got;
  while (reader->Read(&batch)) {
    for (const Record& r : batch.records()) {
      ASSERT_EQ(r.fields().at("attachments").attachment_list().attachments_size(), 1);
      got.push_back(r.fields().at("attachments").attachment_list().attachments(0).sha256());
    }
    // The slow consumer under test: the server must wait, not buffer.
    absl::SleepFor(absl::Milliseconds(300));
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(got, sha);
  const int64_t peak = PeakRssKib(connector_->pid());
  std::cout << "connector peak RSS: " << before / 1024 << " MiB before, " << peak / 1024
            << " MiB after streaming " << kLarge << " messages of 20+ MiB\n";
  RecordProperty("peak_rss_mib", static_cast<int>(peak / 1024));
  // Far below one message: bodies are streamed and hashed, never held.
  EXPECT_LT(peak - before, 20 * 1024);
}

// Two connections: the one reading a chunk ahead of the records being sent
// holds a few batches' bytes of it, not the whole chunk, however large its
// records (here 1.5 MB each, attachment content included, to a slow
// reader; chunks of 10 messages, so a chunk ahead would be 15 MB).
TEST_P(StreamRecordsTest, ParallelReadAheadIsBoundedInBytes) {
  if (GetParam() != ServerKind::kDovecot) GTEST_SKIP() << "one server is enough for memory";
  ASSERT_TRUE(engine_->Create(folder_).ok());
  constexpr int kLarge = 30;
  constexpr size_t kContentBytes = 1536u << 10;
  std::mt19937 rng(7);
  std::vector<std::string> sha;
  for (int i = 0; i < kLarge; ++i) {
    std::string content(kContentBytes, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    std::string b64;
    absl::Base64Escape(content, &b64);
    std::string wrapped;
    for (size_t at = 0; at < b64.size(); at += 76) absl::StrAppend(&wrapped, b64.substr(at, 76), "\r\n");
    ASSERT_TRUE(engine_
                    ->Append(folder_,
                             absl::StrCat("From: big@example.com\r\nSubject: part ", i,
                                          "\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream"
                                          "\r\nContent-Disposition: attachment; filename=\"b.bin\"\r\n"
                                          "Content-Transfer-Encoding: base64\r\n\r\n",
                                          wrapped))
                    .ok());
    sha.push_back(Sha256Hex(content));
  }
  const int64_t before = PeakRssKib(connector_->pid());
  StreamRecordsRequest request = Inline(MakeConnection(), "SELECT uid, attachments");
  request.set_include_attachment_content(true);
  request.set_parallelism(2);
  request.set_max_batch_records(2);  // chunks of 10 messages
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  auto reader = stub_->StreamRecords(&ctx, request);
  StreamRecordsResponse batch;
  std::vector<std::string> got;
  while (reader->Read(&batch)) {
    for (const Record& r : batch.records()) {
      const auto& list = r.fields().at("attachments").attachment_list();
      ASSERT_EQ(list.attachments_size(), 1);
      EXPECT_EQ(list.attachments(0).content().size(), kContentBytes);
      got.push_back(list.attachments(0).sha256());
    }
    // The slow consumer under test: the server must wait, not buffer.
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(got, sha);
  const int64_t peak = PeakRssKib(connector_->pid());
  std::cout << "connector peak RSS: " << before / 1024 << " MiB before, " << peak / 1024
            << " MiB after\n";
  // About 20 MiB: each connection's message in the making (its content
  // decoded and encoded), the bound, and the batches on their way. A
  // whole chunk held ahead took it to 44 MiB.
  EXPECT_LT(peak - before, 32 * 1024);
}

INSTANTIATE_TEST_SUITE_P(Servers, StreamRecordsTest,
                         ::testing::Values(ServerKind::kDovecot, ServerKind::kCyrus, ServerKind::kCourier),
                         [](const ::testing::TestParamInfo<ServerKind>& param) {
                           return std::string(testing_fixtures::ServerKindName(param.param));
                         });

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new Environment);
  return RUN_ALL_TESTS();
}
