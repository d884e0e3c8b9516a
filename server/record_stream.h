// StreamRecords' work, apart from gRPC: read every message a query
// matches, folder by folder in UID order, as batches of records handed to
// a sink that may block (backpressure); reconnect and resume after the
// last record sent when the IMAP connection drops; in follow mode, wait
// for new mail (IDLE, or polling) until cancelled.
//
//   StreamControl control;               // Cancel() it from another thread
//   absl::StatusOr<StreamStats> s = RunRecordStream(request, sink, control);
#ifndef SERVER_RECORD_STREAM_H_
#define SERVER_RECORD_STREAM_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/query/compiler.h"
#include "imap/records/cursor.h"
#include "imap/session/transport.h"
#include "server/record_builder.h"

namespace server {

// A batch is sent once its records reach this size (StreamRecords'
// max_batch_bytes 0). Each open stream holds about three batches (one being
// filled, one being written and its serialized copy), so this bounds the
// memory of many concurrent streams, while writes of a few hundred KB
// still cost gRPC little per record.
constexpr int64_t kDefaultMaxBatchBytes = 256 << 10;
// With more than kBusyStreams streams open, a new stream's defaults halve:
// batches of kBusyMaxBatchBytes and parallel chunks of half a batch of
// records. Memory then grows more slowly with concurrency, at the price of
// about 5-10% more CPU per record, when the streams share the CPU anyway.
constexpr int64_t kBusyStreams = 8;
constexpr int64_t kBusyMaxBatchBytes = 128 << 10;

struct StreamRequest {
  // REQUIRES: passed ValidateConnection.
  connector::v1::Connection connection;
  // REQUIRES: ascending (records follow UIDs so that cursors work).
  imap::query::Plan plan;
  // Where to start: messages after these positions.
  imap::records::Cursor start;
  // A folder whose UIDVALIDITY differs from the cursor's is read again
  // from the start; otherwise the stream fails with FAILED_PRECONDITION.
  bool reread_on_uidvalidity_change = false;
  int max_batch_records = 100;
  int64_t max_batch_bytes = kDefaultMaxBatchBytes;
  // Records per UID FETCH of a parallel read (0: max_batch_records).
  int chunk_records = 0;
  bool include_attachment_content = false;
  bool follow = false;
  // Skip messages whose gmail_msgid this stream delivered already (the
  // plan fetches X-GM-MSGID then); see server/gmail_dedup.h.
  bool deduplicate_gmail_messages = false;
  uint32_t shard_count = 1;
  uint32_t shard_index = 0;
  // IMAP connections that fetch and parse at once (records still leave in
  // UID order). Each holds up to one chunk of records in memory.
  int parallelism = 1;
  // The caller's deadline (the RPC's): the stream ends with
  // DEADLINE_EXCEEDED when it passes.
  absl::Time deadline = absl::InfiniteFuture();
  // Follow mode: IDLE is renewed this often (RFC 2177 asks clients to
  // renew within 29 minutes); without IDLE, or with several folders, the
  // folders are checked this often.
  absl::Duration idle_renew = absl::Minutes(25);
  absl::Duration poll_interval = absl::Seconds(30);
  // After a dropped connection: wait, doubling from backoff_initial up to
  // backoff_max, and give up after this many failed attempts in a row.
  int max_reconnect_attempts = 8;
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(10);
};

// Stops a stream from another thread. Thread-safe.
class StreamControl {
 public:
  // Ends the stream promptly: a blocked IMAP read fails at once, waits end.
  void Cancel();
  bool cancelled() const;
  // Waits up to `d`; false if cancelled meanwhile.
  bool WaitFor(absl::Duration d);
  // Transports that Cancel() interrupts. The stream detaches a transport
  // before destroying it.
  void Attach(imap::Transport* transport);
  void Detach(imap::Transport* transport);

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<imap::Transport*> transports_ ABSL_GUARDED_BY(mu_);
};

// Attaches `transport` to `control` for the life of this object (nothing
// when `control` is null). Declare it after the session that owns the
// transport, so that it detaches before the transport goes away.
class AttachedTransport {
 public:
  AttachedTransport(StreamControl* control, imap::Transport* transport)
      : control_(control), transport_(transport) {
    if (control_ != nullptr) control_->Attach(transport_);
  }
  ~AttachedTransport() {
    if (control_ != nullptr) control_->Detach(transport_);
  }
  AttachedTransport(const AttachedTransport&) = delete;
  AttachedTransport& operator=(const AttachedTransport&) = delete;

 private:
  StreamControl* const control_;
  imap::Transport* const transport_;
};

// A batch on its way: the response without its records, and the records
// in wire form, each with its cursor still in the clear (the sink seals
// the cursors and adds the records to the response).
struct OutgoingBatch {
  connector::v1::StreamRecordsResponse response;
  std::vector<EncodedRecord> records;
};

// Receives batches. Send() may block until the consumer is ready for the
// next batch; it returns CANCELLED (or another error) when the consumer is
// gone, which ends the stream.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  virtual absl::Status Send(OutgoingBatch batch) = 0;
};

struct StreamStats {
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t record_bytes = 0;  // serialized size of the records sent (cursors before sealing)
  uint64_t reconnects = 0;
  imap::records::Cursor cursor;  // after the last record sent
};

// Streams until every folder is read (or, with follow, until cancelled).
// Errors: CANCELLED, DEADLINE_EXCEEDED, FAILED_PRECONDITION (UIDVALIDITY
// changed), the IMAP error that reconnecting could not get past (e.g.
// UNAUTHENTICATED, NOT_FOUND for a folder), or the sink's error.
absl::StatusOr<StreamStats> RunRecordStream(const StreamRequest& request, BatchSink& sink,
                                            StreamControl& control);

}  // namespace server

#endif  // SERVER_RECORD_STREAM_H_
