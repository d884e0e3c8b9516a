// The MIME engine alone: how fast the server's message-to-record path runs
// on messages already in memory, without IMAP, TLS or gRPC.
//
//   bench_mime [--reps=5] [--chunk_bytes=65536] PATH...
//
// PATH is a file or a directory (read recursively, files in name order).
// Every file is one message; it is read into memory and its line ends made
// CRLF (as IMAP sends a message) before anything is timed. Each repetition
// then parses every message twice over (after one untimed pass):
//   mime    imap::mime::MessageReader fed in chunks of --chunk_bytes, as
//           imap/records/query_runner.cc feeds it from a FETCH literal, with
//           the reader options of StreamRecords' default query;
//   record  the same, plus server::EncodeRecord() of the default query's
//           columns (the record in wire form, as a stream sends it).
// Prints one JSON line: messages, bytes, the median seconds of each pass
// over --reps repetitions, MB/s and msgs/s of the medians, and totals that
// show the work was done (attachments, text body bytes, defects).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "imap/mime/message_reader.h"
#include "imap/query/compiler.h"
#include "imap/query/parser.h"
#include "imap/records/query_runner.h"
#include "server/record_builder.h"

ABSL_FLAG(int, reps, 5, "repetitions; the median is reported");
ABSL_FLAG(int, chunk_bytes, 64 * 1024, "bytes per MessageReader::Feed() call");

namespace {

namespace fs = std::filesystem;

// Every regular file under `path` (or `path` itself), sorted.
std::vector<std::string> FilesUnder(const std::string& path) {
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  if (ec) std::cerr << "bench_mime: reading " << path << ": " << ec.message() << "\n";
  std::sort(out.begin(), out.end());
  return out;
}

// The message as IMAP would send it: every line end CRLF.
std::string WithCrlf(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Totals {
  uint64_t attachments = 0, text_bytes = 0, defects = 0, record_bytes = 0;
};

imap::mime::MessageRecord Parse(absl::string_view message, size_t chunk,
                                const imap::mime::ReaderOptions& options) {
  imap::mime::MessageReader reader(options);
  for (size_t at = 0; at < message.size(); at += chunk) reader.Feed(message.substr(at, chunk));
  return reader.Finish();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const int reps = absl::GetFlag(FLAGS_reps);
  const int chunk_flag = absl::GetFlag(FLAGS_chunk_bytes);
  if (args.size() < 2 || reps < 1 || chunk_flag < 1) {
    std::cerr << "usage: bench_mime [--reps=N>=1] [--chunk_bytes=N>=1] PATH...\n";
    return 2;
  }
  const size_t chunk = static_cast<size_t>(chunk_flag);

  std::vector<std::string> messages;
  uint64_t bytes = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    for (const std::string& file : FilesUnder(args[i])) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      messages.push_back(WithCrlf(s.str()));
      bytes += messages.back().size();
    }
  }
  if (messages.empty()) {
    std::cerr << "bench_mime: no files under the paths given\n";
    return 2;
  }

  // What StreamRecords does for a request without a query.
  absl::StatusOr<imap::query::Query> query = imap::query::ParseQuery("");
  if (!query.ok()) {
    std::cerr << "bench_mime: default query: " << query.status() << "\n";
    return 1;
  }
  absl::StatusOr<imap::query::Plan> plan = imap::query::Compile(*query);
  if (!plan.ok()) {
    std::cerr << "bench_mime: default plan: " << plan.status() << "\n";
    return 1;
  }
  imap::mime::ReaderOptions options;
  options.keep_header_list = plan->needs_header_list;

  using Clock = std::chrono::steady_clock;
  std::vector<double> mime_s, record_s;
  Totals totals;
  // One untimed pass: the allocator's arenas and the caches warm up.
  for (const std::string& m : messages) Parse(m, chunk, options);
  for (int rep = 0; rep < reps; ++rep) {
    Totals t;
    const Clock::time_point t0 = Clock::now();
    for (const std::string& m : messages) {
      imap::mime::MessageRecord r = Parse(m, chunk, options);
      t.attachments += r.attachments.size();
      t.text_bytes += r.text_body.has_value() ? r.text_body->size() : 0;
      t.defects += r.defects.size();
    }
    const Clock::time_point t1 = Clock::now();
    for (const std::string& m : messages) {
      imap::records::FetchedMessage fetched;
      fetched.record = Parse(m, chunk, options);
      fetched.facts.record = &fetched.record;
      fetched.facts.folder = "INBOX";
      fetched.facts.uid = 1;
      fetched.facts.size = m.size();
      const server::EncodedRecord record = server::EncodeRecord(fetched, plan->columns, "");
      t.record_bytes += record.bytes.size();
    }
    const Clock::time_point t2 = Clock::now();
    mime_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    record_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    totals = t;
  }
  const double mime = Median(mime_s), record = Median(record_s);
  const double n = static_cast<double>(messages.size()), mb = static_cast<double>(bytes) / 1e6;
  std::printf(
      "{\"tool\": \"bench_mime\", \"messages\": %zu, \"bytes\": %llu, \"reps\": %d, "
      "\"mime_median_s\": %.4f, \"mime_min_s\": %.4f, \"mime_mb_per_s\": %.1f, "
      "\"mime_msgs_per_s\": %.0f, \"record_median_s\": %.4f, \"record_mb_per_s\": %.1f, "
      "\"record_msgs_per_s\": %.0f, \"attachments\": %llu, \"text_body_bytes\": %llu, "
      "\"defects\": %llu, \"record_bytes\": %llu}\n",
      messages.size(), static_cast<unsigned long long>(bytes), reps, mime,
      *std::min_element(mime_s.begin(), mime_s.end()), mb / mime, n / mime, record, mb / record,
      n / record, static_cast<unsigned long long>(totals.attachments),
      static_cast<unsigned long long>(totals.text_bytes),
      static_cast<unsigned long long>(totals.defects),
      static_cast<unsigned long long>(totals.record_bytes));
  return 0;
}
