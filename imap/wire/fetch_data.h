// Typed FETCH data: UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ, ENVELOPE,
// BODYSTRUCTURE, body sections and Gmail's X-GM-LABELS, X-GM-MSGID and
// X-GM-THRID, read from an untagged FETCH response as
// ResponseParser returns it. Strings keep the server's raw bytes (no RFC 2047
// decoding: that is the MIME engine's job). The types are plain values; the
// functions do no I/O, keep no state and are thread-safe.
//
//   absl::StatusOr<FetchAttributes> f = ParseFetch(response);  // "* 3 FETCH (...)"
//   if (f.ok() && f->body_structure) {
//     for (const PartRef& p : LeafParts(*f->body_structure)) Use(p.section, *p.part);
//   }
#ifndef IMAP_WIRE_FETCH_DATA_H_
#define IMAP_WIRE_FETCH_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/wire/response.h"

namespace imap::wire {

// One address of an ENVELOPE address list (RFC 3501 section 7.4.2), raw
// bytes as the server sent them; NIL fields are "".
//
// RFC 5322 groups ("Team: a@x, b@y;") arrive as a start marker, the
// members and an end marker; here the markers are folded away and every
// member carries the group's name in `group`. A group without members
// ("undisclosed-recipients:;") is kept as one placeholder Address whose
// `group` is set and whose other fields are all empty (IsEmptyGroup()).
struct Address {
  std::string name;     // display name (phrase), e.g. "=?utf-8?q?J=C3=B6rg?="
  std::string adl;      // source route (obsolete), usually ""
  std::string mailbox;  // local part, e.g. "alice"
  std::string host;     // domain, e.g. "example.com"
  // The name of the group this address is a member of; nullopt outside
  // groups.
  absl::optional<std::string> group;

  // Returns "mailbox@host", or just `mailbox` when `host` is empty.
  std::string Email() const;
  // True for the placeholder that stands for a group without members.
  bool IsEmptyGroup() const {
    return group.has_value() && name.empty() && adl.empty() && mailbox.empty() && host.empty();
  }
};

// The ENVELOPE of a message: header fields as the server parsed them. The
// optional fields are nullopt for NIL (header absent) and "" for a header
// that is present but empty; an address list that is NIL is empty.
struct Envelope {
  absl::optional<std::string> date;  // the raw Date: header
  absl::optional<std::string> subject;
  std::vector<Address> from;
  std::vector<Address> sender;
  std::vector<Address> reply_to;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::vector<Address> bcc;
  absl::optional<std::string> in_reply_to;
  absl::optional<std::string> message_id;
};

// One MIME parameter ("charset" = "utf-8"), raw bytes, in the server's order
// and case.
struct BodyParam {
  std::string name;
  std::string value;
};

// A Content-Disposition from BODYSTRUCTURE extension data.
struct ContentDisposition {
  std::string type;  // lower-cased, e.g. "attachment", "inline"
  std::vector<BodyParam> params;
};

// One node of a BODYSTRUCTURE (or of the shorter BODY form, which lacks the
// extension data). A multipart node has children and no single-part fields;
// a message/rfc822 (or message/global) node carries the encapsulated
// message's envelope and, as its one child, that message's body.
struct BodyStructure {
  std::string type;     // lower-cased media type: "text", "multipart", ...
  std::string subtype;  // lower-cased subtype: "plain", "mixed", ...
  // Content-Type parameters. For multipart nodes these come from extension
  // data (BODYSTRUCTURE only) and hold the boundary.
  std::vector<BodyParam> params;

  // Single parts only.
  absl::optional<std::string> id;           // Content-ID, nullopt for NIL
  absl::optional<std::string> description;  // Content-Description
  std::string encoding;                     // lower-cased transfer encoding, "" for NIL
  uint64_t size = 0;                        // body size in octets, as encoded
  absl::optional<uint64_t> lines;           // text/* and message/rfc822 only
  absl::optional<Envelope> envelope;        // message/rfc822 and message/global only

