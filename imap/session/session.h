// One IMAP client connection: greeting, capabilities, STARTTLS, login and
// the commands built on them. Commands run one at a time, except that UID
// FETCH batches can be pipelined (see fetch.h). Untagged data the server
// sends meanwhile (EXISTS, EXPUNGE, flag changes, CAPABILITY, BYE) updates
// the session's state and is queued as MailboxEvents.
//
//   auto t = DialTcp(host, 993, deadline);
//   (*t)->StartTls({.server_name = host}, deadline);
//   Session s(*std::move(t), SessionOptions());
//   s.ReadGreeting();  s.Login(user, password, AuthMethod::kAuto);
//   absl::StatusOr<MailboxInfo> inbox = s.Examine("INBOX");
//   s.Logout();
//
// Command families live in their own files: auth.cc, mailbox.cc (LIST,
// STATUS, SELECT, SUBSCRIBE), list_status.cc (every folder with its
// counts), search.cc, fetch.cc, append.cc, store.cc (STORE, COPY, MOVE,
// EXPUNGE), idle.cc, extensions.cc (ENABLE, ID, COMPRESS).
#ifndef IMAP_SESSION_SESSION_H_
#define IMAP_SESSION_SESSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/session/transport.h"
#include "imap/wire/command_writer.h"
#include "imap/wire/response.h"
#include "imap/wire/response_parser.h"
#include "imap/wire/sequence_set.h"

