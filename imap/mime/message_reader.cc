#include "imap/mime/message_reader.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "imap/mime/charset.h"
#include "imap/mime/content_type.h"
#include "imap/mime/encoded_words.h"
#include "imap/mime/line_scan.h"
#include "imap/mime/multipart_parser.h"
#include "imap/mime/transfer_decoder.h"
#include "imap/util/utf8.h"

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
    if (previous_cr_ && !in.empty() && in[0] == '\n') in.remove_prefix(1);  // the CR became it
    previous_cr_ = !in.empty() && in.back() == '\r';
    const size_t old_size = out->size();
    out->append(in.data(), in.size());
    out->resize(old_size + CompactLineEnds(&(*out)[old_size], in.size()));
  }

 private:
  bool previous_cr_ = false;
};

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

// A uuencoded file's name as UTF-8 (the "begin" line has no charset).
std::string FileNameToUtf8(absl::string_view name) {
  return IsValidUtf8(name) ? std::string(name) : GuessToUtf8(name);
}

// Finds uuencoded files ("begin 644 name", data lines, "end") in plain
// text, as mail clients do, and separates them from the text around them.
// A "begin" line counts only when the next line is well-formed data, so
// prose that starts with "begin 644 " stays text. Line by line: it holds at
// most a "begin" line and one line of kMaxLine bytes; longer lines are
// text and pass straight through.
class UuTextSplitter {
 public:
  class Output {
   public:
    virtual ~Output() = default;
    virtual void Text(absl::string_view text) = 0;
    virtual void FileBegin(absl::string_view name) = 0;
    virtual void FileData(absl::string_view bytes, bool bad_characters) = 0;
    // `complete` is false when the file ends without its "end" line.
    virtual void FileEnd(bool complete) = 0;
  };

  void Feed(absl::string_view in, Output* out) {
    while (!in.empty()) {
      if (line_.empty() && !passing_) {
        // At the start of a line. In text, only a line starting with 'b'
        // can begin a file: the text up to the next such line goes out in
        // one piece, without looking at its lines one by one.
        if (state_ == State::kText && in[0] != 'b') {
          const size_t b = FindLineStart(in, 1, 'b');
          const size_t n = b == absl::string_view::npos ? in.size() : b;
          out->Text(in.substr(0, n));
          passing_ = in[n - 1] != '\n';  // the chunk ends inside a line
          in.remove_prefix(n);
          continue;
        }
        // A whole line in this chunk is decided where it lies, uncopied.
        const size_t lf = in.find('\n');
        if (lf != absl::string_view::npos && lf + 1 <= kMaxLine) {
          OnLine(in.substr(0, lf + 1), out);
          in.remove_prefix(lf + 1);
          continue;
        }
      }
      const size_t lf = in.find('\n');
      const size_t n = lf == absl::string_view::npos ? in.size() : lf + 1;
      if (passing_) {
        out->Text(in.substr(0, n));
        in.remove_prefix(n);
        if (lf != absl::string_view::npos) passing_ = false;
        continue;
      }
      if (line_.size() + n > kMaxLine) {
        GiveUpOnLine(out);
        continue;
      }
      line_.append(in.data(), n);
      in.remove_prefix(n);
      if (lf != absl::string_view::npos) {
        OnLine(line_, out);  // which does not touch line_
        line_.clear();
      } else if (state_ == State::kText && !MayStartBeginLine(line_)) {
        GiveUpOnLine(out);
      }
    }
  }

  void Finish(Output* out) {
    if (!line_.empty()) {
      std::string line = std::move(line_);
      line_.clear();
      OnLine(line, out);
    }
    passing_ = false;
    if (state_ == State::kHeldBegin) out->Text(held_);
    if (state_ == State::kFile) out->FileEnd(false);
    held_.clear();
    state_ = State::kText;
  }

 private:
  static constexpr size_t kMaxLine = 1024;

  enum class State {
    kText,       // in text
    kHeldBegin,  // held_ is a "begin" line; the next line decides
    kFile,       // in a file's data lines
  };

  static bool MayStartBeginLine(absl::string_view head) {
    constexpr absl::string_view kBegin = "begin";
    if (head.size() <= kBegin.size()) return kBegin.substr(0, head.size()) == head;
    return absl::StartsWith(head, kBegin) && (head[5] == ' ' || head[5] == '\t');
  }