  // For multipart: the parts, in order (a few servers send a multipart with
  // none). For a message with `envelope`: exactly one, the encapsulated
  // message's body. Otherwise empty.
  std::vector<BodyStructure> children;

  // Extension data, present only in BODYSTRUCTURE and only as far as the
  // server sent it.
  absl::optional<std::string> md5;  // single parts only
  absl::optional<ContentDisposition> disposition;
  std::vector<std::string> language;  // empty for NIL
  absl::optional<std::string> location;
  // Extension values after the location, kept as sent.
  std::vector<Value> extensions;

  // True for multipart/* nodes.
  bool IsMultipart() const { return type == "multipart"; }
  // True for an encapsulated message (message/rfc822 or message/global)
  // that came with its envelope and body.
  bool IsMessage() const { return envelope.has_value() && children.size() == 1; }
  // Returns the encapsulated message's body, or null if !IsMessage(). The
  // pointer is valid as long as this node is neither changed nor destroyed.
  const BodyStructure* MessageBody() const { return IsMessage() ? &children[0] : nullptr; }
  // Returns the value of the first Content-Type parameter named `name`
  // (ASCII case-insensitive), or nullopt.
  absl::optional<std::string> Param(absl::string_view name) const;
};

// A part of a body structure and the section number that addresses it in
// BODY[...] and BINARY[...], e.g. "2.1".
struct PartRef {
  std::string section;
  // Points into the tree passed to the function that returned this; valid
  // while that tree is neither changed nor destroyed.
  const BodyStructure* part = nullptr;
};

// Returns the part that section number `section` ("1", "1.2", "2.1.3")
// addresses in the message whose body is `root`, following RFC 3501
// section 6.4.5: a non-multipart message has only part 1 (the body itself),
// a multipart's parts are numbered from 1, and the parts of a message/rfc822
// part N are N.1, N.2, ... (or just N.1, its body, if that is not
// multipart). The pointer points into `root` and is valid while `root` is
// neither changed nor destroyed. Errors: INVALID_ARGUMENT if `section` is
// not dot-separated numbers >= 1, NOT_FOUND if no such part exists.
// Thread-safe (reads only).
absl::StatusOr<const BodyStructure*> FindPart(const BodyStructure& root, absl::string_view section);

// How LeafParts() treats an encapsulated message (message/rfc822).
enum class NestedMessages {
  kDescend,  // list the leaf parts inside it instead of the message itself
  kAsLeaf,   // list the message part itself (a forwarded mail as attachment)
};

// Returns every non-multipart part of the message whose body is `root`, in
// order, each with its section number as FindPart() reads it. Pointers
// point into `root` and are valid while `root` is neither changed nor
// destroyed. Does not recurse, so any depth is safe. Thread-safe.
std::vector<PartRef> LeafParts(const BodyStructure& root,
                               NestedMessages nested = NestedMessages::kDescend);

// A body section of a FETCH response: BODY[...], BINARY[...], RFC822,
// RFC822.HEADER or RFC822.TEXT.
struct BodySection {
  // The item name as the server sent it, e.g. "BODY[1.2]<0>" or "RFC822".
  std::string item;
  // The section as NormalizeSectionKey() writes it: "" for BODY[] and RFC822,
  // "HEADER" for RFC822.HEADER, "TEXT" for RFC822.TEXT, otherwise what was
  // between the brackets, e.g. "HEADER.FIELDS (SUBJECT)", "1.2".
  std::string section;
  // True for BINARY[...] (content-transfer-decoded by the server).
  bool binary = false;
  // The <origin> of a partial fetch, e.g. 0 for "BODY[1.2]<0>".
  absl::optional<uint64_t> origin;
  // The bytes; nullopt when the server sent NIL.
  absl::optional<std::string> data;
};

// A BINARY.SIZE[section] item (RFC 3516): the decoded size of a part.
struct BinarySize {
  std::string section;  // normalised like BodySection::section
  uint64_t size = 0;
};

// The items of one untagged FETCH response. Items the response did not
// carry are nullopt or empty.
struct FetchAttributes {
  uint32_t seq = 0;  // the message sequence number
  absl::optional<uint32_t> uid;
  absl::optional<std::vector<std::string>> flags;  // e.g. "\Seen", "$Custom"
  absl::optional<absl::Time> internal_date;
  absl::optional<uint64_t> rfc822_size;
  absl::optional<uint64_t> modseq;  // CONDSTORE (RFC 7162)
  absl::optional<Envelope> envelope;
  // From BODYSTRUCTURE, or from BODY (then without extension data).
  absl::optional<BodyStructure> body_structure;
  std::vector<BodySection> sections;
  std::vector<BinarySize> binary_sizes;
  // Gmail's extension (X-GM-EXT-1). Labels are astrings as sent, unescaped
  // but not decoded: system labels keep their backslash ("\Inbox",
  // "\Important"), non-ASCII names are modified UTF-7 like folder names.
  absl::optional<std::vector<std::string>> gmail_labels;
  absl::optional<uint64_t> gmail_msgid;   // X-GM-MSGID, unique in the account
  absl::optional<uint64_t> gmail_thrid;   // X-GM-THRID, the conversation

