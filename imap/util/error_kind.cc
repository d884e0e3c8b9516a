#include "imap/util/error_kind.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace imap {
namespace {

constexpr absl::string_view kPayloadUrl = "type.imap-connector.dev/imap.ErrorKind";

struct KindName {
  ErrorKind kind;
  absl::string_view name;
};

constexpr KindName kNames[] = {
    {ErrorKind::kUnknown, "UNKNOWN"},   {ErrorKind::kDns, "DNS"},
    {ErrorKind::kRefused, "REFUSED"},   {ErrorKind::kTimeout, "TIMEOUT"},
    {ErrorKind::kTls, "TLS"},           {ErrorKind::kCertificate, "CERTIFICATE"},
    {ErrorKind::kAuth, "AUTH"},         {ErrorKind::kNoMailbox, "NO_MAILBOX"},
    {ErrorKind::kProtocol, "PROTOCOL"}, {ErrorKind::kLimit, "LIMIT"},
    {ErrorKind::kUsage, "USAGE"},       {ErrorKind::kMalformed, "MALFORMED"},
};

constexpr absl::string_view kUidPayloadUrl = "type.imap-connector.dev/imap.MessageUid";
constexpr absl::string_view kSizePayloadUrl = "type.imap-connector.dev/imap.MessageSize";

uint64_t NumberPayload(const absl::Status& status, absl::string_view url) {
  absl::optional<absl::Cord> payload = status.GetPayload(url);
  uint64_t n = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &n)) return 0;
  return n;
}

}  // namespace

absl::string_view ErrorKindName(ErrorKind kind) {
  for (const KindName& n : kNames) {
    if (n.kind == kind) return n.name;
  }
  return "UNKNOWN";
}

absl::Status WithErrorKind(absl::Status status, ErrorKind kind) {
  if (status.ok()) return status;
  status.SetPayload(kPayloadUrl, absl::Cord(ErrorKindName(kind)));
  return status;
}

ErrorKind GetErrorKind(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return ErrorKind::kUnknown;
  const std::string name(*payload);
  for (const KindName& n : kNames) {
    if (n.name == name) return n.kind;
  }
  return ErrorKind::kUnknown;
}

absl::Status WithMessageUid(absl::Status status, uint32_t uid) {
  if (status.ok() || uid == 0) return status;
  status.SetPayload(kUidPayloadUrl, absl::Cord(absl::StrCat(uid)));
  return status;
}

uint32_t GetMessageUid(const absl::Status& status) {
  return static_cast<uint32_t>(NumberPayload(status, kUidPayloadUrl));
}

absl::Status WithMessageSize(absl::Status status, uint64_t size) {
  if (status.ok()) return status;
  status.SetPayload(kSizePayloadUrl, absl::Cord(absl::StrCat(size)));
  return status;
}

uint64_t GetMessageSize(const absl::Status& status) { return NumberPayload(status, kSizePayloadUrl); }

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

}  // namespace imap
