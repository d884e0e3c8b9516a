// Session behaviour against a scripted server on loopback: the exchanges a
// real server rarely volunteers (stalls, cuts, BYE mid-command, missing
// STARTTLS), asserted byte for byte.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/session/fetch.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "tests/fixtures/loopback_listener.h"

namespace imap {
namespace {

using ::testing::HasSubstr;

// One step of a server script: send bytes, or read one line from the
// client (which is recorded), or wait for the client to hang up.
struct Step {
  enum Kind { kSend, kReadLine, kWaitForClose, kDrip, kFlood } kind;
  std::string data;
  absl::Duration interval = absl::ZeroDuration();
  size_t piece = 1;  // bytes per send of kDrip
};
Step Send(std::string s) { return {Step::kSend, std::move(s)}; }
// Sends `s` one byte every `interval`, stopping early when the client has
// gone (a server that drips).
Step Drip(std::string s, absl::Duration interval) { return {Step::kDrip, std::move(s), interval}; }
// Sends `s` in pieces of `piece` bytes, one every `interval`.
Step Pieces(std::string s, size_t piece, absl::Duration interval) {
  return {Step::kDrip, std::move(s), interval, piece};
}
// Sends `s` every `interval` until the client hangs up (a server that
// keeps talking without ever answering).
Step Flood(std::string s, absl::Duration interval) { return {Step::kFlood, std::move(s), interval}; }
Step ReadLine() { return {Step::kReadLine, ""}; }
Step WaitForClose() { return {Step::kWaitForClose, ""}; }

// Accepts one connection on 127.0.0.1 and plays the script, then closes.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Step> script) : script_(std::move(script)) {
    EXPECT_GE(listener_.fd(), 0);
    thread_ = std::thread([this] { Run(); });
  }
  ~ScriptedServer() { thread_.join(); }
  int port() const { return listener_.port(); }
  std::string received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  void Run() {
    const int fd = listener_.Accept();
    if (fd < 0) return;
    std::string pending;
    auto fill = [&]() {
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      pending.append(buf, static_cast<size_t>(n));
      absl::MutexLock lock(&mu_);
      received_.append(buf, static_cast<size_t>(n));
      return true;
    };
    for (const Step& step : script_) {
      if (step.kind == Step::kSend) {
        send(fd, step.data.data(), step.data.size(), MSG_NOSIGNAL);
      } else if (step.kind == Step::kDrip || step.kind == Step::kFlood) {
        // Paced sending is the behaviour under test (the server's side);
        // the client's timeouts are what the tests measure.
        bool open = true;
        for (size_t i = 0; open && (step.kind == Step::kFlood || i < step.data.size());
             i += step.piece) {
          const absl::string_view chunk =
              step.kind == Step::kDrip ? absl::string_view(step.data).substr(i, step.piece)
                                       : step.data;
          open = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0;
          absl::SleepFor(step.interval);
        }
      } else if (step.kind == Step::kReadLine) {
        while (pending.find('\n') == std::string::npos && fill()) {
        }
        const size_t nl = pending.find('\n');
        pending.erase(0, nl == std::string::npos ? pending.size() : nl + 1);
      } else {
        while (fill()) {
        }
      }
    }
    close(fd);
  }

