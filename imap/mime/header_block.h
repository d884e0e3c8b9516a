// The header section of a message or body part (RFC 5322 2.2, 3.6): its
// fields in order, each with its raw and its unfolded value. Parsed in one
// go from a string, or incrementally from chunks with HeaderParser.
//
//   Defects defects;
//   HeaderBlock h = HeaderBlock::Parse("Subject: a\r\n b\r\n\r\n", &defects, "headers");
//   h.Get("subject");  // "a b"
//
//   HeaderParser parser;
//   size_t used = parser.Feed(chunk);  // stops after the blank line
//   if (parser.done()) { HeaderBlock h = parser.TakeBlock(); /* body: chunk.substr(used) */ }
#ifndef IMAP_MIME_HEADER_BLOCK_H_
#define IMAP_MIME_HEADER_BLOCK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// One header field.
struct HeaderField {
  // The field name as written ("Content-Type"), without whitespace
  // before the colon.
  std::string name;
  // Everything after the colon up to the field's last line end, exactly as
  // written: folds (CRLF or LF plus whitespace) and leading space included.
  std::string raw_value;
  // raw_value unfolded (RFC 5322 2.2.3: every line break removed, the
  // whitespace after it kept) and trimmed of leading and trailing
  // whitespace. Bytes are not decoded: see DecodeHeaderText().
  std::string value;
};

// The fields of one header section, in order. Copyable and movable; const
// methods may be called from several threads at once.
class HeaderBlock {
 public:
  HeaderBlock() = default;

  // Parses a header section. Reading stops at the first empty line (the
  // end of the section; whatever follows is ignored) or at the end of
  // `section`. Lines may end in CRLF or LF. A line that starts with space
  // or tab continues the field before it (obs-fold: even a line of only
  // whitespace). Repairs, each with a defect: a line without a colon is
  // joined to the field before it, as a fold that lost its whitespace
  // (its line break unfolds to a space); a line with an empty or invalid
  // field name (RFC 5322 ftext: printable ASCII but ':'; whitespace
  // before the colon is tolerated), and lines before the first field
  // that are not fields, are skipped with their continuation lines; a
  // leading UTF-8 byte order mark and an mbox "From " line before the
  // first field are skipped. Never fails; defects go to `*defects` (if
  // not null) under `where`. Linear in section.size(); thread-safe.
  static HeaderBlock Parse(absl::string_view section, Defects* defects, absl::string_view where);

  // Returns the unfolded value of the first field named `name` (ASCII
  // case-insensitive), or nullopt. The view is valid until this block is
  // modified, moved or destroyed.
  absl::optional<absl::string_view> Get(absl::string_view name) const;

  // Returns the unfolded values of all fields named `name` (ASCII
  // case-insensitive), in order; views valid as for Get().
  std::vector<absl::string_view> GetAll(absl::string_view name) const;

  // All fields in the order they appear.
  const std::vector<HeaderField>& fields() const { return fields_; }

  // Appends a field, for blocks built by hand (tests, synthesized parts).
  // `value` is taken as given: the caller unfolds it.
  void Add(HeaderField field) { fields_.push_back(std::move(field)); }

 private:
  std::vector<HeaderField> fields_;
};

// Finds the end of a header section in a stream of chunks and parses it.
// Does no I/O. Not thread-safe; one parser per header section.
class HeaderParser {
 public:
  // Default limit on the size of a header section.
  static constexpr size_t kDefaultMaxBytes = 1 << 20;

  // `max_bytes` bounds the header section, blank line included;
  // `where` names it in defects ("headers", "part 1.2 headers").
  explicit HeaderParser(size_t max_bytes = kDefaultMaxBytes, std::string where = "headers");

  HeaderParser(const HeaderParser&) = delete;
  HeaderParser& operator=(const HeaderParser&) = delete;

  // Takes bytes of the header section and returns how many of `chunk` it
  // consumed: all of them until the section ends, then only up to and
  // including the blank line (CRLF CRLF, LF LF, or a blank first line),
  // after which done() is true and the rest of `chunk` is the body. If
  // the section grows past max_bytes, the parser stops there: it consumes
  // exactly up to the limit, records a defect, keeps the fields read so
  // far (the last one cut short), and reports done() with
  // limit_exceeded(); the caller treats the rest as body or skips it.
  // After done(), Feed() consumes nothing and returns 0.
  size_t Feed(absl::string_view chunk);

  // Ends the input: a section that ended without a blank line (a message
  // with no body) is parsed as it is, with a defect (none if nothing was
  // fed). done() is true after.
  void Finish();

  // True once the header section is complete.
  bool done() const { return done_; }

  // True if the section was cut at max_bytes.
  bool limit_exceeded() const { return limit_exceeded_; }

  // Bytes consumed by all Feed() calls: the size of the header section,
  // blank line included, once done().
  uint64_t consumed() const { return consumed_; }

  // The parsed fields, moved out to the caller. REQUIRES: done(). Later
  // calls return an empty block.
  HeaderBlock TakeBlock();

  // Defects found: the size limit, a missing blank line, and once done()
  // those of HeaderBlock::Parse(). The reference is valid while the
  // parser lives.
  const Defects& defects() const { return defects_; }

 private:
  void Complete();

  size_t max_bytes_;
  std::string where_;
  std::string buffer_;
  uint64_t consumed_ = 0;
  bool done_ = false;
  bool limit_exceeded_ = false;
  // End-of-section scanner state: at the start of a line, and whether
  // that line so far is a lone CR.
  bool at_line_start_ = true;
  bool cr_at_line_start_ = false;
  HeaderBlock block_;
  Defects defects_;
};

}  // namespace imap::mime

#endif  // IMAP_MIME_HEADER_BLOCK_H_