  static absl::string_view Content(absl::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  // A data line within a file: only alphabet characters, and not more
  // than the length character asks for (one checksum character aside).
  // Fewer are fine: white space lost at the end of the line was zero bits.
  static bool IsDataLine(absl::string_view content, std::string* decoded) {
    if (content.empty()) return true;
    if (uuencode::DecodeLine(content, decoded) != uuencode::LineResult::kDecoded) return false;
    const size_t n = static_cast<size_t>((static_cast<unsigned char>(content[0]) - 0x20) & 0x3f);
    return content.size() - 1 <= (n + 2) / 3 * 4 + 1;
  }

  void OnLine(absl::string_view line, Output* out) {
    const absl::string_view content = Content(line);
    switch (state_) {
      case State::kText:
        if (absl::optional<std::string> name = uuencode::BeginLineFileName(content)) {
          held_ = std::string(line);
          held_name_ = *std::move(name);
          state_ = State::kHeldBegin;
        } else {
          out->Text(line);
        }
        return;
      case State::kHeldBegin:
        if (uuencode::IsWellFormedDataLine(content) || content == "`") {
          out->FileBegin(held_name_);
          held_.clear();
          state_ = State::kFile;
          OnLine(line, out);
        } else {
          out->Text(held_);
          held_.clear();
          state_ = State::kText;
          OnLine(line, out);  // it may begin a file itself
        }
        return;
      case State::kFile: {
        if (uuencode::IsEndLine(content)) {
          out->FileEnd(true);
          state_ = State::kText;
          return;
        }
        decoded_.clear();
        if (IsDataLine(content, &decoded_)) {
          if (!decoded_.empty()) out->FileData(decoded_, false);
          return;
        }
        // A data line damaged by a stray character is still read; any
        // other line means the file was cut short, and text goes on.
        decoded_.clear();
        if (AlmostData(content)) {
          uuencode::DecodeLine(content, &decoded_);
          out->FileData(decoded_, true);
          return;
        }
        out->FileEnd(false);
        state_ = State::kText;
        OnLine(line, out);
        return;
      }
    }
  }

  // A line with at most one character outside the alphabet and exactly as
  // many characters as its length asks for: a damaged data line.
  static bool AlmostData(absl::string_view content) {
    if (content.empty()) return false;
    const auto first = static_cast<unsigned char>(content[0]);
    if (first < 0x20 || first > 0x60) return false;
    const size_t n = static_cast<size_t>((first - 0x20) & 0x3f);
    if (content.size() - 1 != (n + 2) / 3 * 4) return false;
    size_t bad = 0;
    for (char c : content.substr(1)) {
      const auto u = static_cast<unsigned char>(c);
      bad += (u < 0x20 || u > 0x60) ? 1 : 0;
    }
    return bad <= 1;
  }

  // The line being read cannot be a "begin", data or "end" line: what is
  // held becomes text, and so does the rest of the line.
  void GiveUpOnLine(Output* out) {
    if (state_ == State::kHeldBegin) out->Text(held_);
    if (state_ == State::kFile) out->FileEnd(false);
    held_.clear();
    state_ = State::kText;
    out->Text(line_);
    line_.clear();
    passing_ = true;
  }

  State state_ = State::kText;
  std::string line_;       // the line being read (at most kMaxLine bytes)
  bool passing_ = false;   // the rest of this line is text
  std::string held_;       // kHeldBegin: the "begin" line as written
  std::string held_name_;  // kHeldBegin: its file name
  std::string decoded_;    // scratch
};

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

