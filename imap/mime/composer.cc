#include "imap/mime/composer.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "imap/util/utf8.h"

namespace imap::mime {
namespace {

constexpr size_t kMaxLine = 76;  // for encoded text; RFC 5322 allows 78

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes));
  return absl::BytesToHexString(raw);
}

bool IsPlainAscii(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

// Control characters (CR, LF, tabs) in header text become spaces, so that
// no value can start a header of its own.
std::string OneLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// Splits UTF-8 text into pieces whose base64 encoded words fit a line.
std::vector<std::string> EncodedWords(absl::string_view utf8) {
  // "=?UTF-8?B?" + 48 base64 characters + "?=" is 60 octets: a word fits a
  // line even after a field name such as "Subject: " or "Reply-To: ".
  constexpr size_t kMaxOctets = 36;
  std::vector<std::string> words;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t end = i;
    while (end < utf8.size()) {
      size_t next = end;
      if (DecodeUtf8(utf8, &next) < 0) next = end + 1;  // invalid byte: keep it alone
      if (next - i > kMaxOctets) break;
      end = next;
    }
    if (end == i) end = i + 1;
    std::string b64;
    absl::Base64Escape(utf8.substr(i, end - i), &b64);
    words.push_back(absl::StrCat("=?UTF-8?B?", b64, "?="));
    i = end;
  }
  return words;
}

// Joins header pieces with spaces, folding (CRLF SP) before a piece that
// would make the line longer than kMaxLine.
std::string Fold(const std::vector<std::string>& pieces, size_t used, absl::string_view separator = " ") {
  std::string out;
  size_t line = used;
  for (size_t k = 0; k < pieces.size(); ++k) {
    const std::string& p = pieces[k];
    if (k > 0) {
      if (line + separator.size() + p.size() > kMaxLine) {
        absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(separator), "\r\n ");
        line = 1;
      } else {
        out.append(separator.data(), separator.size());
        line += separator.size();
      }
    }
    out += p;
    line += p.size();
  }
  return out;
}

// A display name as a phrase: atoms, a quoted string, or encoded words.
std::string Phrase(const std::string& name) {
  const std::string one = OneLine(name);
  if (!IsPlainAscii(one) || absl::StrContains(one, "=?")) {
    return absl::StrJoin(EncodedWords(one), " ");
  }
  static constexpr absl::string_view kSpecials = "()<>[]:;@\\,.\"";
  if (one.find_first_of(kSpecials.data(), 0, kSpecials.size()) == std::string::npos) return one;
  std::string quoted = "\"";
  for (char c : one) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// A usable addr-spec: local@domain, printable, no spaces or brackets.
bool ValidAddress(const std::string& a) {
  const size_t at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.size()) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == '(' || c == ')') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> AddressList(const std::vector<ComposeAddress>& list, absl::string_view field,
                                        size_t used) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < list.size(); ++i) {
    const ComposeAddress& a = list[i];
    if (!ValidAddress(a.address)) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "].address: '", absl::CHexEscape(a.address),
                                                     "' is not an e-mail address (local@domain)"));
    }
    std::string one = a.name.empty() ? a.address : absl::StrCat(Phrase(a.name), " <", a.address, ">");
    if (i + 1 < list.size()) one += ",";
    // Encoded names may be several words: let the fold happen between them.
    for (absl::string_view w : absl::StrSplit(one, ' ')) parts.emplace_back(w);
  }
  return Fold(parts, used);
}

// Quoted-printable (RFC 2045 6.7) of UTF-8 text whose line ends are CRLF.
std::string QuotedPrintable(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t line = 0;
  auto put = [&](absl::string_view piece) {
    if (line + piece.size() > kMaxLine - 1) {  // room for the soft break's '='
      out += "=\r\n";
      line = 0;
    }
    out.append(piece.data(), piece.size());
    line += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      out += "\r\n";
      line = 0;
      ++i;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    const bool line_end_next = i + 1 == text.size() || text[i + 1] == '\r';
    const bool plain = (u >= 0x21 && u <= 0x7e && c != '=') || ((c == ' ' || c == '\t') && !line_end_next);
    // A '.' alone at the start of a line can upset SMTP relays; encode it.
    if (plain && !(c == '.' && line == 0)) {
      put(absl::string_view(&c, 1));
    } else {
      put(absl::StrCat("=", absl::AsciiStrToUpper(absl::BytesToHexString(absl::string_view(&c, 1)))));
    }
  }
  return out;
}

