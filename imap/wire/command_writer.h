// Builds IMAP commands from arguments, choosing for each user-supplied
// string an atom, a quoted string or a literal from its bytes, so that no
// user string can end a command early or inject another one.
//
//   CommandBuilder b("A7", "LOGIN", LiteralMode::kSynchronizing);
//   b.AString(user).Secret(password);
//   absl::StatusOr<Command> cmd = b.Build();
//   // send cmd->segments[0]; for each further segment wait for "+" first.
#ifndef IMAP_WIRE_COMMAND_WRITER_H_
#define IMAP_WIRE_COMMAND_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace imap::wire {

// How literals may be sent, from the server's capabilities.
enum class LiteralMode {
  kSynchronizing,  // "{N}": wait for a continuation request (RFC 3501)
  kLiteralPlus,    // "{N+}": send at once, any size (LITERAL+, RFC 7888)
  kLiteralMinus,   // "{N+}" up to 4096 bytes, "{N}" beyond (LITERAL-)
};

struct Command {
  std::string tag;
  // The bytes to send. Before every segment after the first the client must
  // wait for the server's continuation request ("+ ..."). The last segment
  // ends with CRLF.
  std::vector<std::string> segments;
  // The command for logs, with secrets replaced by "<redacted>".
  std::string redacted;
};

// Not thread-safe; build one command per builder.
class CommandBuilder {
 public:
  CommandBuilder(std::string tag, absl::string_view name, LiteralMode mode);

  // Appends trusted protocol syntax as is, e.g. "(MESSAGES UIDNEXT)".
  // REQUIRES: `syntax` comes from our code, never from a user.
  CommandBuilder& Raw(absl::string_view syntax);
  // The next argument follows without a space (after "(", before ")").
  CommandBuilder& Glue();
  // Appends an astring: an atom if the bytes allow, else a quoted string,
  // else a literal.
  CommandBuilder& AString(absl::string_view bytes);
  // Appends a string: quoted if the bytes allow, else a literal.
  CommandBuilder& String(absl::string_view bytes);
  // Like String, but shown as <redacted> in Command::redacted.
  CommandBuilder& Secret(absl::string_view bytes);

  // Returns the command, or INVALID_ARGUMENT if an argument contains a NUL
  // byte (which IMAP cannot carry in a string).
  absl::StatusOr<Command> Build();

 private:
  void AppendString(absl::string_view bytes, bool allow_atom, bool secret);

  // Appends the space before an argument, unless Glue() asked not to.
  void Separate();

  Command command_;
  LiteralMode mode_;
  bool glue_ = false;
  std::string current_;
  absl::Status status_;
};

// True if `bytes` can be sent as an IMAP atom.
bool IsAtom(absl::string_view bytes);
// True if `bytes` can be sent as a quoted string (7-bit, no CR, LF or NUL).
bool IsQuotable(absl::string_view bytes);
// `bytes` as a quoted string, with '"' and '\' escaped.
// REQUIRES: IsQuotable(bytes).
std::string Quote(absl::string_view bytes);
// True if `flag` can be sent as a flag: a keyword atom or "\" + atom.
bool IsFlag(absl::string_view flag);

}  // namespace imap::wire

#endif  // IMAP_WIRE_COMMAND_WRITER_H_