namespace imap {

class FetchStream;

struct SessionOptions {
  // The longest wait for the next byte from the server, whatever it is in
  // the middle of (a greeting, a response line, a literal): the
  // connection's timeout_ms. No byte for that long is DEADLINE_EXCEEDED
  // (kTimeout).
  absl::Duration response_timeout = absl::Seconds(30);
  // Progress bound: a command must complete within this, and during a UID
  // FETCH each message's answer must. A server that keeps sending without
  // completing (dripping a byte at a time, or untagged lines) fails with
  // DEADLINE_EXCEEDED (kTimeout) once it passes.
  absl::Duration command_timeout = absl::Minutes(5);
  // A literal that streams (a message body) must arrive at least this fast
  // on average over each window of literal_rate_window; slower is
  // DEADLINE_EXCEEDED (kTimeout). The command bound does not apply while a
  // literal keeps this rate, so large messages on slow links still arrive.
  uint64_t min_literal_bytes_per_second = 1024;
  absl::Duration literal_rate_window = absl::Seconds(30);
  // A message body (a FETCH body literal) larger than this is not read:
  // the FETCH fails with RESOURCE_EXHAUSTED (kLimit) carrying the
  // message's UID and size (GetMessageUid, GetMessageSize), and the
  // session can no longer be used (the rest of the literal is unread).
  uint64_t max_message_bytes = 256ull << 20;
  // No wait goes past this point in time (e.g. the RPC's deadline).
  absl::Time overall_deadline = absl::InfiniteFuture();
  // Allow credentials over a connection that is not TLS. Off: they never
  // travel in clear text unless asked for.
  bool allow_plaintext_auth = false;
  // Body literals of at least this size are streamed (FetchStream) rather
  // than held in memory.
  uint64_t stream_bodies_from = 64 * 1024;
  wire::ParserLimits limits;
  // Called after each command with its name ("SELECT", "UID FETCH", ...),
  // how long it took and whether the server answered OK (for metrics).
  std::function<void(absl::string_view command, absl::Duration took, bool ok)> on_command;
  // Called with the text of each [ALERT] the server sends (RFC 3501 7.1):
  // providers use alerts to say why a login is refused.
  std::function<void(absl::string_view alert)> on_alert;
};

enum class AuthMethod {
  kAuto,         // the strongest password mechanism offered
  kLogin,        // the LOGIN command
  kPlain,        // AUTHENTICATE PLAIN
  kScramSha1,    // AUTHENTICATE SCRAM-SHA-1 (GNU SASL)
  kScramSha256,  // AUTHENTICATE SCRAM-SHA-256 (GNU SASL)
  kXoauth2,      // AUTHENTICATE XOAUTH2; the secret is an OAuth 2.0 token
  kOauthBearer,  // AUTHENTICATE OAUTHBEARER (RFC 7628); the secret is a token
};

// "LOGIN", "PLAIN", "SCRAM-SHA-256", ...
absl::string_view AuthMethodName(AuthMethod method);

struct Greeting {
  wire::StatusWord status = wire::StatusWord::kOk;  // kOk or kPreauth
  std::string text;
};

struct MailboxInfo {
  std::string name;  // UTF-8
  uint32_t exists = 0;
  uint32_t uid_validity = 0;
  uint32_t uid_next = 0;
  uint64_t highest_modseq = 0;  // 0 when the server has no CONDSTORE
  bool read_only = false;
  std::vector<std::string> flags;
};

struct ListEntry {
  std::string name;       // UTF-8 (decoded from modified UTF-7)
  std::string wire_name;  // as the server sent it
  char delimiter = 0;     // 0 when the server has none (NIL)
  std::vector<std::string> attributes;  // e.g. "\HasNoChildren", "\Sent"
};

struct StatusInfo {
  absl::optional<uint32_t> messages, recent, uid_next, uid_validity, unseen;
  absl::optional<uint64_t> highest_modseq, size;
};

// One folder as ListFolders() reports it.
struct FolderStatus {
  ListEntry entry;
  // \Subscribed (LIST-EXTENDED), or named by LSUB.
  bool subscribed = false;
  // False for \Noselect and \NonExistent: no STATUS is asked for it.
  bool selectable = true;
  // The counts, when `error` is OK and the folder is selectable.
  StatusInfo status;
  // Why STATUS failed for this folder alone (e.g. NOT_FOUND: it was
  // deleted after LIST); the other folders are not affected.
  absl::Status error;
};

struct ListFoldersOptions {
  // Use LIST-EXTENDED (RFC 5258) and LIST-STATUS (RFC 5819) when the
  // server offers them; off, plain LIST + LSUB + STATUS (tests use it to
  // run the fallback on servers that have both).
  bool use_extensions = true;
  // STATUS commands sent before their answers are read. Bounded so that
  // neither side's socket buffer fills while the other is not reading.
  int status_window = 64;
};

struct ListFoldersResult {
  // In the order the server listed them.
  std::vector<FolderStatus> folders;
  // The LIST carried the counts (LIST-STATUS).
  bool used_list_status = false;
  // STATUS commands sent (selectable folders LIST-STATUS did not cover).
  int status_commands = 0;
};

struct AppendResult {
  // From APPENDUID (RFC 4315), when the server has UIDPLUS.
  absl::optional<uint32_t> uid_validity;
  absl::optional<uint32_t> uid;
};

struct CopyResult {
  // From COPYUID, when the server has UIDPLUS: source UIDs and the UIDs
  // they got in the destination, in the same order.
  absl::optional<uint32_t> uid_validity;
  wire::UidSet source_uids;
  wire::UidSet destination_uids;
};

// Something that changed in the selected mailbox, told by the server
// without being asked (during any command or IDLE).
struct MailboxEvent {
  enum class Kind { kExists, kExpunge, kFlags };
  Kind kind = Kind::kExists;
  uint32_t number = 0;              // kExists: the new count; else a sequence number
  absl::optional<uint32_t> uid;     // kFlags, when the server included it
  std::vector<std::string> flags;   // kFlags
};

// Not thread-safe: one caller at a time.
class Session {
 public:
  Session(std::unique_ptr<Transport> transport, SessionOptions options);
  ~Session();

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Reads the server's greeting. Errors: UNAVAILABLE if the server says BYE
  // or closes, DEADLINE_EXCEEDED if it says nothing, UNAVAILABLE (kProtocol)
  // if it says something that is not a greeting.
  absl::StatusOr<Greeting> ReadGreeting();

  // Asks for the capabilities (CAPABILITY) and remembers them.
  absl::Status RefreshCapabilities();
  // The capabilities last announced, upper-cased, e.g. "IMAP4REV1",
  // "AUTH=PLAIN". Valid until the next command.
  const std::vector<std::string>& capabilities() const { return capabilities_; }
  bool HasCapability(absl::string_view name) const;

  // Sends STARTTLS and runs the TLS handshake. Forgets the capabilities,
  // as they may differ under TLS (RFC 3501 6.2.1). Errors carry kTls
  // (not offered, refused) or kCertificate.
  absl::Status StartTls(const TlsOptions& options);

