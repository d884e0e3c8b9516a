#include "imap/mime/message_reader.h"

#include <algorithm>
#include <openssl/evp.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "imap/mime/charset.h"
#include "imap/mime/content_type.h"
#include "imap/mime/encoded_words.h"
#include "imap/mime/multipart_parser.h"

namespace imap::mime {
namespace {

// Streaming SHA-256.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(absl::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, digest, &len);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), len));
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Turns CRLF and lone CR into LF across chunk boundaries.
class LineEndNormalizer {
 public:
  void Append(absl::string_view in, std::string* out) {
    // Copies runs without CR at once; only CRs need a decision.
    out->reserve(out->size() + in.size());
    size_t i = 0;
    if (previous_cr_ && !in.empty() && in[0] == '\n') i = 1;  // the CR already became an LF
    previous_cr_ = false;
    while (i < in.size()) {
      const size_t cr = in.find('\r', i);
      if (cr == absl::string_view::npos) {
        out->append(in.data() + i, in.size() - i);
        return;
      }
      out->append(in.data() + i, cr - i);
      out->push_back('\n');
      i = cr + 1;
      if (i == in.size()) {
        previous_cr_ = true;
      } else if (in[i] == '\n') {
        ++i;
      }
    }
  }

 private:
  bool previous_cr_ = false;
};

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

}  // namespace

class MessageReader::Builder : public MultipartHandler {
 public:
  explicit Builder(ReaderOptions options) : options_(options), parser_(this) {}

  void Feed(absl::string_view chunk) {
    record_.size += chunk.size();
    parser_.Feed(chunk);
  }

  MessageRecord Finish() {
    parser_.Finish();
    return std::move(record_);
  }

 private:
  enum class Role { kNone, kTextBody, kHtmlBody, kAttachment, kOther };

  // What we know of an entity while it is open.
  struct Open {
    PartInfo::Kind kind;
    std::string path;
    bool multipart = false;
    bool related = false;           // multipart/related
    std::string related_start;      // its start= parameter (a Content-ID)
    int children = 0;               // body parts begun so far
    bool body_eligible = true;      // may hold the bodies a client shows
    bool inside_enclosed = false;   // within a message/rfc822 part's message
    Role role = Role::kNone;
    // Leaf state.
    std::string charset;
    std::string text;               // text/html body bytes (bounded)
    bool text_cut = false;
    Attachment attachment;
    std::unique_ptr<Sha256> hash, hash_lf;
    LineEndNormalizer lf;
    bool keep = false;
  };

  void OnPartBegin(const PartInfo& part) override {
    Open open;
    open.kind = part.kind;
    open.path = part.path;
    open.multipart = part.IsMultipart();
    open.related = open.multipart && part.content_type.subtype == "related";
    if (const std::string* start = FindParam(part.content_type.params, "start")) {
      open.related_start = StripBrackets(*start);
    }
    Open* parent = stack_.empty() ? nullptr : &stack_.back();
    if (parent != nullptr) {
      if (parent->multipart && part.kind == PartInfo::Kind::kPart) ++parent->children;
      open.inside_enclosed = parent->inside_enclosed ||
                             (part.kind == PartInfo::Kind::kMessage && part.depth > 0);
      open.body_eligible = parent->body_eligible;
      if (parent->related) {
        // Only the root of multipart/related is shown; the rest are its
        // resources (images, style sheets).
        const std::string cid = StripBrackets(FieldValue(part, "Content-ID"));
        const bool root = parent->related_start.empty() ? parent->children == 1
                                                        : cid == parent->related_start;
        open.body_eligible = open.body_eligible && root;
      }
    } else {
      ReadTopHeader(part);
    }

    const bool leaf = !open.multipart && !(part.kind == PartInfo::Kind::kMessage && part.depth > 0);
    // A forwarded message is an attachment; other message/* parts (delivery
    // status, feedback reports, partials) are attachments only when named.
    const bool is_message_part = part.EnclosesMessage() || part.content_type.Is("message", "rfc822") ||
                                 part.content_type.Is("message", "global");
    if (leaf && !open.inside_enclosed && !(part.kind == PartInfo::Kind::kMessage && part.IsMultipart())) {
      // A non-multipart top-level message is its own body.
      const std::string& disposition = part.disposition.type;
      const bool attachment_disposition = disposition == "attachment";
      const absl::optional<std::string> filename =
          PartFileName(part.content_type, part.disposition);
      if (!is_message_part && !attachment_disposition && open.body_eligible &&
          part.content_type.Is("text", "plain") && !text_body_taken_) {
        open.role = Role::kTextBody;
        text_body_taken_ = true;
      } else if (!is_message_part && !attachment_disposition && open.body_eligible &&
                 part.content_type.Is("text", "html") && !html_body_taken_) {
        open.role = Role::kHtmlBody;
        html_body_taken_ = true;
      } else if (attachment_disposition || filename.has_value() || is_message_part) {
        open.role = Role::kAttachment;
        Attachment& a = open.attachment;
        a.filename = filename.value_or("");
        a.content_type = part.content_type.MediaType();
        a.disposition = disposition;
        a.content_id = StripBrackets(FieldValue(part, "Content-ID"));
        a.part = part.path.empty() ? "1" : part.path;
        open.hash = std::make_unique<Sha256>();
        if (part.content_type.type == "text" || part.content_type.type == "message") {
          open.hash_lf = std::make_unique<Sha256>();
        }
        open.keep = options_.keep_attachment_content;
        if (open.keep) a.content.emplace();
      } else {
        open.role = Role::kOther;
      }
      if (const std::string* cs = FindParam(part.content_type.params, "charset")) {
        open.charset = *cs;
      }
    }
    stack_.push_back(std::move(open));
  }

