// GetSpec's schema against Configure, both directions: the real server
// answers GetSpec, a real JSON Schema 2020-12 validator (ajv, through
// tests/connection_spec/ajv-validate) judges every connection of
// tests/data/connection_spec_cases.jsonl, Configure judges the same JSON
// (proto3 JSON parsing, then the server's validation), and each case says
// what both must answer:
//   accept          schema and Configure accept
//   refuse          both refuse; with "field", Configure names it
//   configure_only  the schema accepts, Configure refuses naming "field"
//                   (a rule the schema cannot express: grammar, syntax,
//                   byte lengths, certificates)
//   parser_alias    the schema refuses a spelling Configure's parser also
//                   takes (proto names, numbers as strings)
// Skips only when node is missing.
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/fixtures/bad_request.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/server_process.h"

namespace {

using connector::v1::Connection;
using google::protobuf::Struct;
using testing_fixtures::ReadFile;
using testing_fixtures::ServerProcess;

constexpr int kSkipExitCode = 77;  // ajv-validate: node or npm missing

std::string StringMember(const Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

struct Case {
  std::string expect, why, field;
  std::string connection_json;  // exactly what the validator judged
  bool schema_valid = false;
  std::string schema_errors;
};

class ConnectionSpecE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/imapc-spec-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(dir_ + "/store");
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    stub_ = connector::v1::Connector::NewStub(server_->channel());
  }
  void TearDown() override {
    server_.reset();
    testing_fixtures::RunCommand(absl::StrCat("rm -rf '", dir_, "'"));
  }

  // Runs ajv over every case's connection. Sets `skipped` when node is
  // missing.
  std::vector<Case> JudgeBySchema(const std::string& schema_json, bool* skipped) {
    *skipped = false;
    const std::string schema_file = dir_ + "/schema.json";
    std::ofstream(schema_file) << schema_json;
    const std::string cases_file = std::string(IMAPC_SOURCE_DIR) + "/tests/data/connection_spec_cases.jsonl";
    const std::string command =
        absl::StrCat(IMAPC_SOURCE_DIR, "/tests/connection_spec/ajv-validate '", schema_file, "' '",
                     cases_file, "' --member connection > '", dir_, "/verdicts.jsonl'");
    const int exit_code = testing_fixtures::RunCommand(command);
    if (exit_code == kSkipExitCode) {
      *skipped = true;
      return {};
    }
    EXPECT_EQ(exit_code, 0) << command;

    const std::vector<std::string> case_lines =
        absl::StrSplit(ReadFile(cases_file), '\n', absl::SkipWhitespace());
    const std::vector<std::string> verdict_lines =
        absl::StrSplit(ReadFile(dir_ + "/verdicts.jsonl"), '\n', absl::SkipWhitespace());
    EXPECT_EQ(case_lines.size(), verdict_lines.size());
    std::vector<Case> cases;
    for (size_t i = 0; i < case_lines.size() && i < verdict_lines.size(); ++i) {
      Struct c, v;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(case_lines[i], &c).ok()) << case_lines[i];
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(verdict_lines[i], &v).ok()) << verdict_lines[i];
      Case out;
      out.expect = StringMember(c, "expect");
      out.why = StringMember(c, "why");
      out.field = StringMember(c, "field");
      out.connection_json = StringMember(v, "instance");
      out.schema_valid = v.fields().at("valid").bool_value();
      out.schema_errors = StringMember(v, "errors");
      cases.push_back(std::move(out));
    }
    return cases;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
};

// What Configure says about one connection JSON.
struct ConfigureVerdict {
  bool parsed = false;           // JsonStringToMessage took it
  bool accepted = false;         // Configure answered OK
  std::set<std::string> fields;  // the BadRequest's fields when refused
  std::string message;
};

ConfigureVerdict Configure(connector::v1::Connector::Stub& stub, const std::string& json) {
  ConfigureVerdict verdict;
  connector::v1::ConfigureRequest request;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, request.mutable_connection());
  if (!parsed.ok()) {
    verdict.message = parsed.ToString();
    return verdict;
  }
  verdict.parsed = true;
  grpc::ClientContext context;
  connector::v1::ConfigureResponse response;
  const grpc::Status status = stub.Configure(&context, request, &response);
  verdict.accepted = status.ok();
  verdict.message = status.error_message();
  if (!status.ok()) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << json << ": " << status.error_message();
    verdict.fields = testing_fixtures::ViolatedFields(status);
    return verdict;
  }
  // Each case starts from an empty store: no stored password to fall back on.
  grpc::ClientContext delete_context;
  connector::v1::DeleteConnectionRequest remove;
  remove.set_name(request.connection().name());
  connector::v1::DeleteConnectionResponse removed;
  EXPECT_TRUE(stub.DeleteConnection(&delete_context, remove, &removed).ok());
  return verdict;
}

