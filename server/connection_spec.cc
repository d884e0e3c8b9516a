#include "server/connection_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "imap/query/schema.h"
#include "server/discover.h"
#include "server/record_builder.h"

namespace server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

Value Str(absl::string_view s) {
  Value v;
  v.set_string_value(std::string(s));
  return v;
}
Value Num(double n) {
  Value v;
  v.set_number_value(n);
  return v;
}
Value Bool(bool b) {
  Value v;
  v.set_bool_value(b);
  return v;
}
Value Obj(Struct s) {
  Value v;
  *v.mutable_struct_value() = std::move(s);
  return v;
}
Value& At(Struct& s, absl::string_view key) { return (*s.mutable_fields())[std::string(key)]; }
Struct& ObjAt(Struct& s, absl::string_view key) { return *At(s, key).mutable_struct_value(); }

// Parses a JSON object of the table. `where` names the entry in errors.
absl::StatusOr<Struct> ParseFragment(absl::string_view json, absl::string_view where) {
  Struct s;
  if (json.empty()) return s;
  const auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json), &s);
  if (!parsed.ok()) {
    return absl::InternalError(
        absl::StrCat("connection spec table, ", where, ": not a JSON object: ", parsed.ToString()));
  }
  return s;
}

// Objects merge key by key; anything else in `patch` replaces.
void Merge(const Struct& patch, Struct& into) {
  for (const auto& [key, value] : patch.fields()) {
    Value& target = At(into, key);
    if (value.has_struct_value() && target.has_struct_value()) {
      Merge(value.struct_value(), *target.mutable_struct_value());
    } else {
      target = value;
    }
  }
}

std::string Join(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

// The table, in the form's order and by path.
struct Table {
  absl::Span<const FieldSpec> ordered;
  std::map<std::string, const FieldSpec*> by_path;
};

// proto3 JSON takes an enum by name or by number; both are allowed values.
Struct EnumSchema(const EnumDescriptor& e) {
  Struct s;
  Value& values = At(s, "enum");
  Struct ui;
  Value& options = At(ui, "options");
  for (int i = 0; i < e.value_count(); ++i) {
    *values.mutable_list_value()->add_values() = Str(e.value(i)->name());
  }
  // An option's label is its name without the prefix all values share
  // ("SECURITY_STARTTLS" -> "STARTTLS").
  size_t prefix = e.value(0)->name().rfind('_') + 1;
  for (int i = 1; i < e.value_count(); ++i) {
    const std::string& name = e.value(i)->name();
    size_t common = 0;
    while (common < prefix && common < name.size() && name[common] == e.value(0)->name()[common]) ++common;
    prefix = std::min(prefix, e.value(0)->name().rfind('_', common == 0 ? 0 : common - 1) + 1);
  }
  for (int i = 0; i < e.value_count(); ++i) {
    *values.mutable_list_value()->add_values() = Num(e.value(i)->number());
    Struct option;
    At(option, "value") = Str(e.value(i)->name());
    At(option, "label") = Str(absl::string_view(e.value(i)->name()).substr(prefix));
    At(option, "number") = Num(e.value(i)->number());
    *options.mutable_list_value()->add_values() = Obj(std::move(option));
  }
  At(s, "x-ui") = Obj(std::move(ui));
  return s;
}

// The schema of one value of `field` (an element, for a repeated field).
absl::StatusOr<Struct> ValueSchema(const FieldDescriptor& field, absl::string_view path, const Table& table);

absl::StatusOr<Struct> MessageSchema(const Descriptor& message, absl::string_view path, const Table& table) {
  Struct s;
  At(s, "type") = Str("object");
  // proto3 JSON parsing refuses names the message does not have.
  At(s, "additionalProperties") = Bool(false);
  Struct& properties = ObjAt(s, "properties");
  std::map<const google::protobuf::OneofDescriptor*, std::vector<std::string>> oneofs;
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    const std::string field_path = Join(path, field.name());
    const auto entry = table.by_path.find(field_path);
    if (entry == table.by_path.end())
      return absl::InternalError(absl::StrCat("no table entry for ", field_path));
    const FieldSpec& spec = *entry->second;

    Struct property;
    if (field.is_map())
      return absl::InternalError(absl::StrCat(field_path, ": map fields are not supported"));
    absl::StatusOr<Struct> value = ValueSchema(field, field_path, table);
    if (!value.ok()) return value.status();
    if (field.is_repeated()) {
      At(property, "type") = Str("array");
      At(property, "items") = Obj(*std::move(value));
    } else {
      property = *std::move(value);
    }
    if (!spec.label.empty()) At(property, "title") = Str(spec.label);
    if (!spec.help.empty()) At(property, "description") = Str(spec.help);
    if (spec.access == FieldAccess::kSecret) At(property, "writeOnly") = Bool(true);
    if (spec.access == FieldAccess::kOutput) At(property, "readOnly") = Bool(true);
    Struct proto;
    At(proto, "name") = Str(field.name());
    At(proto, "number") = Num(field.number());
    At(property, "x-proto") = Obj(std::move(proto));

    Struct& ui = ObjAt(property, "x-ui");
    At(ui, "order") = Num(0);  // set below, from the table's order
    if (!spec.group.empty()) At(ui, "group") = Str(spec.group);
    if (!spec.widget.empty()) At(ui, "widget") = Str(spec.widget);
    if (!spec.placeholder.empty()) At(ui, "placeholder") = Str(spec.placeholder);
    if (spec.access == FieldAccess::kSecret) At(ui, "secret") = Bool(true);

    absl::StatusOr<Struct> extra = ParseFragment(spec.schema, field_path);
    if (!extra.ok()) return extra.status();
    Merge(*extra, property);
    absl::StatusOr<Struct> extra_ui = ParseFragment(spec.ui, field_path);
    if (!extra_ui.ok()) return extra_ui.status();
    Merge(*extra_ui, ObjAt(property, "x-ui"));

    properties.mutable_fields()->insert({field.json_name(), Obj(std::move(property))});
    if (const auto* oneof = field.real_containing_oneof()) oneofs[oneof].push_back(field.json_name());
  }
  // x-ui.order: the table's order among siblings, which is the form's.
  int order = 0;
  for (const FieldSpec& spec : table.ordered) {
    const absl::string_view rest = spec.path;
    if (!path.empty() && !absl::StartsWith(rest, absl::StrCat(path, "."))) continue;
    const absl::string_view name = path.empty() ? rest : rest.substr(path.size() + 1);
    if (absl::StrContains(name, '.')) continue;
    const FieldDescriptor* field = message.FindFieldByName(std::string(name));
    if (field == nullptr) continue;
    At(ObjAt(ObjAt(properties, field->json_name()), "x-ui"), "order") = Num(++order);
  }
  // A oneof takes at most one of its fields: each excludes the others.
  for (const auto& [unused, names] : oneofs) {
    Struct& dependent = ObjAt(s, "dependentSchemas");
    for (const std::string& name : names) {
      Struct others;
      for (const std::string& other : names) {
        if (other != name) At(ObjAt(others, "properties"), other) = Bool(false);
      }
      At(dependent, name) = Obj(std::move(others));
    }
  }
  return s;
}