  void OnPartData(const PartInfo& part, absl::string_view data) override {
    // A message/rfc822 part's data (the enclosed message) arrives while the
    // enclosed message itself is open: find the entity the data is for.
    Open* found = nullptr;
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      if (it->kind == part.kind && it->path == part.path) {
        found = &*it;
        break;
      }
    }
    if (found == nullptr) return;
    Open& open = *found;
    switch (open.role) {
      case Role::kTextBody:
      case Role::kHtmlBody: {
        const uint64_t room = options_.max_body_bytes - std::min<uint64_t>(open.text.size(), options_.max_body_bytes);
        if (data.size() > room) {
          if (!open.text_cut) {
            record_.defects.push_back({absl::StrCat("part ", open.path.empty() ? "1" : open.path),
                                       absl::StrCat("body longer than ", options_.max_body_bytes,
                                                    " bytes; the rest is left out")});
          }
          open.text_cut = true;
          data = data.substr(0, static_cast<size_t>(room));
        }
        open.text.append(data.data(), data.size());
        break;
      }
      case Role::kAttachment: {
        Attachment& a = open.attachment;
        a.size += data.size();
        open.hash->Update(data);
        if (open.hash_lf != nullptr) {
          std::string normalized;
          open.lf.Append(data, &normalized);
          open.hash_lf->Update(normalized);
        }
        if (open.keep && a.content.has_value()) {
          if (a.size > options_.max_kept_attachment_bytes) {
            a.content.reset();
            record_.defects.push_back({absl::StrCat("part ", a.part),
                                       absl::StrCat("attachment larger than ",
                                                    options_.max_kept_attachment_bytes,
                                                    " bytes; its content is not kept")});
          } else {
            a.content->append(data.data(), data.size());
          }
        }
        break;
      }
      default:
        break;
    }
  }

  void OnPartEnd(const PartInfo& part) override {
    if (stack_.empty()) return;
    Open open = std::move(stack_.back());
    stack_.pop_back();
    const std::string where = absl::StrCat("part ", open.path.empty() ? "1" : open.path);
    switch (open.role) {
      case Role::kTextBody:
        record_.text_body = DecodeBody(open, where);
        break;
      case Role::kHtmlBody:
        record_.html_body = DecodeBody(open, where);
        break;
      case Role::kAttachment:
        open.attachment.sha256 = open.hash->HexDigest();
        if (open.hash_lf != nullptr) open.attachment.sha256_lf = open.hash_lf->HexDigest();
        record_.attachments.push_back(std::move(open.attachment));
        break;
      case Role::kOther:
        record_.other_parts.push_back({part.content_type.MediaType(), where.substr(5), part.decoded_size});
        break;
      case Role::kNone:
        break;
    }
  }