// Text with every line end as CRLF.
std::string Crlf(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A text part: headers and body, 7bit when possible. Inside a multipart
// the CRLF before the next boundary belongs to the boundary, so one is
// added to keep the text's own last line end.
std::string TextPart(absl::string_view subtype, absl::string_view text, bool in_multipart) {
  const std::string body = Crlf(text);
  bool seven_bit = true;
  size_t line = 0;
  for (char c : body) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u == 0) seven_bit = false;
    line = c == '\n' ? 0 : line + 1;
    if (line > 998) seven_bit = false;
  }
  const absl::string_view end = in_multipart ? "\r\n" : "";
  if (seven_bit) {
    return absl::StrCat("Content-Type: text/", subtype,
                        "; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n", body, end);
  }
  return absl::StrCat("Content-Type: text/", subtype,
                      "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
                      QuotedPrintable(body), end);
}

std::string PercentEncode(absl::string_view utf8) {
  std::string out;
  for (char c : utf8) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += c;
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::BytesToHexString(absl::string_view(&c, 1))));
    }
  }
  return out;
}

// `; param="value"`, or RFC 2231 `; param*=utf-8''...` (with continuations
// when long) for names that are not short plain ASCII.
std::string FileNameParameter(absl::string_view param, const std::string& name) {
  const std::string one = OneLine(name);
  if (IsPlainAscii(one) && one.size() <= 60 && one.find_first_of("\"\\") == std::string::npos) {
    return absl::StrCat(";\r\n ", param, "=\"", one, "\"");
  }
  const std::string encoded = PercentEncode(one);
  if (encoded.size() <= 60) return absl::StrCat(";\r\n ", param, "*=utf-8''", encoded);
  std::string out;
  size_t at = 0;
  for (int section = 0; at < encoded.size(); ++section) {
    size_t take = std::min<size_t>(48, encoded.size() - at);
    // Never split a %XX escape.
    while (take < encoded.size() - at && take > 2 &&
           (encoded[at + take - 1] == '%' || encoded[at + take - 2] == '%')) {
      --take;
    }
    absl::StrAppend(&out, ";\r\n ", param, "*", section, "*=", section == 0 ? "utf-8''" : "",
                    encoded.substr(at, take));
    at += take;
  }
  return out;
}

// Appends `bytes` as base64 in lines of 76 characters, without an
// intermediate copy of the whole encoding.
void AppendBase64Lines(absl::string_view bytes, std::string* out) {
  constexpr size_t kPerLine = kMaxLine / 4 * 3;  // 57 bytes make 76 characters
  out->reserve(out->size() + (bytes.size() + kPerLine - 1) / kPerLine * (kMaxLine + 2));
  std::string line;
  for (size_t at = 0; at < bytes.size(); at += kPerLine) {
    absl::Base64Escape(bytes.substr(at, kPerLine), &line);
    absl::StrAppend(out, line, "\r\n");
  }
}

bool ValidToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || absl::string_view("()<>@,;:\\\"[]?=").find(c) != absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool ValidMediaType(absl::string_view t) {
  const size_t slash = t.find('/');
  return slash != absl::string_view::npos && ValidToken(t.substr(0, slash)) && ValidToken(t.substr(slash + 1));
}

bool ValidHeaderName(absl::string_view n) {
  if (n.empty() || n.size() > 76) return false;
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  return true;
}

bool ValidMessageId(absl::string_view id) {
  return id.size() >= 3 && id.front() == '<' && id.back() == '>' && id.find('@') != absl::string_view::npos &&
         IsPlainAscii(id) && id.find(' ') == absl::string_view::npos;
}