  // Logs in with `method`; `secret` is a password, or a token for the
  // OAuth methods. Errors: UNAUTHENTICATED (kAuth) when the server refuses;
  // FAILED_PRECONDITION when the connection is not encrypted and plaintext
  // auth was not allowed, or the server does not offer the method.
  absl::Status Login(absl::string_view user, absl::string_view secret, AuthMethod method);
  // The method the last Login() used (kAuto resolved), kAuto before any.
  AuthMethod auth_method() const { return auth_method_; }

  // ENABLE (RFC 5161): returns the capabilities the server enabled.
  absl::StatusOr<std::vector<std::string>> Enable(const std::vector<std::string>& capabilities);
  bool IsEnabled(absl::string_view capability) const;
  // ID (RFC 2971): sends `fields` (may be empty) and returns the server's.
  absl::StatusOr<std::map<std::string, std::string>> Id(
      const std::map<std::string, std::string>& fields);
  // COMPRESS DEFLATE (RFC 4978): all later traffic is compressed.
  absl::Status Compress();
  bool compressed() const { return compressed_; }

  // LIST (reference, pattern), names in UTF-8.
  absl::StatusOr<std::vector<ListEntry>> List(absl::string_view reference,
                                              absl::string_view pattern);
  // STATUS of a folder that need not be selected.
  absl::StatusOr<StatusInfo> Status(absl::string_view folder);
  // Every folder (LIST "" "*") with its subscription and its counts:
  // MESSAGES UNSEEN UIDNEXT UIDVALIDITY, and SIZE with STATUS=SIZE. Never
  // HIGHESTMODSEQ: asking for it enables CONDSTORE (RFC 7162 3.1), and
  // Dovecot then keeps modification sequences in that folder for good, so
  // looking would change what later readers see. From LIST ... RETURN
  // (SUBSCRIBED SPECIAL-USE STATUS (...)) where the server has LIST-STATUS,
  // else LIST (RETURN (SUBSCRIBED) with LIST-EXTENDED, LSUB without) and
  // one STATUS per selectable folder, pipelined. A STATUS the server
  // refuses is that folder's FolderStatus::error; errors of the call are
  // LIST's and the connection's.
  absl::StatusOr<ListFoldersResult> ListFolders(const ListFoldersOptions& options = {});
  // Opens `folder` (UTF-8) read-only (EXAMINE) or read-write (SELECT).
  // Errors: NOT_FOUND (kNoMailbox) if the server refuses the folder.
  absl::StatusOr<MailboxInfo> Examine(absl::string_view folder);
  absl::StatusOr<MailboxInfo> Select(absl::string_view folder);
  // The mailbox opened last, if any.
  const absl::optional<MailboxInfo>& selected() const { return selected_; }
  // CREATE a folder (UTF-8).
  absl::Status Create(absl::string_view folder);
  // DELETE a folder (UTF-8).
  absl::Status Delete(absl::string_view folder);
  // SUBSCRIBE / UNSUBSCRIBE a folder (UTF-8).
  absl::Status Subscribe(absl::string_view folder, bool subscribe = true);

  // UID SEARCH with `criteria`: search keys as trusted syntax, with user
  // strings added by SearchCriteria so they are quoted safely. Uses ESEARCH
  // when offered and CHARSET UTF-8 only when a string needs it.
  class SearchCriteria;
  absl::StatusOr<wire::UidSet> UidSearch(const SearchCriteria& criteria);

  // Sends one UID FETCH per set in `uid_sets` at once (pipelined) asking
  // for `items` (trusted syntax, e.g. "(UID FLAGS BODY.PEEK[])") and
  // returns the stream of their answers. The session runs no other command
  // until the stream is done or destroyed.
  absl::StatusOr<std::unique_ptr<FetchStream>> UidFetch(const std::vector<wire::UidSet>& uid_sets,
                                                        absl::string_view items);

  // APPEND `message` to `folder`, with flags and an internal date. The
  // message goes out as a literal straight from `message` (no copy).
  absl::StatusOr<AppendResult> Append(absl::string_view folder, absl::string_view message,
                                      const std::vector<std::string>& flags = {},
                                      absl::optional<absl::Time> internal_date = absl::nullopt);

