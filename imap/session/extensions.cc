// ENABLE (RFC 5161), ID (RFC 2971) and COMPRESS=DEFLATE (RFC 4978).
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "imap/session/deflate_transport.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

absl::StatusOr<std::vector<std::string>> Session::Enable(
    const std::vector<std::string>& capabilities) {
  if (!HasCapability("ENABLE")) return absl::FailedPreconditionError("the server has no ENABLE");
  for (const std::string& c : capabilities) {
    if (!wire::IsAtom(c)) return absl::InvalidArgumentError(absl::StrCat("'", c, "' is not a capability"));
  }
  wire::CommandBuilder b(NextTag(), "ENABLE", literal_mode());
  b.Raw(absl::StrJoin(capabilities, " "));
  const size_t before = enabled_.size();
  IMAPC_RETURN_IF_ERROR(Run(b, "ENABLE").status());
  return std::vector<std::string>(enabled_.begin() + static_cast<std::ptrdiff_t>(before),
                                  enabled_.end());
}

absl::StatusOr<std::map<std::string, std::string>> Session::Id(
    const std::map<std::string, std::string>& fields) {
  if (!HasCapability("ID")) return absl::FailedPreconditionError("the server has no ID");
  wire::CommandBuilder b(NextTag(), "ID", literal_mode());
  if (fields.empty()) {
    b.Raw("NIL");
  } else {
    std::vector<std::string> quoted;
    for (const auto& [key, value] : fields) {
      if (!wire::IsQuotable(key) || !wire::IsQuotable(value) || key.size() > 30 ||
          value.size() > 1024) {
        return absl::InvalidArgumentError(absl::StrCat("ID field '", key, "' cannot be sent"));
      }
      quoted.push_back(wire::Quote(key));
      quoted.push_back(wire::Quote(value));
    }
    b.Raw(absl::StrCat("(", absl::StrJoin(quoted, " "), ")"));
  }
  std::map<std::string, std::string> server;
  IMAPC_RETURN_IF_ERROR(Run(b, "ID", [&](const wire::Response& r) {
                          if (r.keyword != "ID") return false;
                          if (!r.values.empty() && r.values[0].IsList()) {
                            const std::vector<wire::Value>& kv = r.values[0].list;
                            for (size_t i = 0; i + 1 < kv.size(); i += 2) {
                              if (kv[i].IsStringLike() && kv[i + 1].IsStringLike()) {
                                server[absl::AsciiStrToLower(kv[i].text)] = kv[i + 1].text;
                              }
                            }
                          }
                          return true;
                        }).status());
  return server;
}

absl::Status Session::Compress() {
  if (compressed_) return absl::OkStatus();
  if (!HasCapability("COMPRESS=DEFLATE")) {
    return absl::FailedPreconditionError("the server does not offer COMPRESS=DEFLATE");
  }
  wire::CommandBuilder b(NextTag(), "COMPRESS", literal_mode());
  b.Raw("DEFLATE");
  IMAPC_RETURN_IF_ERROR(Run(b, "COMPRESS DEFLATE").status());
  // Compression starts right after the tagged OK; nothing may be buffered.
  if (parser_.buffered() != 0) {
    return WithErrorKind(absl::UnavailableError("data after COMPRESS before compression"),
                         ErrorKind::kProtocol);
  }
  IMAPC_ASSIGN_OR_RETURN(transport_, MakeDeflateTransport(std::move(transport_)));
  compressed_ = true;
  return absl::OkStatus();
}

}  // namespace imap
