// UID SEARCH, with ESEARCH (RFC 4731) when the server offers it.
#include <string>

#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

Session::SearchCriteria& Session::SearchCriteria::Key(absl::string_view syntax) {
  parts_.push_back({false, std::string(syntax)});
  return *this;
}

Session::SearchCriteria& Session::SearchCriteria::String(absl::string_view value) {
  parts_.push_back({true, std::string(value)});
  return *this;
}

absl::StatusOr<wire::UidSet> Session::UidSearch(const SearchCriteria& criteria) {
  if (criteria.empty()) return absl::InvalidArgumentError("UID SEARCH needs criteria (e.g. ALL)");
  const bool esearch = HasCapability("ESEARCH");
  // CHARSET only when a string is not ASCII: some servers reject CHARSET
  // UTF-8 in searches that would not need it; under UTF8=ACCEPT it is
  // not allowed at all (RFC 6855).
  bool needs_charset = false;
  for (const auto& part : criteria.parts_) {
    if (!part.is_string) continue;
    for (char c : part.text) {
      if (static_cast<unsigned char>(c) >= 0x80) needs_charset = true;
    }
  }
  wire::CommandBuilder b(NextTag(), "UID SEARCH", literal_mode());
  if (esearch) b.Raw("RETURN (ALL)");
  if (needs_charset && !IsEnabled("UTF8=ACCEPT")) b.Raw("CHARSET UTF-8");
  for (const auto& part : criteria.parts_) {
    // "(" and ")" hug what they enclose: "NOT (LARGER 1 SMALLER 9)".
    if (!part.is_string && part.text == ")") b.Glue();
    if (part.is_string) {
      b.String(part.text);
    } else {
      b.Raw(part.text);
    }
    if (!part.is_string && part.text == "(") b.Glue();
  }
  wire::UidSet found;
  absl::Status bad;
  auto malformed = [&](const wire::Response& r) {
    if (bad.ok()) {
      bad = WithErrorKind(absl::UnavailableError(absl::StrCat("malformed search answer: ",
                                                              r.DebugString().substr(0, 200))),
                          ErrorKind::kMalformed);
    }
  };
  IMAPC_RETURN_IF_ERROR(Run(b, "UID SEARCH", [&](const wire::Response& r) {
    if (r.keyword == "SEARCH") {
      for (const wire::Value& v : r.values) {
        // Some servers append "(MODSEQ n)" with CONDSTORE; only numbers count.
        if (v.IsNumber() && v.number > 0 && v.number <= 0xFFFFFFFFu) {
          found.Add(static_cast<uint32_t>(v.number));
        } else if (!v.IsList()) {
          malformed(r);
        }
      }
      return true;
    }
    if (r.keyword == "ESEARCH") {
      // (TAG "A5") UID ALL 1:3,7 [MIN n MAX n COUNT n ...]
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (r.values[i].IsAtom("ALL") && i + 1 < r.values.size()) {
          absl::StatusOr<wire::UidSet> set = wire::UidSet::Parse(r.values[i + 1].text);
          if (!set.ok()) {
            malformed(r);
            continue;
          }
          for (const auto& [first, last] : set->ranges()) found.AddRange(first, last);
        }
      }
      return true;
    }
    return false;
  }).status());
  IMAPC_RETURN_IF_ERROR(bad);
  return found;
}

}  // namespace imap