  // UID STORE `uids` `operation` (e.g. "+FLAGS.SILENT") `flags`.
  absl::Status UidStore(const wire::UidSet& uids, absl::string_view operation,
                        const std::vector<std::string>& flags);
  absl::StatusOr<CopyResult> UidCopy(const wire::UidSet& uids, absl::string_view folder);
  // UID MOVE, or COPY + STORE \Deleted + UID EXPUNGE where MOVE is missing
  // (FAILED_PRECONDITION without UIDPLUS: a plain EXPUNGE could remove
  // messages that are not ours).
  absl::StatusOr<CopyResult> UidMove(const wire::UidSet& uids, absl::string_view folder);
  // UID EXPUNGE (UIDPLUS).
  absl::Status UidExpunge(const wire::UidSet& uids);

  // IDLE until the server reports a change or `max_wait` passes, then DONE.
  // Returns the events received (also kept in TakeEvents()).
  absl::StatusOr<std::vector<MailboxEvent>> Idle(absl::Duration max_wait);

  absl::Status Noop();
  // Sends LOGOUT and waits for the server's answer.
  absl::Status Logout();

  // Events queued since the last call, oldest first.
  std::vector<MailboxEvent> TakeEvents();

  // The texts of the [ALERT]s the server sent so far, oldest first (at
  // most the first 16).
  const std::vector<std::string>& alerts() const { return alerts_; }

  Transport& transport() { return *transport_; }

 private:
  friend class FetchStream;
  // Called for each continuation request; returns the bytes to send next.
  using ContinuationHandler =
      std::function<absl::StatusOr<std::string>(const wire::Response& continuation)>;
  // Sees each untagged response first; returns true if it consumed it.
  using UntaggedHandler = std::function<bool(const wire::Response& untagged)>;

  std::string NextTag();
  wire::LiteralMode literal_mode() const;
  absl::Status CheckReady() const;
  // Sends `command` and reads until its tagged response, which it returns
  // whatever its status. Untagged responses go to `on_untagged` and then,
  // unless it consumed them, to HandleUntagged. With no continuation
  // handler, continuation requests release the command's next segment.
  absl::StatusOr<wire::Response> Execute(const wire::Command& command,
                                         ContinuationHandler on_continuation = nullptr,
                                         UntaggedHandler on_untagged = nullptr);
  absl::StatusOr<wire::Response> ExecuteUnobserved(const wire::Command& command,
                                                   ContinuationHandler on_continuation,
                                                   UntaggedHandler on_untagged);
  // Tells options_.on_command about a command that started at `start`.
  void Observe(absl::string_view redacted_command, absl::Time start, bool ok) const;
  // Runs a command without arguments (NOOP, LOGOUT, ...): OK for a tagged
  // OK, else the error, prefixed with the command's name.
  absl::Status RunSimpleCommand(absl::string_view name);
  // Builds, runs and checks a command: the tagged response if OK.
  absl::StatusOr<wire::Response> Run(wire::CommandBuilder& builder, absl::string_view what,
                                     UntaggedHandler on_untagged = nullptr);
  // Reads the next parser event, reading the socket as needed.
  absl::StatusOr<wire::ParserEvent> ReadEvent();
  // Reads the next complete response; streamed literals are skipped.
  absl::StatusOr<wire::Response> ReadResponse();
  // Reads up to `capacity` bytes of the literal streaming now; 0 at its end.
  absl::StatusOr<size_t> ReadStreamedLiteral(char* buf, size_t capacity);
  // Reads more bytes from the server into the parser, waiting at most
  // response_timeout for the first of them and never past the progress
  // deadline (or, while a literal streams, the end of its rate window).
  // With `direct` set, the bytes go there instead (at most `capacity`, and
  // *direct_read says how many): for a literal's bytes, which the caller
  // would otherwise copy out of the parser again.
  absl::Status Fill(char* direct = nullptr, size_t capacity = 0, size_t* direct_read = nullptr);
  // Reads more bytes, waiting until `until` whatever the other bounds say
  // (IDLE, where silence is expected).
  absl::Status FillUntil(absl::Time until, char* direct = nullptr, size_t capacity = 0,
                         size_t* direct_read = nullptr);
  // Restarts the progress bound: the server completed something.
  void MarkProgress();
  // Checks the literal rate window; fails when the literal streamed slower
  // than min_literal_bytes_per_second over a whole window.
  absl::Status CheckLiteralRate();
  void HandleUntagged(const wire::Response& r);
  // Keeps and reports the text of an [ALERT].
  void NoteAlert(const wire::Response& r);
  // OK for a tagged OK; otherwise a status for `what` with the server's
  // code and text, mapped to the most specific canonical code.
  absl::Status TaggedStatus(const wire::Response& r, absl::string_view what) const;
  absl::Time DeadlineAfter(absl::Duration timeout) const;
  void SetCapabilities(const std::vector<wire::Value>& values);
  absl::StatusOr<MailboxInfo> OpenMailbox(absl::string_view verb, absl::string_view folder);
  // A LIST or LSUB response as an entry (the name decoded); extended data
  // after the name (RFC 5258) is ignored.
  absl::StatusOr<ListEntry> ParseListResponse(const wire::Response& r) const;
  // The STATUS items we ask for: "MESSAGES RECENT UIDNEXT UIDVALIDITY
  // UNSEEN", with HIGHESTMODSEQ and SIZE where offered.
  std::string StatusItems() const;
  // Reads the (name value ...) list of a STATUS response into `info`.
  static void ReadStatusItems(const std::vector<wire::Value>& items, StatusInfo* info);
  // Sends STATUS `items` (e.g. "(MESSAGES UNSEEN)") for `folders` (at most
  // `window` at once) and fills their status or error.
  absl::Status PipelinedStatus(const std::vector<FolderStatus*>& folders, absl::string_view items,
                               int window);
  // A folder name (UTF-8) as it goes on the wire.
  absl::StatusOr<std::string> WireMailboxName(absl::string_view folder) const;
  absl::Status Authenticate(absl::string_view mechanism, absl::string_view initial_response,
                            ContinuationHandler on_challenge);
  absl::Status AuthenticateScram(absl::string_view user, absl::string_view password,
                                 absl::string_view mechanism);

