// GetSpec's answer: the connection form as a JSON Schema (draft 2020-12) of
// Connection in proto3 JSON, generated at run time from the proto
// descriptors, with the labels, help and rules of one table
// (connection_spec_table.cc), plus the query columns and language version.
//
//   absl::StatusOr<connector::v1::GetSpecResponse> spec = BuildSpec("cloud");
//   spec->connection_schema()  // {"$schema": "https://json-schema.org/draft/2020-12/schema", ...}
#ifndef SERVER_CONNECTION_SPEC_H_
#define SERVER_CONNECTION_SPEC_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "connector/v1/connector.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"

namespace server {

// Who may read and write a field through the API.
enum class FieldAccess {
  kInput,   // written by Configure, returned by GetConnection
  kSecret,  // written by Configure, never returned (JSON Schema writeOnly)
  kOutput,  // filled in by the server, ignored on input (readOnly)
};

// What the table says about one field of Connection (or of a message
// inside it) beyond its descriptor: the words of the form and the rules of
// connection_validation.cc. Types, names, numbers, enum values and nesting
// come from the descriptor, never from here.
struct FieldSpec {
  // Proto field names from Connection down, e.g. "server_url" or
  // "oauth2.refresh_token_grant.tenant".
  absl::string_view path = {};
  // The form's label (JSON Schema "title").
  absl::string_view label = {};
  // Help text (JSON Schema "description").
  absl::string_view help = {};
  // Top-level fields: the form group (see kGroups in the table); empty for
  // fields inside a message, which sit in their message's box.
  absl::string_view group = {};
  // "text", "textarea", "password", "number", "checkbox", "select", "list",
  // "section" (a nested message) or "hidden" (output only).
  absl::string_view widget = {};
  absl::string_view placeholder = {};
  // A JSON object merged into the field's generated schema: "default",
  // "examples", ranges, lengths, patterns, and for a message field its own
  // "required" and "allOf" rules. Empty: nothing to add.
  absl::string_view schema = {};
  // A JSON object merged into the field's "x-ui" hints (e.g. "dependsOn").
  absl::string_view ui = {};
  FieldAccess access = FieldAccess::kInput;
};

// The table: one entry per field of Connection and of every message in it,
// in the order the form shows them among their siblings.
absl::Span<const FieldSpec> ConnectionFieldTable();

// The form groups, in order: {id, label}.
struct FormGroup {
  absl::string_view id;
  absl::string_view label = {};
};
absl::Span<const FormGroup> ConnectionFormGroups();

// A JSON object merged into the root (Connection) schema: what is required
// and the rules between fields (if/then), written with JSON names.
absl::string_view ConnectionRootRules();

// Returns one line per disagreement between `table` and the fields of
// `root` and the messages under it: a field without an entry, an entry
// naming no field, an entry given twice. Empty when they agree.
std::vector<std::string> TableProblems(const google::protobuf::Descriptor& root,
                                       absl::Span<const FieldSpec> table);

// Returns one line per name in the rules of `schema` (required,
// properties and dependentSchemas inside allOf, anyOf, oneOf, if, then,
// else, not; at every object level) that is not a property of the object
// the rule belongs to: a misspelt name would make a rule silently never
// apply. Rules reached through "$ref" are not followed. Empty when all
// names exist.
std::vector<std::string> SchemaRuleProblems(const google::protobuf::Struct& schema);

// Builds the JSON Schema of Connection (as a Struct, for tests to walk) for
// a server whose --agent is `agent`. INTERNAL if the table disagrees with
// the descriptors, holds JSON that does not parse, or names in a rule a
// property its object does not have.
absl::StatusOr<google::protobuf::Struct> BuildConnectionSchema(absl::string_view agent);

// GetSpec's whole answer. Errors as BuildConnectionSchema.
absl::StatusOr<connector::v1::GetSpecResponse> BuildSpec(absl::string_view agent);

}  // namespace server

#endif  // SERVER_CONNECTION_SPEC_H_
