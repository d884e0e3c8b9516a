// Content-Type, Content-Disposition and Content-Transfer-Encoding values
// (RFC 2045, 2046, 2183, 2231), read the way real mail writes them: broken
// types are repaired, parameters are unquoted, RFC 2231 continuations and
// RFC 2047 encoded words in parameter values are decoded to UTF-8.
//
//   Defects d;
//   ContentType ct = ParseContentType(
//       "multipart/mixed; boundary=\"=_x\"", &d, "part 1 header");
//   ct.MediaType();              // "multipart/mixed"
//   *ct.Param("boundary");       // "=_x"
#ifndef IMAP_MIME_CONTENT_TYPE_H_
#define IMAP_MIME_CONTENT_TYPE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// Parameters of a Content-Type or Content-Disposition value, in the order
// they first appear. Names are lower-case and unique (the first of
// duplicates wins); RFC 2231 continuations are joined under their base name
// ("filename*0*" and "filename*1" become "filename"). Values are UTF-8,
// except "boundary", which is kept byte for byte.
using MimeParams = std::vector<std::pair<std::string, std::string>>;

// Returns the value of parameter `name` (ASCII case-insensitive), or nullptr.
// The pointer is valid while `params` is alive and unchanged.
const std::string* FindParam(const MimeParams& params, absl::string_view name);

// A parsed Content-Type. Default-constructed, it is the RFC 2045 default
// "text/plain" (with no parameters; the charset default is the reader's).
struct ContentType {
  std::string type = "text";      // lower-case, never empty
  std::string subtype = "plain";  // lower-case, never empty
  MimeParams params;

  // Returns "type/subtype".
  std::string MediaType() const { return type + "/" + subtype; }
  // Returns the parameter's value or nullptr; see FindParam().
  const std::string* Param(absl::string_view name) const { return FindParam(params, name); }
  // True if the type is `type` and the subtype `subtype` (both lower-case).
  bool Is(absl::string_view t, absl::string_view s) const { return type == t && subtype == s; }
};

// A parsed Content-Disposition.
struct ContentDisposition {
  // Lower-case disposition type ("inline", "attachment", or anything else
  // the sender wrote; RFC 2183 says to treat unknown types as attachment).
  // Empty when there was no header or it named no type.
  std::string type;
  MimeParams params;

  // Returns the parameter's value or nullptr; see FindParam().
  const std::string* Param(absl::string_view name) const { return FindParam(params, name); }
};

// Parses a Content-Type value (the text after the colon, unfolded or not).
// Never fails: a missing or broken type becomes text/plain (parameters that
// can be read are kept), "text" alone becomes text/plain and "multipart"
// alone multipart/mixed, each with a defect appended to `defects` (which may
// be null) under `where`. Tolerates comments, a missing ";" before
// parameters, empty parameters (";;", a trailing ";"), unquoted values with
// spaces, duplicate parameters (first wins) and out-of-order RFC 2231
// segments. Thread-safe.
ContentType ParseContentType(absl::string_view value, Defects* defects, absl::string_view where);

// Parses a Content-Disposition value like ParseContentType(). A value that
// starts with a parameter ("filename=a.txt") gets an empty type and a defect.
ContentDisposition ParseContentDisposition(absl::string_view value, Defects* defects,
                                           absl::string_view where);

// Returns the file name a part declares: the Content-Disposition "filename"
// parameter, else the Content-Type "name" parameter (both already RFC 2231
// and RFC 2047 decoded, UTF-8), without surrounding white space; nullopt if
// there is neither. The name may be empty or hold path separators as the
// sender wrote it; sanitising it is the caller's job.
absl::optional<std::string> PartFileName(const ContentType& type,
                                         const ContentDisposition& disposition);

// The transfer encodings of RFC 2045 section 6, and uuencode, which is no
// standard but which mailers still send as "x-uuencode" (also "x-uue",
// "uuencode", "x-uuencoded").
enum class TransferEncoding { k7Bit, k8Bit, kBinary, kBase64, kQuotedPrintable, kUuencode };

// Returns the canonical lower-case name ("7bit", "quoted-printable",
// "x-uuencode", ...).
absl::string_view TransferEncodingName(TransferEncoding encoding);

// Parses a Content-Transfer-Encoding value, case-insensitively. Tolerates
// what mailers write instead ("7-bit", "8bits", "quoted printable", quotes,
// comments, a trailing ";"); those get a defect. The uuencode names are
// read as kUuencode without a defect. Empty, "plain", a media type and
// unknown encodings ("x-foo") are read as 7bit with a defect, so the body is
// passed through unchanged. Thread-safe.
TransferEncoding ParseTransferEncoding(absl::string_view value, Defects* defects,
                                       absl::string_view where);

}  // namespace imap::mime

#endif  // IMAP_MIME_CONTENT_TYPE_H_