absl::StatusOr<Struct> ValueSchema(const FieldDescriptor& field, absl::string_view path, const Table& table) {
  Struct s;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      At(s, "type") = Str("string");
      if (field.type() == FieldDescriptor::TYPE_BYTES) At(s, "contentEncoding") = Str("base64");
      return s;
    case FieldDescriptor::CPPTYPE_BOOL:
      At(s, "type") = Str("boolean");
      return s;
    case FieldDescriptor::CPPTYPE_INT32:
      At(s, "type") = Str("integer");
      At(s, "minimum") = Num(std::numeric_limits<int32_t>::min());
      At(s, "maximum") = Num(std::numeric_limits<int32_t>::max());
      return s;
    case FieldDescriptor::CPPTYPE_UINT32:
      At(s, "type") = Str("integer");
      At(s, "minimum") = Num(0);
      At(s, "maximum") = Num(std::numeric_limits<uint32_t>::max());
      return s;
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64: {
      // proto3 JSON writes 64-bit integers as decimal strings (beyond a
      // double's precision) and reads numbers too.
      Value types;
      *types.mutable_list_value()->add_values() = Str("integer");
      *types.mutable_list_value()->add_values() = Str("string");
      At(s, "type") = types;
      At(s, "pattern") = Str(field.cpp_type() == FieldDescriptor::CPPTYPE_INT64 ? "^-?[0-9]+$" : "^[0-9]+$");
      return s;
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumSchema(*field.enum_type());
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageSchema(*field.message_type(), path, table);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      At(s, "type") = Str("number");
      return s;
  }
  return absl::InternalError(absl::StrCat(path, ": unsupported field type"));
}

// Appends to `problems` each name in `rule` that `declared` (an object's
// properties) lacks; see SchemaRuleProblems.
void CheckRuleNames(const Struct& rule, const Struct& declared, absl::string_view where,
                    std::vector<std::string>& problems) {
  for (const auto& [key, value] : rule.fields()) {
    if (key == "required") {
      for (const Value& name : value.list_value().values()) {
        if (declared.fields().count(name.string_value()) == 0) {
          problems.push_back(absl::StrCat(where.empty() ? "root" : where, ": rule requires unknown property ",
                                          name.string_value()));
        }
      }
    } else if (key == "properties" || key == "dependentSchemas") {
      for (const auto& [name, unused] : value.struct_value().fields()) {
        if (declared.fields().count(name) == 0) {
          problems.push_back(
              absl::StrCat(where.empty() ? "root" : where, ": rule names unknown property ", name));
        }
      }
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
      for (const Value& sub : value.list_value().values()) {
        CheckRuleNames(sub.struct_value(), declared, where, problems);
      }
    } else if (key == "if" || key == "then" || key == "else" || key == "not") {
      CheckRuleNames(value.struct_value(), declared, where, problems);
    }
  }
}

