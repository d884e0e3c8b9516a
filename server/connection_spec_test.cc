#include "server/connection_spec.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "imap/query/schema.h"
#include "server/discover.h"

namespace server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const Struct& Field(const Struct& s, const std::string& key) {
  static const Struct* const kEmpty = new Struct();
  const auto it = s.fields().find(key);
  return it == s.fields().end() ? *kEmpty : it->second.struct_value();
}
std::string StringAt(const Struct& s, const std::string& key) {
  const auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}
bool Has(const Struct& s, const std::string& key) { return s.fields().count(key) > 0; }

std::vector<std::string> Strings(const Value& list) {
  std::vector<std::string> out;
  for (const Value& v : list.list_value().values()) {
    if (v.has_string_value()) out.push_back(v.string_value());
  }
  return out;
}

Struct Schema() {
  absl::StatusOr<Struct> schema = BuildConnectionSchema("cloud");
  EXPECT_TRUE(schema.ok()) << schema.status();
  return schema.ok() ? *schema : Struct();
}

// The property schema of a field path such as "oauth2.token_file.path".
const Struct& Property(const Struct& schema, const Descriptor& root, const std::string& path) {
  const Struct* object = &schema;
  const Descriptor* message = &root;
  const Struct* property = nullptr;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    const FieldDescriptor* field = message->FindFieldByName(std::string(name));
    EXPECT_NE(field, nullptr) << path;
    if (field == nullptr) return schema;
    property = &Field(Field(*object, "properties"), field->json_name());
    object = property;
    message = field->message_type();
  }
  return *property;
}

TEST(ConnectionSpecTest, TableCoversEveryFieldOfConnectionAndNothingElse) {
  EXPECT_THAT(TableProblems(*connector::v1::Connection::descriptor(), ConnectionFieldTable()), IsEmpty());
}

TEST(ConnectionSpecTest, TableProblemsNamesAMissingAnUnknownAndADoubledEntry) {
  std::vector<FieldSpec> table;
  for (const FieldSpec& spec : ConnectionFieldTable()) {
    if (spec.path != "port" && spec.path != "oauth2.token_file.path") table.push_back(spec);
  }
  table.push_back({"prot", "Port"});
  table.push_back({"name", "Connection name"});
  EXPECT_THAT(TableProblems(*connector::v1::Connection::descriptor(), table),
              ::testing::UnorderedElementsAre("Connection field port has no table entry",
                                              "Connection field oauth2.token_file.path has no table entry",
                                              "table entry prot names no field of Connection",
                                              "table entry name is given twice"));
}

// Types, JSON names and numbers come from the descriptor, for every field
// at every depth.
void ExpectGeneratedFromDescriptor(const Struct& object, const Descriptor& message,
                                   const std::string& where) {
  ASSERT_TRUE(Has(object, "additionalProperties")) << where;
  EXPECT_FALSE(object.fields().at("additionalProperties").bool_value()) << where;
  EXPECT_EQ(Field(object, "properties").fields_size(), message.field_count()) << where;
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    const std::string path = where.empty() ? field.name() : where + "." + field.name();
    ASSERT_TRUE(Has(Field(object, "properties"), field.json_name())) << path;
    const Struct& p = Field(Field(object, "properties"), field.json_name());
    EXPECT_EQ(StringAt(Field(p, "x-proto"), "name"), field.name()) << path;
    EXPECT_EQ(Field(p, "x-proto").fields().at("number").number_value(), field.number()) << path;
    EXPECT_FALSE(StringAt(p, "title").empty()) << path;
    const Struct& value = field.is_repeated() ? Field(p, "items") : p;
    if (field.is_repeated()) {
      EXPECT_EQ(StringAt(p, "type"), "array") << path;
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      EXPECT_EQ(StringAt(value, "type"), "object") << path;
      ExpectGeneratedFromDescriptor(value, *field.message_type(), path);
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      const std::vector<std::string> allowed = Strings(value.fields().at("enum"));
      ASSERT_EQ(static_cast<int>(allowed.size()), field.enum_type()->value_count()) << path;
      for (int v = 0; v < field.enum_type()->value_count(); ++v) {
        EXPECT_EQ(allowed[v], field.enum_type()->value(v)->name()) << path;
      }
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      EXPECT_EQ(StringAt(value, "type"), "string") << path;
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
      EXPECT_EQ(StringAt(value, "type"), "boolean") << path;
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
      EXPECT_EQ(StringAt(value, "type"), "integer") << path;
    }
  }
}

