// Walks through the connector.v1.Connector API with the synchronous C++
// stub: stores a connection, tests it, previews a query, streams the records
// in two parts (stopping after a few and resuming from the last record's
// cursor), acknowledges them, then shows how a wrong password and a query
// that does not parse are reported. One output line per step, in the format
// of client_examples/README.md.
//
//   connector-client --server=127.0.0.1:50051 --imap-url=imaps://localhost:993
//       --user=alice --password-file=pw.txt --ca-file=cert.pem

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "connector/v1/connector.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace {

namespace pb = ::connector::v1;

constexpr char kQuery[] = "SELECT uid, subject, from, date";
constexpr char kBadQuery[] = "SELECT subjcet";
constexpr auto kTimeout = std::chrono::seconds(60);

// grpc::StatusCode has no names; these are the spec's.
const char* CodeName(grpc::StatusCode code) {
  // clang-format off
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  // clang-format on
  int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN_CODE";
}

// Collects the words of one output line, separated by spaces, and prints
// the line when it goes out of scope, with control characters turned into
// spaces so that a value can never break the line format:
//   Line() << "STEP resume ok" << "records=4";
class Line {
 public:
  template <typename T>
  Line& operator<<(const T& word) {
    if (text_.tellp() > 0) text_ << ' ';
    text_ << word;
    return *this;
  }
  ~Line() {
    std::string s = text_.str();
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    std::cout << s << std::endl;
  }

 private:
  std::ostringstream text_;
};

std::string Fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1fms", v);
  return buf;
}

// Prints a failed call's code and message, and the fields named by a
// google.rpc.BadRequest in its details.
void PrintError(const std::string& step, const grpc::Status& status) {
  Line() << "ERROR" << step << CodeName(status.error_code()) << status.error_message();
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return;
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        Line() << "FIELD" << v.field() << v.description();
      }
    }
  }
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kTimeout);
}

struct Streamed {
  grpc::Status status;
  int count = 0;
  std::string cursor;  // of the last record printed
};