// Appends a multipart body of `parts`, releasing each part once copied.
void AppendMultipart(absl::string_view subtype, std::vector<std::string> parts, std::string* out) {
  const std::string boundary = absl::StrCat("=_imapc_", RandomHex(12));
  absl::StrAppend(out, "Content-Type: multipart/", subtype, ";\r\n boundary=\"", boundary, "\"\r\n\r\n");
  for (std::string& p : parts) {
    absl::StrAppend(out, "--", boundary, "\r\n", p);
    std::string().swap(p);
  }
  absl::StrAppend(out, "--", boundary, "--\r\n");
}

// A hex digest of every field of `in` (the date only when given).
std::string ContentDigest(const ComposeInput& in) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  auto add = [ctx](absl::string_view s) {
    const std::string length = absl::StrCat(s.size(), ":");  // unambiguous joins
    EVP_DigestUpdate(ctx, length.data(), length.size());
    EVP_DigestUpdate(ctx, s.data(), s.size());
  };
  for (const auto* list : {&in.from, &in.to, &in.cc, &in.bcc, &in.reply_to}) {
    add("list");
    for (const ComposeAddress& a : *list) {
      add(a.name);
      add(a.address);
    }
  }
  add(in.subject);
  add(in.date.has_value() ? absl::StrCat(absl::ToUnixMillis(*in.date)) : "");
  add(in.in_reply_to);
  for (const std::string& r : in.references) add(r);
  add(in.text_body);
  add(in.html_body);
  for (const ComposeAttachment& a : in.attachments) {
    add(a.filename);
    add(a.content_type);
    add(a.content);
    add(a.content_id);
    add(a.inline_part ? "inline" : "attachment");
  }
  for (const auto& [name, value] : in.extra_headers) {
    add(name);
    add(value);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

}  // namespace

std::string EncodeHeaderText(const std::string& utf8, size_t used) {
  const std::string one = OneLine(utf8);
  std::vector<std::string> pieces;
  if (IsPlainAscii(one) && !absl::StrContains(one, "=?")) {
    for (absl::string_view w : absl::StrSplit(one, ' ')) pieces.emplace_back(w);
  } else {
    pieces = EncodedWords(one);
  }
  return Fold(pieces, used);
}

