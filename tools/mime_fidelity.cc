// Parses every message file of a folder with the MIME engine and prints one
// JSON line per message, with the keys of the corpus's reference parse, so
// that tools/mime_compare.py can score the two field by field.
//
//   mime_fidelity DIR [CHUNK_BYTES] > ours.jsonl
//   tools/mime_compare.py DIR/../dev.expected.jsonl ours.jsonl
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "imap/mime/message_reader.h"
#include "imap/util/utf8.h"

namespace {

// A JSON string: UTF-8 kept, invalid bytes as U+FFFD, controls escaped.
std::string Json(absl::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const int32_t cp = imap::DecodeUtf8(s, &i);
    if (cp < 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x20 || cp == 0x7f) {
      out += absl::StrFormat("\\u%04x", cp);
    } else {
      out.append(s.data() + start, i - start);
    }
  }
  out.push_back('"');
  return out;
}

std::string Addresses(const std::vector<imap::mime::Mailbox>& list) {
  std::string out = "[";
  for (const imap::mime::Mailbox& m : list) {
    if (m.address.empty() && m.name.empty()) continue;  // an empty group's placeholder
    if (out.size() > 1) out += ", ";
    absl::StrAppend(&out, "{\"name\": ", Json(m.name), ", \"address\": ", Json(m.address), "}");
  }
  return out + "]";
}

std::string Optional(const absl::optional<std::string>& s) { return s ? Json(*s) : "null"; }

// The value for a header the message may not have: null when absent.
std::string IfPresent(const imap::mime::MessageRecord& r, absl::string_view header,
                      const std::string& value) {
  for (const imap::mime::HeaderValue& h : r.headers) {
    if (absl::EqualsIgnoreCase(h.name, header)) return Json(value);
  }
  return "null";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mime_fidelity DIR [CHUNK_BYTES]\n";
    return 2;
  }
  size_t chunk = 4096;
  if (argc > 2 && (!absl::SimpleAtoi(argv[2], &chunk) || chunk == 0)) {
    std::cerr << "CHUNK_BYTES must be a positive number\n";
    return 2;
  }
  std::vector<std::string> files;
  DIR* d = opendir(argv[1]);
  if (d == nullptr) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 1;
  }
  while (dirent* e = readdir(d)) {
    const absl::string_view name = e->d_name;
    // Messages only: the fixture folder also holds its README and expectations.
    if (name[0] == '.' || absl::EndsWith(name, ".md") || absl::EndsWith(name, ".jsonl") ||
        absl::EndsWith(name, ".tsv")) {
      continue;
    }
    files.push_back(std::string(name));
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (const std::string& name : files) {
    std::ifstream in(absl::StrCat(argv[1], "/", name), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string raw = buffer.str();
    imap::mime::MessageReader reader;
    for (size_t at = 0; at < raw.size(); at += chunk) reader.Feed(absl::string_view(raw).substr(at, chunk));
    const imap::mime::MessageRecord r = reader.Finish();
    std::string date = "null";
    if (r.date.utc.has_value()) {
      date = Json(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *r.date.utc, absl::UTCTimeZone()));
    }
    std::string attachments = "[";
    for (const imap::mime::Attachment& a : r.attachments) {
      if (attachments.size() > 1) attachments += ", ";
      absl::StrAppend(&attachments, "{\"filename\": ", Json(a.filename), ", \"content_type\": ",
                      Json(a.content_type), ", \"size\": ", a.size, ", \"sha256\": ", Json(a.sha256),
                      ", \"sha256_lf\": ", a.sha256_lf.empty() ? "null" : Json(a.sha256_lf),
                      ", \"part\": ", Json(a.part), "}");
    }
    attachments += "]";
    std::string defects = "[";
    for (const imap::mime::Defect& def : r.defects) {
      if (defects.size() > 1) defects += ", ";
      defects += Json(absl::StrCat(def.where, ": ", def.what));
    }
    defects += "]";
    std::cout << "{\"file\": " << Json(name) << ", \"subject\": " << IfPresent(r, "Subject", r.subject)
              << ", \"from\": " << Addresses(r.from) << ", \"to\": " << Addresses(r.to)
              << ", \"cc\": " << Addresses(r.cc) << ", \"date\": " << date
              << ", \"date_assumed_utc\": " << (r.date.assumed_utc ? "true" : "false")
              << ", \"message_id\": " << IfPresent(r, "Message-ID", r.message_id)
              << ", \"text_body\": " << Optional(r.text_body)
              << ", \"html_body\": " << Optional(r.html_body) << ", \"attachments\": " << attachments
              << ", \"defects\": " << defects << "}\n";
  }
  return 0;
}
