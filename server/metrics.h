// The server's Prometheus metrics: calls by method and code, open streams,
// records and bytes streamed, IMAP errors by category, IMAP command
// latency; and a small HTTP endpoint that serves them at /metrics.
//
//   Metrics::Global().CallFinished("StreamRecords", absl::StatusCode::kOk);
//   absl::StatusOr<std::unique_ptr<MetricsServer>> m = MetricsServer::Start("0.0.0.0:9090");
#ifndef SERVER_METRICS_H_
#define SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace server {

// Thread-safe.
class Metrics {
 public:
  static Metrics& Global();

  void CallFinished(absl::string_view method, absl::StatusCode code);
  void StreamOpened() { ++open_streams_; }
  void StreamClosed() { --open_streams_; }
  void RecordsSent(uint64_t records, uint64_t bytes) {
    records_ += records;
    record_bytes_ += bytes;
  }
  // `category`: "auth", "timeout", "tls", "refused", "dns", "folder", "protocol", ...
  void ImapError(absl::string_view category);
  void ImapCommand(absl::string_view command, absl::Duration took, bool ok);

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

  // Buckets of the command latency histogram, in seconds.
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,  0.5,  1,     5};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // cumulative on output only
    uint64_t total = 0;
    double sum = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> imap_errors_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, bool>, Histogram> commands_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> open_streams_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> record_bytes_{0};
};

// Serves GET /metrics over plain HTTP/1.0 on its own thread.
class MetricsServer {
 public:
  // `address` is host:port (port 0 picks one).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  ~MetricsServer();  // stops and joins
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void Serve();
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

}  // namespace server

#endif  // SERVER_METRICS_H_