absl::StatusOr<ComposedMessage> ComposeMessage(ComposeInput in) {
  if (in.from.empty()) return absl::InvalidArgumentError("from: at least one address is required");
  ComposedMessage out;
  std::string& m = out.bytes;
  auto add_addresses = [&](absl::string_view name, absl::string_view field,
                           const std::vector<ComposeAddress>& list) -> absl::Status {
    if (list.empty()) return absl::OkStatus();
    absl::StatusOr<std::string> value = AddressList(list, field, name.size() + 2);
    if (!value.ok()) return value.status();
    absl::StrAppend(&m, name, ": ", *value, "\r\n");
    return absl::OkStatus();
  };
  absl::Status s = add_addresses("From", "from", in.from);
  if (s.ok()) s = add_addresses("To", "to", in.to);
  if (s.ok()) s = add_addresses("Cc", "cc", in.cc);
  if (s.ok()) s = add_addresses("Bcc", "bcc", in.bcc);
  if (s.ok()) s = add_addresses("Reply-To", "reply_to", in.reply_to);
  if (!s.ok()) return s;
  if (!in.subject.empty()) absl::StrAppend(&m, "Subject: ", EncodeHeaderText(in.subject, 9), "\r\n");
  const absl::Time date = in.date.value_or(absl::Now());
  absl::StrAppend(&m, "Date: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", date, absl::UTCTimeZone()), "\r\n");
  if (in.message_id.empty()) {
    // Derived from the content, so that the same record composed again (a
    // retried batch) gets the same Message-ID and can be recognised.
    const std::string& from = in.from[0].address;
    in.message_id = absl::StrCat("<", ContentDigest(in), "@", from.substr(from.rfind('@') + 1), ">");
  } else if (!ValidMessageId(in.message_id)) {
    return absl::InvalidArgumentError("message_id: must look like <unique@domain>, printable ASCII without spaces");
  }
  out.message_id = in.message_id;
  absl::StrAppend(&m, "Message-ID: ", in.message_id, "\r\n");
  if (!in.in_reply_to.empty()) {
    if (!ValidMessageId(in.in_reply_to)) return absl::InvalidArgumentError("in_reply_to: must look like <id@domain>");
    absl::StrAppend(&m, "In-Reply-To: ", in.in_reply_to, "\r\n");
  }
  if (!in.references.empty()) {
    for (size_t i = 0; i < in.references.size(); ++i) {
      if (!ValidMessageId(in.references[i])) {
        return absl::InvalidArgumentError(absl::StrCat("references[", i, "]: must look like <id@domain>"));
      }
    }
    absl::StrAppend(&m, "References: ", Fold(in.references, 12), "\r\n");
  }
  for (size_t i = 0; i < in.extra_headers.size(); ++i) {
    const auto& [name, value] = in.extra_headers[i];
    if (!ValidHeaderName(name)) {
      return absl::InvalidArgumentError(absl::StrCat("headers[", i, "].name: '", absl::CHexEscape(name),
                                                     "' is not a header field name"));
    }
    static constexpr absl::string_view kOurs[] = {"from", "to", "cc", "bcc", "reply-to", "subject", "date",
                                                  "message-id", "in-reply-to", "references", "mime-version",
                                                  "content-type", "content-transfer-encoding"};
    for (absl::string_view ours : kOurs) {
      if (absl::EqualsIgnoreCase(name, ours)) {
        return absl::InvalidArgumentError(absl::StrCat("headers[", i, "].name: ", name,
                                                       " is written from its own field"));
      }
    }
    absl::StrAppend(&m, name, ": ", EncodeHeaderText(value, name.size() + 2), "\r\n");
  }
  absl::StrAppend(&m, "MIME-Version: 1.0\r\n");

  const bool html = !in.html_body.empty();
  const bool text = !in.text_body.empty() || !html;
  const bool mixed = !in.attachments.empty();
  std::string body;
  if (text && html) {
    AppendMultipart("alternative",
                    {TextPart("plain", in.text_body, true), TextPart("html", in.html_body, true)}, &body);
  } else {
    body = html ? TextPart("html", in.html_body, mixed) : TextPart("plain", in.text_body, mixed);
  }
  in.text_body.clear();
  in.html_body.clear();
  if (!mixed) {
    m += body;
    return out;
  }
  // Attachments are encoded straight into the message, each source
  // released once encoded.
  std::vector<std::string> heads;
  for (size_t i = 0; i < in.attachments.size(); ++i) {
    const ComposeAttachment& a = in.attachments[i];
    const std::string type = a.content_type.empty() ? "application/octet-stream" : absl::AsciiStrToLower(a.content_type);
    if (!ValidMediaType(type)) {
      return absl::InvalidArgumentError(absl::StrCat("attachments[", i, "].content_type: '",
                                                     absl::CHexEscape(a.content_type), "' is not type/subtype"));
    }
    std::string head = absl::StrCat("Content-Type: ", type);
    if (!a.filename.empty()) head += FileNameParameter("name", a.filename);
    absl::StrAppend(&head, "\r\nContent-Disposition: ", a.inline_part ? "inline" : "attachment");
    if (!a.filename.empty()) head += FileNameParameter("filename", a.filename);
    head += "\r\n";
    if (!a.content_id.empty()) {
      if (!ValidMessageId(absl::StrCat("<", a.content_id, ">"))) {
        return absl::InvalidArgumentError(absl::StrCat("attachments[", i, "].content_id: must look like id@domain"));
      }
      absl::StrAppend(&head, "Content-ID: <", a.content_id, ">\r\n");
    }
    absl::StrAppend(&head, "Content-Transfer-Encoding: base64\r\n\r\n");
    heads.push_back(std::move(head));
  }
  const std::string boundary = absl::StrCat("=_imapc_", RandomHex(12));
  absl::StrAppend(&m, "Content-Type: multipart/mixed;\r\n boundary=\"", boundary, "\"\r\n\r\n--", boundary,
                  "\r\n", body);
  std::string().swap(body);
  for (size_t i = 0; i < in.attachments.size(); ++i) {
    absl::StrAppend(&m, "--", boundary, "\r\n", heads[i]);
    AppendBase64Lines(in.attachments[i].content, &m);
    std::string().swap(in.attachments[i].content);
  }
  absl::StrAppend(&m, "--", boundary, "--\r\n");
  return out;
}

}  // namespace imap::mime