// Prints the records of one StreamRecords call. With stop_after > 0 it
// cancels the call after that many records.
Streamed Stream(pb::Connector::Stub& stub, const pb::StreamRecordsRequest& request,
                int stop_after) {
  grpc::ClientContext context;
  SetDeadline(&context);
  Streamed result;
  std::unique_ptr<grpc::ClientReader<pb::StreamRecordsResponse>> reader =
      stub.StreamRecords(&context, request);
  pb::StreamRecordsResponse batch;
  bool stopped = false;
  while (!stopped && reader->Read(&batch)) {
    for (const pb::Record& record : batch.records()) {
      auto subject = record.fields().find("subject");
      Line() << "RECORD" << record.uid()
             << (subject == record.fields().end() ? "" : subject->second.string_value());
      ++result.count;
      result.cursor = record.cursor();
      if (result.count == stop_after) {
        // The rest of the batch is dropped: we resume after the last record
        // we kept. Finish() then reports CANCELLED, which we asked for.
        context.TryCancel();
        stopped = true;
        break;
      }
    }
  }
  grpc::Status status = reader->Finish();
  if (!(stopped && status.error_code() == grpc::StatusCode::CANCELLED)) result.status = status;
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Options are --key=value; each may come from an environment variable.
std::map<std::string, std::string> ParseOptions(int argc, char** argv) {
  std::map<std::string, std::string> opts = {{"name", "demo"}, {"stop-after", "2"}, {"batch", "3"}};
  const std::pair<const char*, const char*> kEnv[] = {
      {"server", "CONNECTOR_ADDR"}, {"imap-url", "IMAP_URL"}, {"user", "IMAP_USER"},
      {"password-file", "IMAP_PASSWORD_FILE"}, {"ca-file", "IMAP_CA_FILE"}};
  for (const auto& [key, variable] : kEnv) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') opts[key] = value;
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      std::cerr << "expected --key=value, got " << arg << "\n";
      std::exit(2);
    }
    opts[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  for (const char* required : {"server", "imap-url", "user", "password-file"}) {
    if (opts.count(required) == 0) {
      std::cerr << "--" << required << " (or its environment variable) is required\n";
      std::exit(2);
    }
  }
  return opts;
}

int Run(const std::map<std::string, std::string>& opts) {
  const std::string name = opts.at("name");
  const int stop_after = std::stoi(opts.at("stop-after"));
  const int batch = std::stoi(opts.at("batch"));
  std::string password = ReadFile(opts.at("password-file"));
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  std::string ca_pem = opts.count("ca-file") ? ReadFile(opts.at("ca-file")) : "";

  auto channel = grpc::CreateChannel(opts.at("server"), grpc::InsecureChannelCredentials());
  std::unique_ptr<pb::Connector::Stub> stub = pb::Connector::NewStub(channel);

  pb::Connection connection;
  connection.set_name(name);
  connection.set_server_url(opts.at("imap-url"));
  connection.set_username(opts.at("user"));
  connection.set_password(password);
  connection.mutable_tls()->set_ca_bundle_pem(ca_pem);
  connection.set_default_folder("INBOX");
  connection.set_query(kQuery);
  pb::ConnectionRef stored;
  stored.set_name(name);

  {
    pb::ConfigureRequest request;
    *request.mutable_connection() = connection;
    pb::ConfigureResponse reply;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->Configure(&context, request, &reply); !s.ok()) {
      PrintError("configure", s);
      return 1;
    }
    Line() << "STEP configure ok" << (reply.replaced() ? "replaced=true" : "replaced=false")
           << "host=" + reply.connection().effective_host()
           << "port=" + std::to_string(reply.connection().effective_port());
  }
  {
    pb::TestConnectionRequest request;
    request.set_name(name);
    pb::TestConnectionResponse result;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->TestConnection(&context, request, &result); !s.ok()) {
      PrintError("test_connection", s);
      return 1;
    }
    for (const pb::Stage& stage : result.stages()) {
      Line() << "STAGE" << stage.name() << pb::Stage::Result_Name(stage.result())
             << Fixed1(stage.duration_ms()) << stage.detail();
    }
    if (!result.ok()) {
      Line() << "FAILURE test_connection" << pb::FailureCategory_Name(result.category())
             << result.message();
      return 1;
    }
    Line() << "STEP test_connection ok" << "folder=" + result.folder()
           << "messages=" + std::to_string(result.message_count());
  }
  {
    pb::TestQueryRequest request;
    *request.mutable_connection() = stored;
    pb::TestQueryResponse plan;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->TestQuery(&context, request, &plan); !s.ok()) {
      PrintError("test_query", s);
      return 1;
    }
    for (const std::string& command : plan.imap_commands()) Line() << "PLAN command" << command;
    Line() << "PLAN filter" << (plan.client_filter().empty() ? "-" : plan.client_filter());
    for (const pb::FolderMatch& f : plan.folders()) {
      Line() << "PLAN folder" << f.folder() << "messages=" + std::to_string(f.messages())
             << "matched=" + std::to_string(f.matched_by_search())
             << (f.search_is_exact() ? "exact=true" : "exact=false");
    }
    Line() << "STEP test_query ok" << "columns=" + std::to_string(plan.schema_size())
           << "samples=" + std::to_string(plan.samples_size());
  }

  pb::StreamRecordsRequest request;
  *request.mutable_connection() = stored;
  request.set_max_batch_records(batch);
  Streamed first = Stream(*stub, request, stop_after);
  if (!first.status.ok()) {
    PrintError("stream", first.status);
    return 1;
  }
  Line() << "CURSOR" << first.cursor;
  Line() << "STEP stream stopped" << "records=" + std::to_string(first.count);

  request.set_resume_after(first.cursor);
  Streamed rest = Stream(*stub, request, 0);
  if (!rest.status.ok()) {
    PrintError("resume", rest.status);
    return 1;
  }
  Line() << "STEP resume ok" << "records=" + std::to_string(rest.count);

  {
    pb::AcknowledgeRequest ack_request;
    *ack_request.mutable_connection() = stored;
    ack_request.set_cursor(rest.cursor.empty() ? first.cursor : rest.cursor);
    pb::AcknowledgeResponse ack;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->Acknowledge(&context, ack_request, &ack); !s.ok()) {
      PrintError("acknowledge", s);
      return 1;
    }
    Line() << "STEP acknowledge ok" << "cursor=" + ack.cursor()
           << "changed=" + std::to_string(ack.messages_changed());
  }

  // A wrong password: TestConnection answers ok=false with a category...
  pb::Connection wrong = connection;
  wrong.set_name(name + "-wrong");
  wrong.set_password("not-" + password);
  {
    pb::TestConnectionRequest test_request;
    *test_request.mutable_connection() = wrong;
    pb::TestConnectionResponse result;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->TestConnection(&context, test_request, &result); !s.ok()) {
      PrintError("wrong_password", s);
    } else if (result.ok()) {
      Line() << "STEP wrong_password ok";
    } else {
      Line() << "FAILURE wrong_password" << pb::FailureCategory_Name(result.category())
             << result.message();
    }
  }

  // ...while reading records with it fails with UNAUTHENTICATED.
  {
    pb::StreamRecordsRequest wrong_request;
    *wrong_request.mutable_connection()->mutable_connection() = wrong;
    Streamed s = Stream(*stub, wrong_request, 0);
    if (!s.status.ok()) {
      PrintError("wrong_password_stream", s.status);
    } else {
      Line() << "STEP wrong_password_stream ok" << "records=" + std::to_string(s.count);
    }
  }

  // A query that does not parse: INVALID_ARGUMENT with a BadRequest on "query".
  {
    pb::TestQueryRequest bad_request;
    *bad_request.mutable_connection() = stored;
    bad_request.set_query(kBadQuery);
    pb::TestQueryResponse plan;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (grpc::Status s = stub->TestQuery(&context, bad_request, &plan); !s.ok()) {
      PrintError("bad_query", s);
    } else {
      Line() << "STEP bad_query ok";
    }
  }

  Line() << "DONE" << "records=" + std::to_string(first.count + rest.count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(ParseOptions(argc, argv)); }
