// Command connector-client walks through the connector.v1.Connector API: it
// stores a connection, tests it, previews a query, streams the records in
// two parts (stopping after a few and resuming from the last record's
// cursor), acknowledges them, then shows how a wrong password and a query
// that does not parse are reported. One output line per step, in the format
// of client_examples/README.md.
//
//	connector-client --server=127.0.0.1:50051 --imap-url=imaps://localhost:993 \
//	    --user=alice --password-file=pw.txt --ca-file=cert.pem
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	pb "imapconnector/connector/v1"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const (
	query    = "SELECT uid, subject, from, date"
	badQuery = "SELECT subjcet"
	timeout  = 60 * time.Second
)

// codeNames spells status codes as the gRPC spec does (grpc-go's String()
// gives "InvalidArgument" and "Canceled").
var codeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

func codeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("CODE_%d", c)
}

// out prints one output line; control characters in values become spaces.
func out(words ...interface{}) {
	line := strings.TrimSpace(fmt.Sprintln(words...))
	fmt.Println(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, line))
}

// printError prints a gRPC error's code and message, and the fields named
// by a google.rpc.BadRequest in its details.
func printError(step string, err error) {
	st := status.Convert(err)
	out("ERROR", step, codeName(st.Code()), st.Message())
	for _, detail := range st.Details() {
		if bad, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range bad.GetFieldViolations() {
				out("FIELD", v.GetField(), v.GetDescription())
			}
		}
	}
}

// stream prints the records of one StreamRecords call. With stopAfter > 0 it
// cancels the call after that many records. It returns the count and the
// cursor of the last record printed.
func stream(ctx context.Context, client pb.ConnectorClient, req *pb.StreamRecordsRequest,
	stopAfter int) (int, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // also what stops the server after stopAfter records
	call, err := client.StreamRecords(ctx, req)
	if err != nil {
		return 0, "", err
	}
	count, cursor := 0, ""
	for {
		batch, err := call.Recv()
		if errors.Is(err, io.EOF) {
			return count, cursor, nil
		}
		if err != nil {
			return count, cursor, err
		}
		for _, record := range batch.GetRecords() {
			out("RECORD", record.GetUid(), record.GetFields()["subject"].GetStringValue())
			count, cursor = count+1, record.GetCursor()
			if count == stopAfter {
				// The rest of the batch is dropped: we resume after the
				// last record we kept.
				return count, cursor, nil
			}
		}
	}
}

func env(name string) string { return os.Getenv(name) }

