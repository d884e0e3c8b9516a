// The benchmark's consumer: calls StreamRecords on a running imap-connector
// for an inline connection and counts what arrives, as an orchestrator
// written in C++ would consume it. Prints one JSON line of totals.
//
//   stream_consumer --server=127.0.0.1:50051 --imap_url=imaps://localhost:14993
//       --user=bench --password_file=pw --ca_file=cert.pem --query="SELECT *"
//
// --read_delay_ms makes it a slow reader: it waits that long after each
// response before reading the next, so the server's memory under
// backpressure can be measured.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "connector/v1/connector.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "imap-connector address");
ABSL_FLAG(std::string, imap_url, "", "server_url of the connection");
ABSL_FLAG(std::string, user, "", "IMAP user");
ABSL_FLAG(std::string, password_file, "", "file holding the IMAP password");
ABSL_FLAG(std::string, ca_file, "", "PEM file of the IMAP server's CA");
ABSL_FLAG(std::string, folder, "INBOX", "default folder");
ABSL_FLAG(std::string, query, "", "query (empty: the usual columns of the folder)");
ABSL_FLAG(int, batch, 0, "max_batch_records (0: the server's default)");
ABSL_FLAG(int, parallelism, 0, "IMAP connections for the stream (0: the server's default, two)");
ABSL_FLAG(int, read_delay_ms, 0, "wait this long after each response (a slow reader)");

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  connector::v1::StreamRecordsRequest request;
  connector::v1::Connection* c = request.mutable_connection()->mutable_connection();
  c->set_name("bench");
  c->set_server_url(absl::GetFlag(FLAGS_imap_url));
  c->set_username(absl::GetFlag(FLAGS_user));
  std::string password = ReadFile(absl::GetFlag(FLAGS_password_file));
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  c->set_password(password);
  if (!absl::GetFlag(FLAGS_ca_file).empty()) {
    c->mutable_tls()->set_ca_bundle_pem(ReadFile(absl::GetFlag(FLAGS_ca_file)));
  }
  c->set_default_folder(absl::GetFlag(FLAGS_folder));
  c->set_timeout_ms(60000);
  if (!absl::GetFlag(FLAGS_query).empty()) request.set_query(absl::GetFlag(FLAGS_query));
  request.set_max_batch_records(absl::GetFlag(FLAGS_batch));
  request.set_parallelism(absl::GetFlag(FLAGS_parallelism));

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_server),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = connector::v1::Connector::NewStub(channel);
  grpc::ClientContext ctx;
  const auto start = std::chrono::steady_clock::now();
  auto reader = stub->StreamRecords(&ctx, request);
  connector::v1::StreamRecordsResponse batch;
  uint64_t records = 0, bytes = 0, batches = 0, message_bytes = 0;
  const int read_delay_ms = absl::GetFlag(FLAGS_read_delay_ms);
  while (reader->Read(&batch)) {
    if (read_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(read_delay_ms));
    ++batches;
    bytes += batch.ByteSizeLong();
    for (const connector::v1::Record& r : batch.records()) {
      ++records;
      auto size = r.fields().find("size");
      if (size != r.fields().end()) message_bytes += static_cast<uint64_t>(size->second.int_value());
    }
  }
  grpc::Status status = reader->Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) {
    std::cerr << "StreamRecords failed: " << status.error_code() << " " << status.error_message() << "\n";
    return 1;
  }
  std::printf(
      "{\"records\": %llu, \"batches\": %llu, \"record_bytes\": %llu, \"message_bytes\": %llu, "
      "\"seconds\": %.3f, \"records_per_s\": %.1f, \"message_mb_per_s\": %.2f}\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(batches),
      static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(message_bytes), seconds,
      static_cast<double>(records) / seconds, static_cast<double>(message_bytes) / seconds / 1e6);
  return 0;
}