  std::unique_ptr<Transport> transport_;
  SessionOptions options_;
  wire::ResponseParser parser_;
  std::vector<std::string> capabilities_;
  std::vector<std::string> enabled_;
  uint64_t next_tag_ = 1;
  // Text of a BYE the server sent, reported if it then closes.
  absl::optional<std::string> bye_text_;
  // Why the connection cannot be used any more (a literal left unread).
  absl::Status broken_;
  // When the server last sent a byte: tells silence from slow progress.
  absl::Time last_byte_time_ = absl::Now();
  // Progress bound of the command running now (see command_timeout).
  absl::Time progress_deadline_ = absl::InfiniteFuture();
  // The rate window of the literal streaming now.
  absl::Time literal_window_start_;
  uint64_t literal_window_bytes_ = 0;
  std::vector<std::string> alerts_;
  // Mailbox data collected while a SELECT/EXAMINE runs.
  MailboxInfo* opening_ = nullptr;
  absl::optional<MailboxInfo> selected_;
  std::vector<MailboxEvent> events_;
  // Set while a FetchStream owns the connection.
  bool busy_ = false;
  bool compressed_ = false;
  AuthMethod auth_method_ = AuthMethod::kAuto;
};

// Search keys for UidSearch, e.g.
//   Session::SearchCriteria c;
//   c.Key("SINCE 1-Jan-2024").Key("SUBJECT").String("Rechnung für");
class Session::SearchCriteria {
 public:
  // Appends trusted search syntax (keys, dates, numbers, parentheses).
  SearchCriteria& Key(absl::string_view syntax);
  // Appends a user string, quoted or sent as a literal by its bytes.
  SearchCriteria& String(absl::string_view value);
  bool empty() const { return parts_.empty(); }

 private:
  friend class Session;
  struct Part {
    bool is_string;
    std::string text;
  };
  std::vector<Part> parts_;
};

// Formats `t` as an IMAP date-time in UTC, e.g. "06-Jan-2024 09:05:07 +0000".
std::string FormatImapDateTime(absl::Time t);

}  // namespace imap

#endif  // IMAP_SESSION_SESSION_H_