TEST_F(ConnectionSpecE2eTest, ConfigureAcceptsExactlyWhatTheSchemaAccepts) {
  grpc::ClientContext context;
  connector::v1::GetSpecResponse spec;
  const grpc::Status got = stub_->GetSpec(&context, connector::v1::GetSpecRequest(), &spec);
  ASSERT_TRUE(got.ok()) << got.error_message();

  bool skipped = false;
  const std::vector<Case> cases = JudgeBySchema(spec.connection_schema(), &skipped);
  if (skipped)
    GTEST_SKIP() << "node is missing: cannot run the JSON Schema validator (apt-get install nodejs npm)";
  ASSERT_FALSE(HasFailure());

  std::map<std::string, int> counts;
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.expect, ": ", c.why, "\n  ", c.connection_json));
    ++counts[c.expect];
    const ConfigureVerdict configure = Configure(*stub_, c.connection_json);
    const std::string configure_said =
        absl::StrCat(configure.parsed ? "Configure: " : "JSON parsing: ", configure.message);
    if (c.expect == "accept") {
      EXPECT_TRUE(c.schema_valid) << "schema refused: " << c.schema_errors;
      EXPECT_TRUE(configure.accepted) << configure_said;
    } else if (c.expect == "refuse") {
      EXPECT_FALSE(c.schema_valid) << "schema accepted";
      EXPECT_FALSE(configure.accepted) << "Configure accepted";
      if (!c.field.empty()) {
        EXPECT_TRUE(configure.parsed) << configure_said;
        EXPECT_THAT(configure.fields, ::testing::Contains("connection." + c.field)) << configure_said;
      }
    } else if (c.expect == "configure_only") {
      EXPECT_TRUE(c.schema_valid) << "schema refused: " << c.schema_errors;
      EXPECT_TRUE(configure.parsed) << configure_said;
      EXPECT_THAT(configure.fields, ::testing::Contains("connection." + c.field)) << configure_said;
    } else if (c.expect == "parser_alias") {
      EXPECT_FALSE(c.schema_valid) << "schema accepted";
      EXPECT_TRUE(configure.accepted) << configure_said;
    } else {
      ADD_FAILURE() << "unknown expectation " << c.expect;
    }
  }
  // Enough of each that neither side can accept (or refuse) everything.
  EXPECT_GE(counts["accept"], 15);
  EXPECT_GE(counts["refuse"], 25);
  EXPECT_LE(counts["configure_only"] + counts["parser_alias"], 12);
}

TEST_F(ConnectionSpecE2eTest, GetSpecAnswersTheSchemaColumnsAndVersion) {
  grpc::ClientContext context;
  connector::v1::GetSpecResponse spec;
  const grpc::Status got = stub_->GetSpec(&context, connector::v1::GetSpecRequest(), &spec);
  ASSERT_TRUE(got.ok()) << got.error_message();
  Struct schema;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(spec.connection_schema(), &schema).ok());
  EXPECT_EQ(StringMember(schema, "$schema"), "https://json-schema.org/draft/2020-12/schema");
  const Struct& properties = schema.fields().at("properties").struct_value();
  EXPECT_EQ(StringMember(properties.fields().at("serverUrl").struct_value(), "title"), "Server URL");
  // The server's own agent (--agent, "cloud" by default) is the one allowed.
  const auto& agents = properties.fields().at("cloudAgent").struct_value().fields().at("enum").list_value();
  ASSERT_EQ(agents.values_size(), 2);
  EXPECT_EQ(agents.values(1).string_value(), "cloud");
  EXPECT_EQ(spec.query_language_version(), "1.0");
  std::vector<std::string> columns;
  for (const auto& c : spec.columns()) columns.push_back(c.name());
  EXPECT_THAT(columns, ::testing::IsSupersetOf({"uid", "subject", "from", "date"}));
}

}  // namespace
