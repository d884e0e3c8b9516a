// Address fields (From, To, Cc, Bcc, Reply-To, Sender; RFC 5322 3.4) to
// mailboxes, tolerant of what real mail contains: groups, comments,
// obsolete routes, RFC 2047 names, RFC 6532 UTF-8, and broken input
// (missing '>', '@' in unquoted names, bare addresses separated by spaces,
// stray commas...). What was repaired is reported as a defect.
//
//   Defects defects;
//   std::vector<Mailbox> to = ParseAddressList(
//       "=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>, A Group: joe@x.test;",
//       &defects, "header To");
//   // {"André Pirard", "PIRARD@vm1.ulg.ac.be", ""}, {"", "joe@x.test", "A Group"}
#ifndef IMAP_MIME_ADDRESS_H_
#define IMAP_MIME_ADDRESS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "imap/mime/defect.h"

namespace imap::mime {

struct Mailbox {
  // Display name, decoded to UTF-8 (encoded words, quoted strings); empty
  // if none. With no display name, a comment next to the address supplies
  // it ("jdoe@example.org (John Doe)"), as mail clients show it.
  std::string name;
  // The addr-spec "local@domain", without comments, whitespace or route;
  // UTF-8 (RFC 6532). A local part that was quoted keeps its quotes only
  // if it needs them ("\"Big Bug\"@bug.com", but "john.doe@x" for
  // "\"john.doe\"@x"). Broken addresses are kept as written
  // ("a@b@c.example"), and a lone word without '@' ("MAILER-DAEMON") is
  // kept as a local part: both with a defect.
  std::string address;
  // The group's name (decoded) if the mailbox was listed inside a group
  // ("A Group: a@x.test, b@x.test;"), else empty.
  std::string group;

  bool operator==(const Mailbox& o) const {
    return name == o.name && address == o.address && group == o.group;
  }
};

// Returns the mailboxes of an address list, in order, groups flattened
// (each member names its group; an empty group such as
// "undisclosed-recipients:;" yields nothing). `raw` is the field value,
// folded or unfolded. Entries without any address (a bare display name,
// "<>") are dropped with a defect; an address list hidden inside encoded
// words ("=?utf-8?Q?Name_=3Ca=40b.example=3E?=") is decoded and read.
// Never fails; defects go to `*defects` (if not null) under `where`.
// Runs in time linear in raw.size(). Thread-safe.
std::vector<Mailbox> ParseAddressList(absl::string_view raw, Defects* defects,
                                      absl::string_view where);

// Returns the single mailbox of a one-address field (Sender): the first
// one ParseAddressList() finds, with a defect if there are more; an empty
// Mailbox if there is none. Same guarantees as ParseAddressList().
Mailbox ParseSingle(absl::string_view raw, Defects* defects, absl::string_view where);

}  // namespace imap::mime

#endif  // IMAP_MIME_ADDRESS_H_