  std::vector<Step> script_;
  testing_fixtures::LoopbackListener listener_;
  std::thread thread_;
  absl::Mutex mu_;
  std::string received_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<Session> Connect(const ScriptedServer& server, absl::Duration timeout,
                                 bool allow_plaintext = true) {
  absl::StatusOr<std::unique_ptr<Transport>> t =
      DialTcp("127.0.0.1", server.port(), absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(t.ok()) << t.status();
  SessionOptions options;
  options.response_timeout = timeout;
  options.allow_plaintext_auth = allow_plaintext;
  return std::make_unique<Session>(*std::move(t), options);
}

TEST(SessionScriptTest, LoginAndExamine) {
  ScriptedServer server({
      Send("* OK [CAPABILITY IMAP4rev1 LITERAL+] hello\r\n"),
      ReadLine(),
      Send("A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n"),
      ReadLine(),
      Send("* FLAGS (\\Seen \\Deleted)\r\n* 7 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n"
           "* OK [UIDNEXT 8] y\r\nA2 OK [READ-ONLY] done\r\n"),
      ReadLine(),
      Send("* BYE bye\r\nA3 OK Logout completed\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  EXPECT_TRUE(s->HasCapability("literal+"));
  ASSERT_TRUE(s->Login("alice", "pw", AuthMethod::kLogin).ok());
  EXPECT_TRUE(s->HasCapability("IDLE"));
  EXPECT_FALSE(s->HasCapability("LITERAL+"));
  absl::StatusOr<MailboxInfo> box = s->Examine("Entw\xc3\xbc" "rfe");
  ASSERT_TRUE(box.ok()) << box.status();
  EXPECT_EQ(box->exists, 7u);
  EXPECT_EQ(box->uid_validity, 42u);
  EXPECT_EQ(box->uid_next, 8u);
  EXPECT_TRUE(box->read_only);
  EXPECT_THAT(box->flags, ::testing::ElementsAre("\\Seen", "\\Deleted"));
  EXPECT_TRUE(s->Logout().ok());
  EXPECT_EQ(server.received(),
            "A1 LOGIN alice \"pw\"\r\nA2 EXAMINE Entw&APw-rfe\r\nA3 LOGOUT\r\n");
}

TEST(SessionScriptTest, SynchronizingLiteralWaitsForContinuation) {
  ScriptedServer server({
      Send("* OK hello\r\n"),
      ReadLine(),
      Send("* CAPABILITY IMAP4rev1\r\nA1 OK\r\n"),
      ReadLine(),
      Send("+ go ahead\r\n"),
      ReadLine(),
      Send("A2 OK welcome\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  ASSERT_TRUE(s->Login("j\xc3\xb6rg", "pw", AuthMethod::kAuto).ok());
  EXPECT_EQ(server.received(),
            "A1 CAPABILITY\r\nA2 LOGIN {5}\r\nj\xc3\xb6rg \"pw\"\r\n");
}

TEST(SessionScriptTest, AuthenticatePlainWithoutSaslIr) {
  ScriptedServer server({
      Send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"),
      ReadLine(),
      Send("+ \r\n"),
      ReadLine(),
      Send("A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Login("alice", "wrong", AuthMethod::kAuto);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(GetErrorKind(st), ErrorKind::kAuth);
  EXPECT_THAT(st.message(), HasSubstr("[AUTHENTICATIONFAILED] Authentication failed."));
  EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("wrong")));
  // base64("\0alice\0wrong")
  EXPECT_EQ(server.received(), "A1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHdyb25n\r\n");
}

TEST(SessionScriptTest, NoStartTlsMeansNoCredentials) {
  ScriptedServer server({
      Send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5), /*allow_plaintext=*/false);
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status tls = s->StartTls(TlsOptions{"localhost", "", false});
  EXPECT_EQ(tls.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorKind(tls), ErrorKind::kTls);
  absl::Status login = s->Login("alice", "secret", AuthMethod::kAuto);
  EXPECT_EQ(login.code(), absl::StatusCode::kFailedPrecondition);
  s.reset();  // hang up so the server can finish
  EXPECT_EQ(server.received(), "");
}

TEST(SessionScriptTest, SilentServerTimesOut) {
  ScriptedServer server({WaitForClose()});
  std::unique_ptr<Session> s = Connect(server, absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  absl::StatusOr<Greeting> g = s->ReadGreeting();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(g.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(GetErrorKind(g.status()), ErrorKind::kTimeout);
  EXPECT_GE(took, absl::Milliseconds(290));
  s.reset();
}

TEST(SessionScriptTest, ByeInTheMiddleOfACommand) {
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* BYE Server shutting down\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Noop();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("Server shutting down"));
}

TEST(SessionScriptTest, CutInsideALiteral) {
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (BODY[] {100}\r\nonly a few bytes"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Noop();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(st), ErrorKind::kProtocol);
}

TEST(SessionScriptTest, GreetingByeAndGarbage) {
  {
    ScriptedServer server({Send("* BYE too many connections\r\n")});
    std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
    absl::StatusOr<Greeting> g = s->ReadGreeting();
    EXPECT_EQ(g.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(g.status().message(), HasSubstr("too many connections"));
  }
  {
    ScriptedServer server({Send("SSH-2.0-OpenSSH_9.2\r\n")});
    std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
    absl::StatusOr<Greeting> g = s->ReadGreeting();
    EXPECT_EQ(g.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(GetErrorKind(g.status()), ErrorKind::kMalformed);
  }
}

TEST(SessionScriptTest, MissingFolderIsNotFound) {
  ScriptedServer server({
      Send("* PREAUTH ready\r\n"),
      ReadLine(),
      Send("A1 NO Mailbox doesn't exist: Nope\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  absl::StatusOr<Greeting> g = s->ReadGreeting();
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->status, wire::StatusWord::kPreauth);
  absl::StatusOr<MailboxInfo> box = s->Examine("Nope");
  EXPECT_EQ(box.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetErrorKind(box.status()), ErrorKind::kNoMailbox);
  EXPECT_THAT(box.status().message(), HasSubstr("Mailbox doesn't exist"));
}

TEST(SessionScriptTest, ClosedPortIsRefused) {
  absl::StatusOr<std::unique_ptr<Transport>> t = DialTcp(
      "127.0.0.1", testing_fixtures::PickFreePort(), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(t.status()), ErrorKind::kRefused);
}

}  // namespace
}  // namespace imap

namespace imap {
namespace {

std::unique_ptr<Session> ConnectWith(const ScriptedServer& server, SessionOptions options) {
  absl::StatusOr<std::unique_ptr<Transport>> t =
      DialTcp("127.0.0.1", server.port(), absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(t.ok()) << t.status();
  return std::make_unique<Session>(*std::move(t), options);
}

TEST(SessionFaultTest, HugeLiteralIsRefusedWithoutAllocating) {
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 5 X-DATA {99999999999}\r\n"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Noop();
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorKind(st), ErrorKind::kLimit);
  s.reset();
}

TEST(SessionFaultTest, OverlongLineAndDeepListsEndCleanly) {
  SessionOptions options;
  options.response_timeout = absl::Seconds(5);
  options.limits.max_line_length = 4096;
  {
    ScriptedServer server({
        Send("* OK hi\r\n"),
        ReadLine(),
        Send("* OK " + std::string(10000, 'x')),  // no line end in sight
        WaitForClose(),
    });
    std::unique_ptr<Session> s = ConnectWith(server, options);
    ASSERT_TRUE(s->ReadGreeting().ok());
    EXPECT_EQ(s->Noop().code(), absl::StatusCode::kResourceExhausted);
  }
  {
    ScriptedServer server({
        Send("* OK hi\r\n"),
        ReadLine(),
        Send("* 1 FETCH " + std::string(1000, '(') + std::string(1000, ')') + "\r\n"),
        WaitForClose(),
    });
    std::unique_ptr<Session> s = ConnectWith(server, options);
    ASSERT_TRUE(s->ReadGreeting().ok());
    absl::Status st = s->Noop();
    EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(st.message(), HasSubstr("list depth"));
  }
}

// Reads the greeting and starts a UID FETCH of `uid`'s whole message.
std::unique_ptr<FetchStream> FetchBodyOf(Session& s, uint32_t uid) {
  EXPECT_TRUE(s.ReadGreeting().ok());
  wire::UidSet set;
  set.Add(uid);
  absl::StatusOr<std::unique_ptr<FetchStream>> f = s.UidFetch({set}, "(UID BODY.PEEK[])");
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

TEST(SessionFaultTest, StallInsideALiteralHitsTheResponseTimeout) {
  SessionOptions options;
  options.response_timeout = absl::Milliseconds(300);
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 9 BODY[] {100000}\r\nsome bytes, then nothing"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  std::unique_ptr<FetchStream> f = FetchBodyOf(*s, 9);
  ASSERT_NE(f, nullptr);
  absl::StatusOr<FetchStream::Event> e = f->Next();
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(*e, FetchStream::Event::kBody);
  EXPECT_EQ(f->body().uid, 9u);
  EXPECT_EQ(f->body().size, 100000u);
  char buf[4096];
  absl::StatusOr<size_t> n = f->ReadBody(buf, sizeof(buf));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "some bytes, then nothing");
  n = f->ReadBody(buf, sizeof(buf));
  EXPECT_EQ(n.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(GetErrorKind(n.status()), ErrorKind::kTimeout);
  EXPECT_THAT(n.status().message(), HasSubstr("BODY[] of message 1"));
  EXPECT_THAT(n.status().message(), HasSubstr("sent nothing for 300 ms in the middle of a response"));
  // Errors are sticky, and the stream's end does not hang.
  EXPECT_EQ(f->Next().status().code(), absl::StatusCode::kDeadlineExceeded);
  f.reset();
  // Half an answer is still unread: the connection is not used again.
  EXPECT_EQ(s->Noop().code(), absl::StatusCode::kUnavailable);
  s.reset();
}

TEST(SessionFaultTest, GreetingWithoutLineEndTimesOut) {
  SessionOptions options;
  options.response_timeout = absl::Milliseconds(300);
  ScriptedServer server({Send("* OK"), WaitForClose()});
  std::unique_ptr<Session> s = ConnectWith(server, options);
  absl::StatusOr<Greeting> g = s->ReadGreeting();
  EXPECT_EQ(g.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(GetErrorKind(g.status()), ErrorKind::kTimeout);
  EXPECT_THAT(g.status().message(), HasSubstr("sent nothing for 300 ms in the middle of a response"));
}

TEST(SessionFaultTest, DrippedAnswerStopsAtTheCommandBound) {
  // One byte every 20 ms: never silent for the response timeout, but the
  // NOOP never completes within its bound either.
  SessionOptions options;
  options.response_timeout = absl::Seconds(2);
  options.command_timeout = absl::Milliseconds(500);
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Drip("* OK " + std::string(2000, 'x') + "\r\nA1 OK done\r\n", absl::Milliseconds(20)),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Noop();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(GetErrorKind(st), ErrorKind::kTimeout);
  EXPECT_THAT(st.message(), HasSubstr("did not complete its answer within 500 ms"));
  s.reset();  // hangs up, which ends the server's drip
}

TEST(SessionScriptTest, PacedLiteralAndItsTailArriveWithoutWaitingForMore) {
  // A body arriving in pieces, then the few bytes after it with nothing
  // more to come: mid-literal the transport may ask the kernel to gather
  // bytes before waking the reader, but never more than the literal still
  // holds, and never for the tail (the server then waits for us, so a wait
  // for bytes that are not coming would end only at the timeout).
  const std::string body = std::string(300000, 'b');
  SessionOptions options;
  options.response_timeout = absl::Seconds(5);
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 3 BODY[] {300000}\r\n"),
      Pieces(body, 25000, absl::Milliseconds(5)),
      Send(")\r\n"),
      Send("A1 OK done\r\n"),
      ReadLine(),
      Send("A2 OK noop\r\n"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  std::unique_ptr<FetchStream> f = FetchBodyOf(*s, 3);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->Next().value(), FetchStream::Event::kBody);
  std::string got;
  while (true) {
    char buf[65536];
    absl::StatusOr<size_t> n = f->ReadBody(buf, sizeof(buf));
    ASSERT_TRUE(n.ok()) << n.status();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, body);
  absl::StatusOr<FetchStream::Event> e = f->Next();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, FetchStream::Event::kMessage);
  e = f->Next();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, FetchStream::Event::kDone);
  f.reset();
  // A wait for bytes that are not coming would fail with the timeout.
  EXPECT_TRUE(s->Noop().ok());
  s.reset();
}

TEST(SessionFaultTest, EndlessUntaggedLinesStopAtTheCommandBound) {
  SessionOptions options;
  options.response_timeout = absl::Seconds(2);
  options.command_timeout = absl::Milliseconds(500);
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Flood("* OK still working\r\n", absl::Milliseconds(10)),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Noop();
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(st.message(), HasSubstr("did not complete its answer"));
  s.reset();
}

TEST(SessionFaultTest, LiteralBelowTheMinimumRateFails) {
  // 50 bytes/s into a 100 kB literal, against a minimum of 1000 bytes/s
  // over 1 s windows.
  SessionOptions options;
  options.response_timeout = absl::Seconds(2);
  options.min_literal_bytes_per_second = 1000;
  options.literal_rate_window = absl::Seconds(1);
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 4 BODY[] {100000}\r\n"),
      Drip(std::string(100000, 'y'), absl::Milliseconds(20)),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  std::unique_ptr<FetchStream> f = FetchBodyOf(*s, 4);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->Next().value(), FetchStream::Event::kBody);
  absl::Status end;
  size_t total = 0;
  while (true) {
    char buf[4096];
    absl::StatusOr<size_t> n = f->ReadBody(buf, sizeof(buf));
    if (!n.ok()) {
      end = n.status();
      break;
    }
    ASSERT_GT(*n, 0u) << "the dripped literal must not complete";
    total += *n;
  }
  EXPECT_LT(total, 1000u);
  EXPECT_EQ(end.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(end.message(), HasSubstr("too slowly"));
  f.reset();
  s.reset();
}

TEST(SessionFaultTest, OversizedBodyIsNotWaitedFor) {
  // A 93 GB literal announced: refused at once with the UID and the size,
  // without reading any of it.
  SessionOptions options;
  options.response_timeout = absl::Seconds(30);
  options.max_message_bytes = 1 << 20;
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 3 FETCH (UID 17 RFC822.SIZE 93000000000 BODY[] {93000000000}\r\nabc"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  std::unique_ptr<FetchStream> f = FetchBodyOf(*s, 17);
  ASSERT_NE(f, nullptr);
  absl::StatusOr<FetchStream::Event> e = f->Next();
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorKind(e.status()), ErrorKind::kLimit);
  EXPECT_EQ(GetMessageUid(e.status()), 17u);
  EXPECT_EQ(GetMessageSize(e.status()), 93000000000u);
  EXPECT_THAT(e.status().message(), HasSubstr("UID 17 is 93000000000 bytes"));
  EXPECT_THAT(e.status().message(), HasSubstr("max_message_bytes"));
  f.reset();  // must not try to read the 93 GB
  EXPECT_EQ(s->Noop().code(), absl::StatusCode::kUnavailable);
  s.reset();
}

TEST(SessionScriptTest, AlertsAreKeptAndReported) {
  std::vector<std::string> reported;
  SessionOptions options;
  options.response_timeout = absl::Seconds(5);
  options.allow_plaintext_auth = true;
  options.on_alert = [&](absl::string_view a) { reported.emplace_back(a); };
  ScriptedServer server({
      Send("* OK [ALERT] Maintenance tonight\r\n"),
      ReadLine(),
      Send("A1 NO [ALERT] Please log in via your web browser\r\n"),
      WaitForClose(),
  });
  std::unique_ptr<Session> s = ConnectWith(server, options);
  ASSERT_TRUE(s->ReadGreeting().ok());
  EXPECT_FALSE(s->Login("alice", "pw", AuthMethod::kLogin).ok());
  EXPECT_THAT(s->alerts(), ::testing::ElementsAre("Maintenance tonight",
                                                  "Please log in via your web browser"));
  EXPECT_EQ(reported, s->alerts());
  s.reset();
}

TEST(SessionFaultTest, CutInsideAStreamedBody) {
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 3 BODY[] {70000}\r\n" + std::string(30000, 'a')),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  wire::UidSet three;
  three.Add(3);
  absl::StatusOr<std::unique_ptr<FetchStream>> f = s->UidFetch({three}, "(UID BODY.PEEK[])");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ((*f)->Next().value(), FetchStream::Event::kBody);
  size_t total = 0;
  absl::Status end;
  while (true) {
    char buf[8192];
    absl::StatusOr<size_t> n = (*f)->ReadBody(buf, sizeof(buf));
    if (!n.ok()) {
      end = n.status();
      break;
    }
    total += *n;
  }
  EXPECT_EQ(total, 30000u);
  EXPECT_EQ(end.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(end), ErrorKind::kProtocol);
}

TEST(SessionFaultTest, NoOtherCommandWhileAFetchStreamRuns) {
  ScriptedServer server({
      Send("* OK hi\r\n"),
      ReadLine(),
      Send("* 1 FETCH (UID 1 FLAGS ())\r\nA1 OK done\r\n"),
      ReadLine(),
      Send("A3 OK noop\r\n"),  // A2 went to the refused NOOP
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  wire::UidSet one;
  one.Add(1);
  absl::StatusOr<std::unique_ptr<FetchStream>> f = s->UidFetch({one}, "(UID FLAGS)");
  ASSERT_TRUE(f.ok());
  absl::Status busy = s->Noop();
  EXPECT_EQ(busy.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetErrorKind(busy), ErrorKind::kUsage);
  f->reset();  // reads the rest of the answers
  EXPECT_TRUE(s->Noop().ok());
}

TEST(SessionFaultTest, MoveFallsBackToCopyStoreExpunge) {
  ScriptedServer server({
      Send("* OK [CAPABILITY IMAP4rev1 UIDPLUS] hi\r\n"),
      ReadLine(),
      Send("A1 OK [COPYUID 7 4:5 10:11] copied\r\n"),
      ReadLine(),
      Send("A2 OK stored\r\n"),
      ReadLine(),
      Send("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nA3 OK expunged\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::StatusOr<CopyResult> moved = s->UidMove(wire::UidSet::Parse("4:5").value(), "Archive");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->uid_validity, 7u);
  EXPECT_EQ(moved->destination_uids.ToString(), "10:11");
  EXPECT_EQ(server.received(),
            "A1 UID COPY 4:5 Archive\r\nA2 UID STORE 4:5 +FLAGS.SILENT (\\Deleted)\r\n"
            "A3 UID EXPUNGE 4:5\r\n");
}

TEST(SessionFaultTest, MoveWithoutMoveOrUidplusIsRefused) {
  ScriptedServer server({Send("* OK [CAPABILITY IMAP4rev1] hi\r\n"), WaitForClose()});
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::StatusOr<CopyResult> moved = s->UidMove(wire::UidSet::Parse("4").value(), "Archive");
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kFailedPrecondition);
  s.reset();
  EXPECT_EQ(server.received(), "");  // nothing was sent, nothing expunged
}

TEST(SessionFaultTest, RefusedBearerTokenAnswersTheErrorChallenge) {
  ScriptedServer server({
      Send("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n"),
      ReadLine(),
      Send("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
      ReadLine(),
      Send("A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
  });
  std::unique_ptr<Session> s = Connect(server, absl::Seconds(5));
  ASSERT_TRUE(s->ReadGreeting().ok());
  absl::Status st = s->Login("alice", "stale-token", AuthMethod::kXoauth2);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated);
  // The challenge, decoded, says why; the token itself is never shown.
  EXPECT_THAT(st.message(), HasSubstr("its reason: {\"status\":\"401\"}"));
  EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("stale-token")));
  // base64("user=alice\x01" "auth=Bearer stale-token\x01\x01"), then an empty answer.
  EXPECT_EQ(server.received(),
            "A1 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciBzdGFsZS10b2tlbgEB\r\n\r\n");
}

}  // namespace
}  // namespace imap
