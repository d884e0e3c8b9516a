#include "server/server_url.h"

#include <arpa/inet.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/status_convert.h"

namespace server {
namespace {

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool IsIpv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

absl::StatusOr<int> ParsePort(absl::string_view text) {
  int port = 0;
  if (text.empty() || text.size() > 5 || !absl::SimpleAtoi(text, &port) ||
      text.find_first_not_of("0123456789") != absl::string_view::npos || port < 1 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port ", Quote(text), " is not a number from 1 to 65535"));
  }
  return port;
}

absl::Status BadHost(absl::string_view host) {
  return absl::InvalidArgumentError(absl::StrCat(
      Quote(host), " is not a valid host name or IP address"));
}

}  // namespace

bool IsValidHost(absl::string_view host) {
  const std::string h(host);
  if (IsIpv4(h) || IsIpv6(h)) return true;
  if (host.empty() || host.size() > 253) return false;
  if (absl::EndsWith(host, ".")) host.remove_suffix(1);  // fully qualified
  bool all_numeric = true;
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    }
  }
  // "1.2.3" or "300.1.1.1" would be read as an address by some resolvers.
  return !all_numeric;
}

absl::StatusOr<ServerUrl> ParseServerUrl(absl::string_view text) {
  ServerUrl url;
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (rest.empty()) return absl::InvalidArgumentError("is empty; give a host name such as imap.example.com");

  const size_t scheme_end = rest.find("://");
  if (scheme_end != absl::string_view::npos) {
    const std::string scheme = absl::AsciiStrToLower(rest.substr(0, scheme_end));
    if (scheme == "imap") {
      url.scheme = UrlScheme::kImap;
    } else if (scheme == "imaps") {
      url.scheme = UrlScheme::kImaps;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("scheme ", Quote(scheme), " is not IMAP; use imap:// (STARTTLS) or imaps:// (TLS)"));
    }
    rest.remove_prefix(scheme_end + 3);
    if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);
    if (rest.find('/') != absl::string_view::npos || rest.find('?') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "has a path; give only the server (put the folder in default_folder)");
    }
    if (rest.find('@') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          "contains a user name; put it in the username field instead");
    }
  } else if (rest.find('@') != absl::string_view::npos) {
    // An e-mail address: the mail domain is the host.
    const size_t at = rest.rfind('@');
    if (at == 0) return absl::InvalidArgumentError("e-mail address has nothing before '@'");
    absl::string_view domain = rest.substr(at + 1);
    if (!IsValidHost(domain) || domain.find(':') != absl::string_view::npos) return BadHost(domain);
    url.host = absl::AsciiStrToLower(domain);
    url.from_email = true;
    return url;
  }
  if (rest.empty()) return absl::InvalidArgumentError("has no host after the scheme");

  absl::string_view host = rest;
  absl::string_view port;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("'[' without ']'");
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return absl::InvalidArgumentError("unexpected text after ']'");
      port = after.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("':' without a port");
    }
    if (!IsIpv6(std::string(host))) return BadHost(host);
  } else {
    const size_t colon = rest.find(':');
    if (colon != absl::string_view::npos && rest.find(':', colon + 1) == absl::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return absl::InvalidArgumentError("':' without a port");
    }
    if (!IsValidHost(host)) return BadHost(host);
  }
  if (!port.empty()) {
    absl::StatusOr<int> p = ParsePort(port);
    if (!p.ok()) return p.status();
    url.port = *p;
  }
  url.host = absl::AsciiStrToLower(host);
  return url;
}

}  // namespace server