TEST(ConnectionSpecTest, PropertiesAreGeneratedFromTheDescriptors) {
  const Struct schema = Schema();
  EXPECT_EQ(StringAt(schema, "$schema"), "https://json-schema.org/draft/2020-12/schema");
  ExpectGeneratedFromDescriptor(schema, *connector::v1::Connection::descriptor(), "");
}

TEST(ConnectionSpecTest, RulesNameOnlyPropertiesTheirObjectHas) {
  EXPECT_THAT(SchemaRuleProblems(Schema()), IsEmpty());
  Struct bad;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(R"({
    "properties": {"isSource": {}, "isTarget": {}, "tls": {"properties": {"caBundlePem": {}},
                                                         "allOf": [{"if": {"required": ["caBundle"]}}]}},
    "allOf": [{"if": {"properties": {"isSource": {"const": false}}},
               "then": {"required": ["isTarge"]}}]})",
                                                          &bad)
                  .ok());
  EXPECT_THAT(SchemaRuleProblems(bad),
              ::testing::UnorderedElementsAre("root: rule requires unknown property isTarge",
                                              "tls: rule requires unknown property caBundle"));
}

TEST(ConnectionSpecTest, TheFormsFieldsComeFirstWithTheFormsOwnLabels) {
  const Struct schema = Schema();
  const Descriptor& d = *connector::v1::Connection::descriptor();
  const std::vector<std::pair<std::string, std::string>> form = {
      {"name", "Connection name"},
      {"is_active", "Is Active"},
      {"cloud_agent", "Cloud Agent"},
      {"implementation_type", "Implementation Type"},
      {"is_source", "Is Source"},
      {"is_target", "Is Target"},
      {"timeout_ms", "Timeout (ms)"},
      {"query", "Query"},
      {"datetime_format", "DateTime Format"},
      {"username", "Username"},
      {"password", "Password"},
      {"server_url", "Server URL"},
      {"port", "Port"}};
  for (size_t i = 0; i < form.size(); ++i) {
    const Struct& p = Property(schema, d, form[i].first);
    EXPECT_EQ(StringAt(p, "title"), form[i].second);
    EXPECT_EQ(Field(p, "x-ui").fields().at("order").number_value(), static_cast<double>(i + 1))
        << form[i].first;
  }
}

TEST(ConnectionSpecTest, SecretsAreWriteOnlyAndOutputsReadOnly) {
  const Struct schema = Schema();
  const Descriptor& d = *connector::v1::Connection::descriptor();
  for (const char* secret :
       {"password", "oauth2.static_token.access_token", "oauth2.refresh_token_grant.client_secret",
        "oauth2.refresh_token_grant.refresh_token", "oauth2.client_credentials.client_secret",
        "oauth2.client_credentials.client_private_key_pem"}) {
    const Struct& p = Property(schema, d, secret);
    EXPECT_TRUE(p.fields().at("writeOnly").bool_value()) << secret;
    EXPECT_TRUE(Field(p, "x-ui").fields().at("secret").bool_value()) << secret;
  }
  for (const char* output : {"has_password", "effective_host", "effective_port", "effective_security",
                             "last_ack_cursor", "oauth2.refresh_token_grant.has_refresh_token"}) {
    EXPECT_TRUE(Property(schema, d, output).fields().at("readOnly").bool_value()) << output;
  }
  EXPECT_FALSE(Has(Property(schema, d, "username"), "writeOnly"));
}

