package dev.imapconnector.example;

import dev.imapconnector.connector.v1.AcknowledgeRequest;
import dev.imapconnector.connector.v1.AcknowledgeResponse;
import dev.imapconnector.connector.v1.ConfigureRequest;
import dev.imapconnector.connector.v1.ConfigureResponse;
import dev.imapconnector.connector.v1.Connection;
import dev.imapconnector.connector.v1.ConnectionRef;
import dev.imapconnector.connector.v1.ConnectorGrpc;
import dev.imapconnector.connector.v1.FolderMatch;
import dev.imapconnector.connector.v1.Record;
import dev.imapconnector.connector.v1.Stage;
import dev.imapconnector.connector.v1.StreamRecordsRequest;
import dev.imapconnector.connector.v1.StreamRecordsResponse;
import dev.imapconnector.connector.v1.TestConnectionRequest;
import dev.imapconnector.connector.v1.TestConnectionResponse;
import dev.imapconnector.connector.v1.TestQueryRequest;
import dev.imapconnector.connector.v1.TestQueryResponse;
import dev.imapconnector.connector.v1.TlsSettings;
import dev.imapconnector.connector.v1.Value;
import google.rpc.ErrorDetails.BadRequest;
import google.rpc.StatusOuterClass;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Walks through the connector.v1.Connector API: stores a connection, tests it, previews a query,
 * streams the records in two parts (stopping after a few and resuming from the last record's
 * cursor), acknowledges them, then shows how a wrong password and a query that does not parse are
 * reported. One output line per step, in the format of client_examples/README.md.
 *
 * <pre>
 * connector-client --server=127.0.0.1:50051 --imap-url=imaps://localhost:993 \
 *     --user=alice --password-file=pw.txt --ca-file=cert.pem
 * </pre>
 */