  // An attachment being read: measured and hashed as its bytes arrive.
  struct AttachmentSink {
    Attachment attachment;
    std::unique_ptr<Sha256> hash, hash_lf;
    LineEndNormalizer lf;
    bool keep = false;
  };

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
    AttachmentSink attachment;  // kAttachment
    // Content-Transfer-Encoding x-uuencode without a file name in the
    // header: the name comes from the "begin" line.
    bool name_from_begin_line = false;
    // text/plain parts: uuencoded files in the text, and the one being read.
    std::unique_ptr<UuTextSplitter> uu;
    std::unique_ptr<AttachmentSink> uu_file;
    bool uu_bad_characters = false;  // reported once per part
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
    // A uuencoded part holds a file whatever its type says.
    const bool uuencoded = part.encoding == TransferEncoding::kUuencode;
    if (leaf && !open.inside_enclosed && !(part.kind == PartInfo::Kind::kMessage && part.IsMultipart())) {
      // A non-multipart top-level message is its own body.
      const std::string& disposition = part.disposition.type;
      const bool attachment_disposition = disposition == "attachment";
      const absl::optional<std::string> filename =
          PartFileName(part.content_type, part.disposition);
      const bool shown =
          !is_message_part && !attachment_disposition && !uuencoded && open.body_eligible;
      if (shown && part.content_type.Is("text", "plain") && !text_body_taken_) {
        open.role = Role::kTextBody;
        text_body_taken_ = true;
      } else if (shown && part.content_type.Is("text", "html") && !html_body_taken_) {
        open.role = Role::kHtmlBody;
        html_body_taken_ = true;
      } else if (attachment_disposition || filename.has_value() || is_message_part || uuencoded) {
        open.role = Role::kAttachment;
        open.name_from_begin_line = uuencoded && !filename.has_value();
        StartAttachment(&open.attachment, filename.value_or(""), part.content_type.MediaType(),
                        disposition, StripBrackets(FieldValue(part, "Content-ID")),
                        part.path.empty() ? "1" : part.path,
                        part.content_type.type == "text" || part.content_type.type == "message");
      } else {
        open.role = Role::kOther;
      }
      // Files uuencoded into plain text: the shown body, or another inline
      // text part (whose text is not kept, but whose files are).
      if ((open.role == Role::kTextBody || open.role == Role::kOther) &&
          part.content_type.Is("text", "plain")) {
        open.uu = std::make_unique<UuTextSplitter>();
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
    if (open.uu != nullptr) {
      TextOutput out(this, &open);
      open.uu->Feed(data, &out);
      return;
    }
    switch (open.role) {
      case Role::kTextBody:
      case Role::kHtmlBody:
        AppendText(&open, data);
        break;
      case Role::kAttachment:
        AddAttachmentData(&open.attachment, data);
        break;
      default:
        break;
    }
  }

  // Where the text of a text/plain part goes once uuencoded files are
  // taken out of it.
  class TextOutput final : public UuTextSplitter::Output {
   public:
    TextOutput(Builder* builder, Open* open) : builder_(builder), open_(open) {}
    void Text(absl::string_view text) override {
      if (open_->role == Role::kTextBody) builder_->AppendText(open_, text);
    }
    void FileBegin(absl::string_view name) override {
      open_->uu_file = std::make_unique<AttachmentSink>();
      builder_->StartAttachment(open_->uu_file.get(), FileNameToUtf8(name),
                                "application/octet-stream", "attachment", "", PartNumber(*open_),
                                /*text_like=*/false);
    }
    void FileData(absl::string_view bytes, bool bad_characters) override {
      if (bad_characters && !open_->uu_bad_characters) {
        open_->uu_bad_characters = true;
        builder_->record_.defects.push_back(
            {Where(*open_), "invalid uuencode character read as zero bits"});
      }
      if (open_->uu_file != nullptr) builder_->AddAttachmentData(open_->uu_file.get(), bytes);
    }
    void FileEnd(bool complete) override {
      if (open_->uu_file == nullptr) return;
      if (!complete) {
        builder_->record_.defects.push_back(
            {Where(*open_), "uuencoded file without an 'end' line"});
      }
      builder_->FinishAttachment(open_->uu_file.get());
      open_->uu_file.reset();
    }

   private:
    static std::string Where(const Open& open) {
      return absl::StrCat("part ", PartNumber(open), " body");
    }
    Builder* builder_;
    Open* open_;
  };

  static std::string PartNumber(const Open& open) { return open.path.empty() ? "1" : open.path; }

  void AppendText(Open* open, absl::string_view data) {
    const uint64_t room =
        options_.max_body_bytes - std::min<uint64_t>(open->text.size(), options_.max_body_bytes);
    if (data.size() > room) {
      if (!open->text_cut) {
        record_.defects.push_back({absl::StrCat("part ", PartNumber(*open)),
                                   absl::StrCat("body longer than ", options_.max_body_bytes,
                                                " bytes; the rest is left out")});
      }
      open->text_cut = true;
      data = data.substr(0, static_cast<size_t>(room));
    }
    open->text.append(data.data(), data.size());
  }

  void StartAttachment(AttachmentSink* sink, std::string filename, std::string content_type,
                       std::string disposition, std::string content_id, std::string part,
                       bool text_like) {
    Attachment& a = sink->attachment;
    a.filename = std::move(filename);
    a.content_type = std::move(content_type);
    a.disposition = std::move(disposition);
    a.content_id = std::move(content_id);
    a.part = std::move(part);
    sink->hash = std::make_unique<Sha256>();
    if (text_like) sink->hash_lf = std::make_unique<Sha256>();
    sink->keep = options_.keep_attachment_content;
    if (sink->keep) a.content.emplace();
  }

  void AddAttachmentData(AttachmentSink* sink, absl::string_view data) {
    Attachment& a = sink->attachment;
    a.size += data.size();
    sink->hash->Update(data);
    if (sink->hash_lf != nullptr) {
      lf_scratch_.clear();
      sink->lf.Append(data, &lf_scratch_);
      sink->hash_lf->Update(lf_scratch_);
    }
    if (sink->keep && a.content.has_value()) {
      if (a.size > options_.max_kept_attachment_bytes) {
        a.content.reset();
        record_.defects.push_back(
            {absl::StrCat("part ", a.part),
             absl::StrCat("attachment larger than ", options_.max_kept_attachment_bytes,
                          " bytes; its content is not kept")});
      } else {
        a.content->append(data.data(), data.size());
      }
    }
  }

  void FinishAttachment(AttachmentSink* sink) {
    sink->attachment.sha256 = sink->hash->HexDigest();
    if (sink->hash_lf != nullptr) sink->attachment.sha256_lf = sink->hash_lf->HexDigest();
    record_.attachments.push_back(std::move(sink->attachment));
  }

  void OnPartEnd(const PartInfo& part) override {
    if (stack_.empty()) return;
    Open open = std::move(stack_.back());
    stack_.pop_back();
    const std::string where = absl::StrCat("part ", open.path.empty() ? "1" : open.path);
    if (open.uu != nullptr) {
      TextOutput out(this, &open);
      open.uu->Finish(&out);
    }
    switch (open.role) {
      case Role::kTextBody:
        record_.text_body = DecodeBody(open, where);
        break;
      case Role::kHtmlBody:
        record_.html_body = DecodeBody(open, where);
        break;
      case Role::kAttachment:
        if (open.name_from_begin_line) {
          open.attachment.attachment.filename = FileNameToUtf8(part.encoded_file_name);
        }
        FinishAttachment(&open.attachment);
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
    HeadersPresent& present = record_.present;
    const struct {
      absl::string_view name;
      std::vector<Mailbox>* list;
      bool* present;
    } address_fields[] = {{"from", &record_.from, &present.from},
                          {"sender", &record_.sender, &present.sender},
                          {"reply-to", &record_.reply_to, &present.reply_to},
                          {"to", &record_.to, &present.to},
                          {"cc", &record_.cc, &present.cc},
                          {"bcc", &record_.bcc, &present.bcc}};
    for (const PartInfo::Field& f : part.fields) {
      const std::string name = absl::AsciiStrToLower(f.name);
      const std::string where = absl::StrCat("header ", f.name);
      std::vector<Mailbox>* list = nullptr;
      for (const auto& a : address_fields) {
        if (name == a.name) {
          list = a.list;
          *a.present = true;
        }
      }
      if (list != nullptr) {
        std::vector<Mailbox> parsed = ParseAddressList(f.value, defects, where);
        list->insert(list->end(), parsed.begin(), parsed.end());
      } else if (name == "subject" && !present.subject) {
        present.subject = true;
        record_.subject = DecodeHeaderText(f.value, defects, where);
        if (options_.keep_header_list) {
          record_.headers.push_back({f.name, record_.subject});
          continue;
        }
      } else if (name == "date" && !present.date) {
        present.date = true;
        record_.date = ParseDate(f.value, defects);
      } else if (name == "message-id" && !present.message_id) {
        present.message_id = true;
        record_.message_id = Trim(f.value);
      } else if (name == "in-reply-to" && !present.in_reply_to) {
        present.in_reply_to = true;
        record_.in_reply_to = Trim(f.value);
      } else if (name == "references") {
        present.references = true;
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
  std::string lf_scratch_;  // AddAttachmentData: data with LF line ends, reused
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

std::string TextWithoutUuencodedFiles(absl::string_view text) {
  class Collect final : public UuTextSplitter::Output {
   public:
    void Text(absl::string_view t) override { text.append(t.data(), t.size()); }
    void FileBegin(absl::string_view) override {}
    void FileData(absl::string_view, bool) override {}
    void FileEnd(bool) override {}
    std::string text;
  };
  Collect out;
  UuTextSplitter splitter;
  splitter.Feed(text, &out);
  splitter.Finish(&out);
  return std::move(out.text);
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
  // In place: the text is usually CRLF throughout (as IMAP sends it), and
  // a second copy of it would cost more than moving its bytes forward.
  utf8.resize(CompactLineEnds(&utf8[0], utf8.size()));
  return utf8;
}

}  // namespace imap::mime
