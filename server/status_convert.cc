#include "server/status_convert.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/rpc_status.h"
#include "imap/util/utf8.h"

namespace server {
namespace {

constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";

// `text` cut to at most `max_bytes` on a UTF-8 boundary, with "…" when cut.
// Longer texts than the caps can only come from an unquoted value; the cap
// keeps the status deliverable all the same.
std::string Cap(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes - 3;  // room for the ellipsis
  // Back up over continuation bytes so that no character is split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(text.substr(0, end), "…");
}

}  // namespace

std::string Quote(absl::string_view value, char quote) {
  std::string out(1, quote);
  size_t i = 0;
  size_t chars = 0;
  while (i < value.size() && chars < kMaxQuotedChars) {
    const size_t start = i;
    const int32_t cp = imap::DecodeUtf8(value, &i);
    if (cp < 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(value[start]));
      i = start + 1;
    } else if (cp < 0x20 || cp == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", cp);
    } else {
      out.append(value.data() + start, i - start);
    }
    ++chars;
  }
  if (i < value.size()) {
    absl::StrAppend(&out, "…", std::string(1, quote), " (", value.size(), " bytes)");
  } else {
    out.push_back(quote);
  }
  return out;
}

absl::Status InvalidFields(const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad;
  std::string message = "invalid request:";
  for (const FieldViolation& v : violations) {
    const std::string description = Cap(v.description, kMaxDescriptionBytes);
    google::rpc::BadRequest::FieldViolation* fv = bad.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(description);
    absl::StrAppend(&message, " ", v.field, ": ", description, ";");
  }
  message.pop_back();
  absl::Status status = absl::InvalidArgumentError(Cap(message, kMaxStatusMessageBytes));
  status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> GetFieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestUrl);
  if (!payload.has_value()) return out;
  google::rpc::BadRequest bad;
  if (!bad.ParseFromString(std::string(*payload))) return out;
  for (const auto& fv : bad.field_violations()) out.push_back({fv.field(), fv.description()});
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& engine_status) {
  if (engine_status.ok()) return grpc::Status::OK;
  const absl::Status status = ForRpc(engine_status);
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message = Cap(status.message(), kMaxStatusMessageBytes);
  absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestUrl);
  if (!payload.has_value()) return grpc::Status(code, message);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  google::protobuf::Any* any = details.add_details();
  any->set_type_url(kBadRequestUrl);
  any->set_value(std::string(*payload));
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace server