TEST(ConnectionSpecTest, EnumOptionsAreLabelledWithoutTheirPrefix) {
  const Struct schema = Schema();
  const Struct& security = Property(schema, *connector::v1::Connection::descriptor(), "security");
  std::vector<std::string> labels;
  for (const Value& option : Field(security, "x-ui").fields().at("options").list_value().values()) {
    labels.push_back(StringAt(option.struct_value(), "label"));
  }
  EXPECT_THAT(labels, ElementsAre("UNSPECIFIED", "IMPLICIT_TLS", "STARTTLS", "NONE"));
  EXPECT_THAT(
      Strings(security.fields().at("enum")),
      ElementsAre("SECURITY_UNSPECIFIED", "SECURITY_IMPLICIT_TLS", "SECURITY_STARTTLS", "SECURITY_NONE"));
}

TEST(ConnectionSpecTest, CloudAgentIsThisServersAgentOrEmpty) {
  absl::StatusOr<Struct> schema = BuildConnectionSchema("edge-7");
  ASSERT_TRUE(schema.ok()) << schema.status();
  const Struct& p = Property(*schema, *connector::v1::Connection::descriptor(), "cloud_agent");
  EXPECT_THAT(Strings(p.fields().at("enum")), ElementsAre("", "edge-7"));
  EXPECT_EQ(StringAt(p, "default"), "edge-7");
}

TEST(ConnectionSpecTest, PortDefaultsFollowTheSecurity) {
  const Struct schema = Schema();
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(schema.fields().at("allOf"), &json).ok());
  EXPECT_THAT(json, HasSubstr(R"("port":{"default":143})"));
  EXPECT_THAT(json, HasSubstr(R"("port":{"default":993})"));
  EXPECT_THAT(json, HasSubstr("SECURITY_STARTTLS"));
}

TEST(ConnectionSpecTest, ServerUrlHelpExplainsAnEmailAddressAsConfigureDoes) {
  const Struct schema = Schema();
  const Struct& p = Property(schema, *connector::v1::Connection::descriptor(), "server_url");
  EXPECT_THAT(StringAt(p, "description"), HasSubstr("User.Name@mail.com is not a server URL"));
  // Configure's own note (connection_validation.cc) for such a URL.
  EXPECT_THAT(
      StringAt(p, "description"),
      HasSubstr(
          "server_url is an e-mail address; connecting to its domain 'mail.com' (enter the IMAP host if it "
          "differs, e.g. imap.mail.com)"));
  EXPECT_THAT(Strings(p.fields().at("examples")), Contains("imap.example.com"));
}

TEST(ConnectionSpecTest, RulesTheSchemaCannotExpressAreNamedAsCheckedByConfigure) {
  const Struct schema = Schema();
  const Descriptor& d = *connector::v1::Connection::descriptor();
  for (const char* path : {"query", "datetime_format", "server_url", "port", "tls.ca_bundle_pem",
                           "oauth2.client_credentials.client_certificate_pem"}) {
    EXPECT_THAT(StringAt(Property(schema, d, path), "description"), HasSubstr("checked by Configure"))
        << path;
  }
}

TEST(ConnectionSpecTest, SpecCarriesDiscoversColumnsAndQueryLanguageVersion) {
  absl::StatusOr<connector::v1::GetSpecResponse> spec = BuildSpec("cloud");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->query_language_version(), kQueryLanguageVersion);
  ASSERT_EQ(spec->columns_size(), static_cast<int>(imap::query::Columns().size()));
  for (int i = 0; i < spec->columns_size(); ++i) {
    EXPECT_EQ(spec->columns(i).name(), imap::query::Columns()[i].name);
    EXPECT_NE(spec->columns(i).type(), connector::v1::COLUMN_TYPE_UNSPECIFIED) << spec->columns(i).name();
  }
  Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(spec->connection_schema(), &parsed).ok());
  EXPECT_EQ(StringAt(parsed, "$schema"), "https://json-schema.org/draft/2020-12/schema");
}

}  // namespace
}  // namespace server