func run() int {
	server := flag.String("server", env("CONNECTOR_ADDR"), "imap-connector host:port")
	imapURL := flag.String("imap-url", env("IMAP_URL"), "IMAP server, e.g. imaps://localhost:993")
	user := flag.String("user", env("IMAP_USER"), "IMAP user name")
	passwordFile := flag.String("password-file", env("IMAP_PASSWORD_FILE"), "file holding the password")
	caFile := flag.String("ca-file", env("IMAP_CA_FILE"), "PEM CA to trust")
	name := flag.String("name", "demo", "name of the stored connection")
	stopAfter := flag.Int("stop-after", 2, "records before the resume")
	batch := flag.Int("batch", 3, "max_batch_records")
	flag.Parse()
	if *server == "" || *imapURL == "" || *user == "" || *passwordFile == "" {
		fmt.Fprintln(os.Stderr, "--server, --imap-url, --user and --password-file (or their environment variables) are required")
		return 2
	}
	raw, err := os.ReadFile(*passwordFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	password := strings.TrimRight(string(raw), "\r\n")
	caPEM := ""
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		caPEM = string(pem)
	}

	// grpc-go 1.33 (Debian's) has WithInsecure, not the insecure package.
	conn, err := grpc.Dial(*server, grpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	client := pb.NewConnectorClient(conn)
	// One deadline for the whole walk-through.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	connection := &pb.Connection{
		Name: *name, ServerUrl: *imapURL, Username: *user, Password: password,
		Tls: &pb.TlsSettings{CaBundlePem: caPEM}, DefaultFolder: "INBOX", Query: query,
	}
	stored := &pb.ConnectionRef{Target: &pb.ConnectionRef_Name{Name: *name}}

	configured, err := client.Configure(ctx, &pb.ConfigureRequest{Connection: connection})
	if err != nil {
		printError("configure", err)
		return 1
	}
	c := configured.GetConnection()
	out("STEP configure ok", fmt.Sprintf("replaced=%t", configured.GetReplaced()),
		"host="+c.GetEffectiveHost(), fmt.Sprintf("port=%d", c.GetEffectivePort()))

	result, err := client.TestConnection(ctx, &pb.TestConnectionRequest{
		Target: &pb.TestConnectionRequest_Name{Name: *name}})
	if err != nil {
		printError("test_connection", err)
		return 1
	}
	for _, s := range result.GetStages() {
		out("STAGE", s.GetName(), s.GetResult(), fmt.Sprintf("%.1fms", s.GetDurationMs()), s.GetDetail())
	}
	if !result.GetOk() {
		out("FAILURE test_connection", result.GetCategory(), result.GetMessage())
		return 1
	}
	out("STEP test_connection ok", "folder="+result.GetFolder(),
		fmt.Sprintf("messages=%d", result.GetMessageCount()))

	plan, err := client.TestQuery(ctx, &pb.TestQueryRequest{Connection: stored})
	if err != nil {
		printError("test_query", err)
		return 1
	}
	for _, command := range plan.GetImapCommands() {
		out("PLAN command", command)
	}
	filter := plan.GetClientFilter()
	if filter == "" {
		filter = "-"
	}
	out("PLAN filter", filter)
	for _, f := range plan.GetFolders() {
		out("PLAN folder", f.GetFolder(), fmt.Sprintf("messages=%d", f.GetMessages()),
			fmt.Sprintf("matched=%d", f.GetMatchedBySearch()), fmt.Sprintf("exact=%t", f.GetSearchIsExact()))
	}
	out("STEP test_query ok", fmt.Sprintf("columns=%d", len(plan.GetSchema())),
		fmt.Sprintf("samples=%d", len(plan.GetSamples())))

	first, cursor, err := stream(ctx, client, &pb.StreamRecordsRequest{
		Connection: stored, MaxBatchRecords: int32(*batch)}, *stopAfter)
	if err != nil {
		printError("stream", err)
		return 1
	}
	out("CURSOR", cursor)
	out("STEP stream stopped", fmt.Sprintf("records=%d", first))

	rest, last, err := stream(ctx, client, &pb.StreamRecordsRequest{
		Connection: stored, MaxBatchRecords: int32(*batch), ResumeAfter: cursor}, 0)
	if err != nil {
		printError("resume", err)
		return 1
	}
	out("STEP resume ok", fmt.Sprintf("records=%d", rest))
	if last == "" {
		last = cursor
	}

	ack, err := client.Acknowledge(ctx, &pb.AcknowledgeRequest{Connection: stored, Cursor: last})
	if err != nil {
		printError("acknowledge", err)
		return 1
	}
	out("STEP acknowledge ok", "cursor="+ack.GetCursor(), fmt.Sprintf("changed=%d", ack.GetMessagesChanged()))

	// A wrong password: TestConnection answers ok=false with a category...
	wrong := proto.Clone(connection).(*pb.Connection)
	wrong.Name = *name + "-wrong"
	wrong.Password = "not-" + password
	result, err = client.TestConnection(ctx, &pb.TestConnectionRequest{
		Target: &pb.TestConnectionRequest_Connection{Connection: wrong}})
	switch {
	case err != nil:
		printError("wrong_password", err)
	case result.GetOk():
		out("STEP wrong_password ok")
	default:
		out("FAILURE wrong_password", result.GetCategory(), result.GetMessage())
	}

	// ...while reading records with it fails with UNAUTHENTICATED.
	n, _, err := stream(ctx, client, &pb.StreamRecordsRequest{
		Connection: &pb.ConnectionRef{Target: &pb.ConnectionRef_Connection{Connection: wrong}}}, 0)
	if err != nil {
		printError("wrong_password_stream", err)
	} else {
		out("STEP wrong_password_stream ok", fmt.Sprintf("records=%d", n))
	}

	// A query that does not parse: INVALID_ARGUMENT with a BadRequest on "query".
	bad := badQuery
	if _, err := client.TestQuery(ctx, &pb.TestQueryRequest{Connection: stored, Query: &bad}); err != nil {
		printError("bad_query", err)
	} else {
		out("STEP bad_query ok")
	}

	out(fmt.Sprintf("DONE records=%d", first+rest))
	return 0
}

func main() { os.Exit(run()) }