public final class ConnectorClient {
  private static final String QUERY = "SELECT uid, subject, from, date";
  private static final String BAD_QUERY = "SELECT subjcet";
  private static final long TIMEOUT_S = 60;
  private static final Metadata.Key<byte[]> STATUS_DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);
  // Subjects are UTF-8 whatever the locale says.
  private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

  private final ConnectorGrpc.ConnectorBlockingStub stub;

  private ConnectorClient(ManagedChannel channel) {
    this.stub = ConnectorGrpc.newBlockingStub(channel);
  }

  /** Prints one output line; control characters in values become spaces. */
  private static void out(Object... words) {
    StringBuilder line = new StringBuilder();
    for (Object word : words) {
      if (line.length() > 0) line.append(' ');
      line.append(word);
    }
    OUT.println(line.toString().replaceAll("[\\x00-\\x1f\\x7f]", " "));
  }

  /** Prints a gRPC error's code and message, and the fields a BadRequest detail names. */
  private static void printError(String step, StatusRuntimeException e) {
    Status status = e.getStatus();
    out("ERROR", step, status.getCode().name(), status.getDescription());
    Metadata trailers = e.getTrailers();
    byte[] raw = trailers == null ? null : trailers.get(STATUS_DETAILS);
    if (raw == null) return;
    try {
      for (com.google.protobuf.Any detail : StatusOuterClass.Status.parseFrom(raw).getDetailsList()) {
        if (detail.is(BadRequest.class)) {
          for (BadRequest.FieldViolation v : detail.unpack(BadRequest.class).getFieldViolationsList()) {
            out("FIELD", v.getField(), v.getDescription());
          }
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException bad) {
      out("ERROR", step, "details unreadable:", bad.getMessage());
    }
  }

  private ConnectorGrpc.ConnectorBlockingStub call() {
    return stub.withDeadlineAfter(TIMEOUT_S, TimeUnit.SECONDS);
  }

  /** What one StreamRecords call delivered. */
  private record Streamed(int count, String cursor) {}

  /**
   * Prints the records of one StreamRecords call. With stopAfter > 0 it cancels the call after
   * that many records; a blocking stream is cancelled through the Context it runs in.
   */
  private Streamed stream(StreamRecordsRequest request, int stopAfter) {
    Context.CancellableContext context = Context.current().withCancellation();
    try {
      return context.call(() -> {
        int count = 0;
        String cursor = "";
        Iterator<StreamRecordsResponse> batches = call().streamRecords(request);
        while (batches.hasNext()) {
          for (Record record : batches.next().getRecordsList()) {
            Value subject = record.getFieldsOrDefault("subject", Value.getDefaultInstance());
            out("RECORD", Integer.toUnsignedString(record.getUid()), subject.getStringValue());
            count++;
            cursor = record.getCursor();
            // The rest of the batch is dropped: we resume after the last record we kept.
            if (count == stopAfter) return new Streamed(count, cursor);
          }
        }
        return new Streamed(count, cursor);
      });
    } catch (StatusRuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      context.cancel(null); // stops the server's reading if we left early
    }
  }

  private int run(Map<String, String> opts) throws IOException {
    String name = opts.getOrDefault("name", "demo");
    int stopAfter = Integer.parseInt(opts.getOrDefault("stop-after", "2"));
    int batch = Integer.parseInt(opts.getOrDefault("batch", "3"));
    String password = Files.readString(Path.of(opts.get("password-file"))).replaceAll("\\r?\\n$", "");
    String caFile = opts.get("ca-file");
    String caPem = caFile == null || caFile.isEmpty() ? "" : Files.readString(Path.of(caFile));

    Connection connection = Connection.newBuilder()
        .setName(name)
        .setServerUrl(opts.get("imap-url"))
        .setUsername(opts.get("user"))
        .setPassword(password)
        .setTls(TlsSettings.newBuilder().setCaBundlePem(caPem))
        .setDefaultFolder("INBOX")
        .setQuery(QUERY)
        .build();
    ConnectionRef stored = ConnectionRef.newBuilder().setName(name).build();
    String step = "configure";
    int total;
    try {
      ConfigureResponse configured =
          call().configure(ConfigureRequest.newBuilder().setConnection(connection).build());
      Connection c = configured.getConnection();
      out("STEP configure ok", "replaced=" + configured.getReplaced(),
          "host=" + c.getEffectiveHost(), "port=" + c.getEffectivePort());

      step = "test_connection";
      TestConnectionResponse result =
          call().testConnection(TestConnectionRequest.newBuilder().setName(name).build());
      for (Stage s : result.getStagesList()) {
        out("STAGE", s.getName(), s.getResult().name(),
            String.format(Locale.ROOT, "%.1fms", s.getDurationMs()), s.getDetail());
      }
      if (!result.getOk()) {
        out("FAILURE", step, result.getCategory().name(), result.getMessage());
        return 1;
      }
      out("STEP test_connection ok", "folder=" + result.getFolder(),
          "messages=" + Integer.toUnsignedString(result.getMessageCount()));

      step = "test_query";
      TestQueryResponse plan =
          call().testQuery(TestQueryRequest.newBuilder().setConnection(stored).build());
      for (String command : plan.getImapCommandsList()) out("PLAN command", command);
      out("PLAN filter", plan.getClientFilter().isEmpty() ? "-" : plan.getClientFilter());
      for (FolderMatch f : plan.getFoldersList()) {
        out("PLAN folder", f.getFolder(), "messages=" + Integer.toUnsignedString(f.getMessages()),
            "matched=" + Long.toUnsignedString(f.getMatchedBySearch()),
            "exact=" + f.getSearchIsExact());
      }
      out("STEP test_query ok", "columns=" + plan.getSchemaCount(),
          "samples=" + plan.getSamplesCount());

      step = "stream";
      Streamed first = stream(StreamRecordsRequest.newBuilder()
          .setConnection(stored).setMaxBatchRecords(batch).build(), stopAfter);
      out("CURSOR", first.cursor());
      out("STEP stream stopped", "records=" + first.count());

      step = "resume";
      Streamed rest = stream(StreamRecordsRequest.newBuilder()
          .setConnection(stored).setMaxBatchRecords(batch).setResumeAfter(first.cursor()).build(), 0);
      out("STEP resume ok", "records=" + rest.count());
      total = first.count() + rest.count();

      step = "acknowledge";
      String last = rest.cursor().isEmpty() ? first.cursor() : rest.cursor();
      AcknowledgeResponse ack = call().acknowledge(
          AcknowledgeRequest.newBuilder().setConnection(stored).setCursor(last).build());
      out("STEP acknowledge ok", "cursor=" + ack.getCursor(),
          "changed=" + Long.toUnsignedString(ack.getMessagesChanged()));
    } catch (StatusRuntimeException e) {
      printError(step, e);
      return 1;
    }

    // A wrong password: TestConnection answers ok=false with a category...
    Connection wrong = connection.toBuilder()
        .setName(name + "-wrong").setPassword("not-" + password).build();
    try {
      TestConnectionResponse result =
          call().testConnection(TestConnectionRequest.newBuilder().setConnection(wrong).build());
      if (result.getOk()) {
        out("STEP wrong_password ok");
      } else {
        out("FAILURE wrong_password", result.getCategory().name(), result.getMessage());
      }
    } catch (StatusRuntimeException e) {
      printError("wrong_password", e);
    }

    // ...while reading records with it fails with UNAUTHENTICATED.
    try {
      Streamed s = stream(StreamRecordsRequest.newBuilder()
          .setConnection(ConnectionRef.newBuilder().setConnection(wrong)).build(), 0);
      out("STEP wrong_password_stream ok", "records=" + s.count());
    } catch (StatusRuntimeException e) {
      printError("wrong_password_stream", e);
    }

    // A query that does not parse: INVALID_ARGUMENT with a BadRequest on "query".
    try {
      call().testQuery(
          TestQueryRequest.newBuilder().setConnection(stored).setQuery(BAD_QUERY).build());
      out("STEP bad_query ok");
    } catch (StatusRuntimeException e) {
      printError("bad_query", e);
    }

    out("DONE", "records=" + total);
    return 0;
  }

  /** Options are --key=value; each falls back to an environment variable. */
  private static Map<String, String> parseOptions(String[] args) {
    Map<String, String> opts = new HashMap<>();
    Map<String, String> env = Map.of("server", "CONNECTOR_ADDR", "imap-url", "IMAP_URL",
        "user", "IMAP_USER", "password-file", "IMAP_PASSWORD_FILE", "ca-file", "IMAP_CA_FILE");
    env.forEach((key, variable) -> {
      String value = System.getenv(variable);
      if (value != null && !value.isEmpty()) opts.put(key, value);
    });
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("expected --key=value, got " + arg);
      }
      opts.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    for (String required : new String[] {"server", "imap-url", "user", "password-file"}) {
      if (!opts.containsKey(required)) {
        throw new IllegalArgumentException(
            "--" + required + " (or its environment variable) is required");
      }
    }
    return opts;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts;
    try {
      opts = parseOptions(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(opts.get("server")).usePlaintext().build();
    int rc;
    try {
      rc = new ConnectorClient(channel).run(opts);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.exit(rc);
  }
}