// Walks every object schema under `schema` (the root and nested messages).
void CheckAllRuleNames(const Struct& schema, absl::string_view where, std::vector<std::string>& problems) {
  const auto properties = schema.fields().find("properties");
  if (properties == schema.fields().end()) return;
  const Struct& declared = properties->second.struct_value();
  for (const auto& [key, value] : schema.fields()) {
    if (key == "properties") continue;
    if (value.has_struct_value() || value.has_list_value()) {
      Struct holder;
      At(holder, key) = value;
      CheckRuleNames(holder, declared, where, problems);
    }
  }
  for (const auto& [name, property] : declared.fields()) {
    const Struct& p = property.struct_value();
    const auto items = p.fields().find("items");
    CheckAllRuleNames(items != p.fields().end() ? items->second.struct_value() : p, Join(where, name),
                      problems);
  }
}

// Where a key goes when printed: the usual JSON Schema reading order,
// then anything else alphabetically, the hints last.
int KeyRank(absl::string_view key) {
  static constexpr absl::string_view kOrder[] = {"$schema",       "$id",
                                                 "$comment",      "title",
                                                 "description",   "type",
                                                 "enum",          "const",
                                                 "default",       "examples",
                                                 "readOnly",      "writeOnly",
                                                 "minimum",       "maximum",
                                                 "minLength",     "maxLength",
                                                 "pattern",       "$ref",
                                                 "items",         "required",
                                                 "minProperties", "additionalProperties",
                                                 "properties"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == key) return static_cast<int>(i);
  }
  if (absl::StartsWith(key, "x-")) return 1000;
  return 500;
}

double UiOrder(const Value& property) {
  const auto ui = property.struct_value().fields().find("x-ui");
  if (ui == property.struct_value().fields().end()) return 0;
  const auto order = ui->second.struct_value().fields().find("order");
  return order == ui->second.struct_value().fields().end() ? 0 : order->second.number_value();
}

// Prints JSON with keys in a stable, readable order (a Struct's map has
// none): properties in the form's order, other keys by KeyRank.
void PrintJson(const Value& value, int indent, bool in_properties, std::string& out) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  switch (value.kind_case()) {
    case Value::kStructValue: {
      std::vector<std::pair<std::string, const Value*>> entries;
      for (const auto& [key, member] : value.struct_value().fields()) entries.emplace_back(key, &member);
      std::sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
        if (in_properties) {
          const double oa = UiOrder(*a.second), ob = UiOrder(*b.second);
          if (oa != ob) return oa < ob;
        } else if (KeyRank(a.first) != KeyRank(b.first)) {
          return KeyRank(a.first) < KeyRank(b.first);
        }
        return a.first < b.first;
      });
      if (entries.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (size_t i = 0; i < entries.size(); ++i) {
        absl::StrAppend(&out, pad);
        PrintJson(Str(entries[i].first), indent + 2, false, out);
        out += ": ";
        PrintJson(*entries[i].second, indent + 2,
                  !in_properties && (entries[i].first == "properties" || entries[i].first == "$defs" ||
                                     entries[i].first == "dependentSchemas"),
                  out);
        out += i + 1 < entries.size() ? ",\n" : "\n";
      }
      absl::StrAppend(&out, std::string(static_cast<size_t>(indent), ' '), "}");
      return;
    }
    case Value::kListValue: {
      const auto& values = value.list_value().values();
      out += "[";
      for (int i = 0; i < values.size(); ++i) {
        if (i > 0) out += ", ";
        PrintJson(values.Get(i), indent, false, out);
      }
      out += "]";
      return;
    }
    case Value::kNumberValue: {
      const double n = value.number_value();
      // Every number of the schema is an integer (limits, field numbers).
      if (std::abs(n) < 9007199254740992.0 && n == std::trunc(n)) {
        absl::StrAppend(&out, static_cast<int64_t>(n));
        return;
      }
      break;
    }
    default:
      break;
  }
  std::string scalar;  // strings escaped, booleans, null: as protobuf prints them
  (void)google::protobuf::util::MessageToJsonString(value, &scalar);
  out += scalar;
}