  void OnDefect(const Defect& defect) override { record_.defects.push_back(defect); }

  std::string DecodeBody(const Open& open, absl::string_view where) {
    return DecodeText(open.text, open.charset, &record_.defects, where);
  }

  static std::string FieldValue(const PartInfo& part, absl::string_view name) {
    for (const PartInfo::Field& f : part.fields) {
      if (absl::EqualsIgnoreCase(f.name, name)) return f.value;
    }
    return "";
  }

  static std::string StripBrackets(absl::string_view s) {
    s = absl::StripAsciiWhitespace(s);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return std::string(s);
  }

  void ReadTopHeader(const PartInfo& part) {
    Defects* defects = &record_.defects;
    bool have_subject = false;
    bool have_date = false;
    bool have_message_id = false;
    for (const PartInfo::Field& f : part.fields) {
      const std::string name = absl::AsciiStrToLower(f.name);
      const std::string where = absl::StrCat("header ", f.name);
      std::vector<Mailbox>* list = nullptr;
      if (name == "from") list = &record_.from;
      if (name == "sender") list = &record_.sender;
      if (name == "reply-to") list = &record_.reply_to;
      if (name == "to") list = &record_.to;
      if (name == "cc") list = &record_.cc;
      if (name == "bcc") list = &record_.bcc;
      if (list != nullptr) {
        std::vector<Mailbox> parsed = ParseAddressList(f.value, defects, where);
        list->insert(list->end(), parsed.begin(), parsed.end());
      } else if (name == "subject" && !have_subject) {
        have_subject = true;
        record_.subject = DecodeHeaderText(f.value, defects, where);
        if (options_.keep_header_list) {
          record_.headers.push_back({f.name, record_.subject});
          continue;
        }
      } else if (name == "date" && !have_date) {
        have_date = true;
        record_.date = ParseDate(f.value, defects);
      } else if (name == "message-id" && !have_message_id) {
        have_message_id = true;
        record_.message_id = Trim(f.value);
      } else if (name == "in-reply-to" && record_.in_reply_to.empty()) {
        record_.in_reply_to = Trim(f.value);
      } else if (name == "references") {
        for (absl::string_view id : absl::StrSplit(f.value, absl::ByAnyChar(" \t\r\n,"), absl::SkipEmpty())) {
          record_.references.push_back(std::string(id));
        }
      }
      if (options_.keep_header_list) {
        record_.headers.push_back({f.name, DecodeHeaderText(f.value, nullptr, where)});
      }
    }
  }

  ReaderOptions options_;
  MultipartParser parser_;
  MessageRecord record_;
  std::vector<Open> stack_;
  bool text_body_taken_ = false;
  bool html_body_taken_ = false;
};

MessageReader::MessageReader(ReaderOptions options)
    : builder_(std::make_unique<Builder>(options)) {}

MessageReader::~MessageReader() = default;

void MessageReader::Feed(absl::string_view chunk) { builder_->Feed(chunk); }

MessageRecord MessageReader::Finish() { return builder_->Finish(); }

MessageRecord ReadMessage(absl::string_view message, ReaderOptions options) {
  MessageReader reader(options);
  reader.Feed(message);
  return reader.Finish();
}

std::string DecodeText(absl::string_view bytes, absl::string_view charset, Defects* defects,
                       absl::string_view where) {
  std::string utf8;
  if (charset.empty()) {
    // No charset (RFC 2045 says US-ASCII): 8-bit bytes get the usual guess.
    const bool ascii = std::all_of(bytes.begin(), bytes.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    utf8 = ascii ? std::string(bytes) : GuessToUtf8(bytes);
  } else {
    // Even 7-bit text needs its charset: ISO-2022-JP is written in ASCII bytes.
    absl::StatusOr<std::string> converted = ToUtf8(bytes, charset, defects, where);
    if (converted.ok()) {
      utf8 = *std::move(converted);
    } else {
      if (defects != nullptr) {
        defects->push_back({std::string(where), absl::StrCat("unknown charset '", charset,
                                                             "'; the text was guessed")});
      }
      utf8 = GuessToUtf8(bytes);
    }
  }
  std::string out;
  LineEndNormalizer lf;
  lf.Append(utf8, &out);
  return out;
}

}  // namespace imap::mime
