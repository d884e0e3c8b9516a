#include "imap/util/error_kind.h"

#include <string>

#include "absl/strings/cord.h"
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
    {ErrorKind::kUsage, "USAGE"},
};

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

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(context, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

}  // namespace imap