void CollectPaths(const Descriptor& message, absl::string_view prefix, std::set<std::string>& out) {
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    const std::string path = Join(prefix, field.name());
    out.insert(path);
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) CollectPaths(*field.message_type(), path, out);
  }
}

}  // namespace

std::vector<std::string> SchemaRuleProblems(const Struct& schema) {
  std::vector<std::string> problems;
  CheckAllRuleNames(schema, "", problems);
  return problems;
}

std::vector<std::string> TableProblems(const Descriptor& root, absl::Span<const FieldSpec> table) {
  std::set<std::string> fields;
  CollectPaths(root, "", fields);
  std::vector<std::string> problems;
  std::set<std::string> seen;
  for (const FieldSpec& spec : table) {
    const std::string path(spec.path);
    if (!seen.insert(path).second) problems.push_back(absl::StrCat("table entry ", path, " is given twice"));
    if (fields.count(path) == 0) {
      problems.push_back(absl::StrCat("table entry ", path, " names no field of ", root.name()));
    }
  }
  for (const std::string& path : fields) {
    if (seen.count(path) == 0)
      problems.push_back(absl::StrCat(root.name(), " field ", path, " has no table entry"));
  }
  return problems;
}

absl::StatusOr<Struct> BuildConnectionSchema(absl::string_view agent) {
  const Descriptor& root = *connector::v1::Connection::descriptor();
  const absl::Span<const FieldSpec> table = ConnectionFieldTable();
  if (std::vector<std::string> problems = TableProblems(root, table); !problems.empty()) {
    return absl::InternalError(absl::StrCat("connection spec table: ", absl::StrJoin(problems, "; ")));
  }
  Table by_path{table, {}};
  for (const FieldSpec& spec : table) by_path.by_path[std::string(spec.path)] = &spec;

  absl::StatusOr<Struct> body = MessageSchema(root, "", by_path);
  if (!body.ok()) return body.status();
  Struct schema;
  At(schema, "$schema") = Str("https://json-schema.org/draft/2020-12/schema");
  At(schema, "$id") = Str("urn:imap-connector:connector.v1.Connection");
  At(schema, "title") = Str("IMAP connection");
  At(schema, "description") =
      Str("The connection form of imap-connector: connector.v1.Connection in proto3 JSON, as Configure "
          "takes it. Property names are the lowerCamelCase JSON names (Configure's parser also accepts "
          "the proto names, e.g. server_url, which this schema does not list). Enums are given by name "
          "(or number), 64-bit integers as numbers or decimal strings; null is not accepted. The schema "
          "describes a new connection: replacing a stored one may leave secrets empty to keep them. "
          "Lengths count characters, Configure counts bytes of UTF-8, which is stricter for non-ASCII "
          "text. Rules marked 'checked by Configure' are not in the schema.");
  Merge(*body, schema);
  absl::StatusOr<Struct> rules = ParseFragment(ConnectionRootRules(), "root rules");
  if (!rules.ok()) return rules.status();
  Merge(*rules, schema);

  // This server runs only its own agent's connections.
  Struct& cloud_agent = ObjAt(ObjAt(schema, "properties"), "cloudAgent");
  Value& agents = At(cloud_agent, "enum");
  agents.mutable_list_value()->clear_values();
  *agents.mutable_list_value()->add_values() = Str("");
  *agents.mutable_list_value()->add_values() = Str(agent);
  At(cloud_agent, "default") = Str(agent);

  Value& groups = At(schema, "x-ui-groups");
  groups.mutable_list_value();
  for (const FormGroup& g : ConnectionFormGroups()) {
    Struct group;
    At(group, "id") = Str(g.id);
    At(group, "label") = Str(g.label);
    *groups.mutable_list_value()->add_values() = Obj(std::move(group));
  }

  if (std::vector<std::string> problems = SchemaRuleProblems(schema); !problems.empty()) {
    return absl::InternalError(absl::StrCat("connection spec rules: ", absl::StrJoin(problems, "; ")));
  }
  return schema;
}

absl::StatusOr<connector::v1::GetSpecResponse> BuildSpec(absl::string_view agent) {
  absl::StatusOr<Struct> schema = BuildConnectionSchema(agent);
  if (!schema.ok()) return schema.status();
  connector::v1::GetSpecResponse response;
  PrintJson(Obj(*std::move(schema)), 0, false, *response.mutable_connection_schema());
  response.mutable_connection_schema()->push_back('\n');
  // The same columns and version as Discover's.
  std::vector<std::string> columns;
  for (const imap::query::Column& column : imap::query::Columns()) columns.emplace_back(column.name);
  for (connector::v1::ColumnSchema& c : SchemaOf(columns)) *response.add_columns() = std::move(c);
  response.set_query_language_version(kQueryLanguageVersion);
  return response;
}

}  // namespace server