  // Returns the first section whose key matches `section` once both are
  // normalised (so "header.fields (Subject)" finds what the server echoed
  // as "HEADER.FIELDS (SUBJECT)"), BINARY[...] sections if `binary`; null
  // if there is none. Valid while this object is neither changed nor
  // destroyed.
  const BodySection* FindSection(absl::string_view section, bool binary = false) const;
};

// How deeply body parts may nest (multiparts in multiparts, messages in
// messages) before ParseBodyStructure() refuses the structure.
inline constexpr int kMaxBodyDepth = 100;

// Returns the typed items of an untagged FETCH response ("* 12 FETCH
// (...)": `r.number` is the sequence number and `r.values[0]` the list of
// item names and values). Item names are case-insensitive; items we do not
// know are skipped. Errors: UNAVAILABLE with ErrorKind kProtocol naming the
// message, the item and what was wrong with it; INVALID_ARGUMENT if `r` is
// not an untagged FETCH response at all. Any input is safe: nothing is
// indexed unchecked and recursion is bounded by kMaxBodyDepth.
absl::StatusOr<FetchAttributes> ParseFetch(const Response& r);
// As above, but moves body section bytes out of `r` instead of copying
// them; `r` is left valid but unspecified.
absl::StatusOr<FetchAttributes> ParseFetch(Response&& r);

// Returns the ENVELOPE value `v` as an Envelope. Errors: UNAVAILABLE with
// ErrorKind kProtocol naming the field that is malformed.
absl::StatusOr<Envelope> ParseEnvelope(const Value& v);

// Returns the BODYSTRUCTURE (or BODY) value `v` as a BodyStructure. Errors:
// UNAVAILABLE with ErrorKind kProtocol naming the part and the field that is
// malformed, including nesting deeper than kMaxBodyDepth.
absl::StatusOr<BodyStructure> ParseBodyStructure(const Value& v);

// Returns the instant an INTERNALDATE ("17-Jul-1996 02:44:25 -0700")
// names. The day may be zero-padded, space-padded (" 6-Jan-2024 ...") or a
// single digit; the month is case-insensitive. Errors: UNAVAILABLE with
// ErrorKind kProtocol saying what is wrong with `text`.
absl::StatusOr<absl::Time> ParseInternalDate(absl::string_view text);

// Returns the canonical key of a section spec, the text between the
// brackets of BODY[...]: ASCII upper case, runs of white space as one space,
// none just inside parentheses. "header.fields ( Subject  From)" ->
// "HEADER.FIELDS (SUBJECT FROM)".
std::string NormalizeSectionKey(absl::string_view section);

}  // namespace imap::wire

#endif  // IMAP_WIRE_FETCH_DATA_H_
