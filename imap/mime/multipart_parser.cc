#include "imap/mime/multipart_parser.h"

#include "imap/mime/header_block.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/mime/line_scan.h"
#include "imap/mime/transfer_decoder.h"

namespace imap::mime {

bool PartInfo::EnclosesMessage() const {
  return !opaque && content_type.type == "message" &&
         (content_type.subtype == "rfc822" || content_type.subtype == "global");
}

std::string PartInfo::BodySection() const {
  if (kind == Kind::kPart) return path;
  const char* tail = IsMultipart() ? "TEXT" : "1";
  return path.empty() ? tail : absl::StrCat(path, ".", tail);
}

std::string PartInfo::Label() const {
  if (kind == Kind::kPart) return absl::StrCat("part ", path);
  return path.empty() ? "message" : absl::StrCat("message in part ", path);
}

namespace {

// White space allowed after a boundary on its line (RFC 2046 allows any
// amount; more than this is not taken for a boundary line).
constexpr size_t kMaxBoundarySpace = 128;
// Longest line head examined to tell a header field from body text.
constexpr size_t kMaxFieldHead = 998;
// Input is cut into slices of this size so that decoded output buffers
// stay small whatever chunk size the caller uses.
constexpr size_t kSlice = 64 * 1024;

// Field-name characters (RFC 5322 2.2: printable US-ASCII except ':').
bool IsNameChar(char c) { return c >= 0x21 && c <= 0x7E && c != ':'; }

// ------------------------------------------------------------ header fields
//
// The fields of a raw header, unfolded, through header_block.h.
void SplitHeader(absl::string_view raw, std::vector<PartInfo::Field>* fields, Defects* defects,
                 absl::string_view where) {
  const HeaderBlock block = HeaderBlock::Parse(raw, defects, where);
  for (const HeaderField& f : block.fields()) fields->push_back({f.name, f.value});
}

const PartInfo::Field* FindField(const std::vector<PartInfo::Field>& fields, absl::string_view name,
                                 bool* duplicate) {
  const PartInfo::Field* found = nullptr;
  *duplicate = false;
  for (const PartInfo::Field& f : fields) {
    if (!absl::EqualsIgnoreCase(f.name, name)) continue;
    if (found != nullptr) {
      *duplicate = true;
      break;
    }
    found = &f;
  }
  return found;
}

}  // namespace

// State shared by the walkers of one message.
struct MultipartParser::Shared {
  MultipartHandler* handler;
  MultipartOptions options;
  size_t defects = 0;

  void Report(Defect d) {
    if (defects < options.max_defects) {
      handler->OnDefect(d);
    } else if (defects == options.max_defects) {
      handler->OnDefect({d.where, "too many defects; the rest are not reported"});
    }
    if (defects <= options.max_defects) ++defects;
  }
};

// Walks one message: the top-level one, or one enclosed in a message/rfc822
// part (then fed that part's decoded body by the outer walker).
class MultipartParser::Walker {
 public:
  Walker(Shared* shared, std::string path, int depth) : shared_(shared) {
    auto e = std::make_unique<Entity>();
    e->info.kind = PartInfo::Kind::kMessage;
    e->info.path = std::move(path);
    e->info.depth = depth;
    e->first_line = true;
    stack_.push_back(std::move(e));
  }

  void Feed(absl::string_view in) {
    while (!in.empty()) {
      absl::string_view slice = in.substr(0, kSlice);
      in.remove_prefix(slice.size());
      Process(slice);
    }
  }

  void Finish() {
    // Settle the last, unterminated line; settling a header line can turn
    // it into body text, hence the loop (it runs at most a few times).
    while (!head_.empty() || !suspect_.empty()) {
      if (top().mode == Mode::kHeader) {
        if (!head_.empty()) {
          ClassifyHead(/*at_eof=*/true);
        } else {
          std::string lines = std::move(suspect_);
          suspect_.clear();
          StartBodyWithoutBlankLine(top(), lines);
        }
      } else {
        std::string line = std::move(head_);
        head_.clear();
        EndBodyCandidate(line, /*at_eof=*/true);
      }
    }
    if (stack_.back()->mode != Mode::kHeader) {
      if (pending_cr_) Emit("\r");
      pending_cr_ = false;
      // Inside a multipart, the end of the input stands for the missing
      // boundary, and the last line end goes with it.
      if (BoundariesOpen()) held_eol_.clear();
      FlushHeld();
    }
    while (!stack_.empty()) {
      EndTop(/*at_eof=*/true);
    }
  }

 private:
  enum class Mode {
    kHeader,    // reading the header
    kLeaf,      // a body that is reported (leaf, message/rfc822, opaque)
    kPreamble,  // a multipart before its first boundary
    kParts,     // a multipart between boundaries (a part is above it)
    kEpilogue,  // a multipart after its close boundary
  };
  enum class Line {
    kStart,  // at the start of a line
    kHead,   // head_ holds the start of a line being classified
    kRest,   // the rest of a line already classified
    kSkip,   // the rest of a line being dropped (an mbox "From " line)
  };
  enum class Head { kMore, kField, kBlank, kNotField, kBoundary, kFromLine, kBom };

  struct Entity {
    PartInfo info;
    Mode mode = Mode::kHeader;
    std::string boundary;  // walked multiparts
    bool digest = false;   // multipart/digest: parts default to message/rfc822
    bool first_line = false;
    std::unique_ptr<TransferDecoder> decoder;
    bool identity = false;          // the decoder copies its input as it is
    size_t decoder_defects = 0;     // decoder defects already reported
    std::unique_ptr<Walker> inner;  // the message of a message/rfc822 part
    Defects pending;                // header defects, reported after OnPartBegin
  };

  const MultipartOptions& options() const { return shared_->options; }
  MultipartHandler* handler() { return shared_->handler; }
  Entity& top() { return *stack_.back(); }

  void Report(const Entity& e, absl::string_view section, std::string what) {
    shared_->Report({absl::StrCat(e.info.Label(), " ", section), std::move(what)});
  }

  // True if some multipart of this walker waits for a boundary line.
  bool BoundariesOpen() const {
    for (const auto& e : stack_) {
      if (e->mode == Mode::kPreamble || e->mode == Mode::kParts) return true;
    }
    return false;
  }

  // The longest line that can still be a boundary line.
  size_t CandidateCap() const {
    size_t longest = 0;
    for (const auto& e : stack_) {
      if (e->mode == Mode::kPreamble || e->mode == Mode::kParts) {
        longest = std::max(longest, e->boundary.size());
      }
    }
    return 2 + longest + 2 + kMaxBoundarySpace + 2;
  }

  // Matches a line (without its line end) against the open boundaries,
  // innermost first. On a match sets *index (into stack_) and *close.
  bool MatchBoundary(absl::string_view line, size_t* index, bool* close) const {
    if (!absl::StartsWith(line, "--")) return false;
    line.remove_prefix(2);
    for (size_t k = stack_.size(); k-- > 0;) {
      const Entity& e = *stack_[k];
      if (e.mode != Mode::kPreamble && e.mode != Mode::kParts) continue;
      if (!absl::StartsWith(line, e.boundary)) continue;
      absl::string_view rest = line.substr(e.boundary.size());
      bool is_close = absl::StartsWith(rest, "--");
      if (is_close) rest.remove_prefix(2);
      bool space = true;
      for (char c : rest) space = space && (c == ' ' || c == '\t');
      if (!space) continue;
      *index = k;
      *close = is_close;
      return true;
    }
    return false;
  }

  void Process(absl::string_view in) {
    size_t i = 0;
    while (i < in.size()) {
      i += top().mode == Mode::kHeader ? HeaderStep(in.substr(i)) : BodyStep(in.substr(i));
    }
  }

  // ---------------------------------------------------------- header phase

  // Consumes some of `in` (REQUIRES: not empty) while reading a header.
  // Returns how many bytes; 0 only after a state change.
  size_t HeaderStep(absl::string_view in) {
    if (line_ == Line::kRest || line_ == Line::kSkip) {
      size_t lf = in.find('\n');
      size_t n = lf == absl::string_view::npos ? in.size() : lf + 1;
      if (line_ == Line::kRest) AppendHeader(in.substr(0, n));
      if (lf != absl::string_view::npos) line_ = Line::kStart;
      return n;
    }
    // The line head grows by the run of field-name characters at once;
    // the first other byte (or reaching the cap) has it classified.
    const size_t cap = HeadCap();
    size_t n = 0;
    bool classify = false;
    while (n < in.size() && !classify) {
      const char c = in[n++];
      classify = c == '\n' || !IsNameChar(c) || head_.size() + n >= cap;
    }
    head_.append(in.data(), n);
    line_ = Line::kHead;
    if (classify) ClassifyHead(/*at_eof=*/false);
    return n;
  }

  size_t HeadCap() const { return std::max(kMaxFieldHead, CandidateCap()); }

  Head Classify(bool at_eof) const {
    absl::string_view h = head_;
    const bool complete = at_eof || h.back() == '\n';
    const bool capped = complete || h.size() >= HeadCap();
    if (h == "\n" || h == "\r\n" || (at_eof && h == "\r")) return Head::kBlank;
    if (h[0] == ' ' || h[0] == '\t') return Head::kField;  // a continuation line
    if (h[0] == '-' && BoundariesOpen() && (h.size() < 2 || h[1] == '-')) {
      if (!capped) return Head::kMore;
      absl::string_view line = h;
      if (absl::EndsWith(line, "\n")) line.remove_suffix(1);
      if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
      size_t index;
      bool close;
      if (complete && MatchBoundary(line, &index, &close)) return Head::kBoundary;
    }
    const Entity& e = *stack_.back();
    if (e.first_line && e.info.kind == PartInfo::Kind::kMessage) {
      constexpr absl::string_view kBom = "\xEF\xBB\xBF";
      if (h == kBom) return Head::kBom;
      if (absl::StartsWith(kBom, h) && !capped) return Head::kMore;
      if (absl::StartsWith(h, "From ")) {
        size_t k = 4;
        while (k < h.size() && (h[k] == ' ' || h[k] == '\t')) ++k;
        if (k == h.size() && !capped) return Head::kMore;
        if (k == h.size() || h[k] != ':') return Head::kFromLine;
      }
    }
    size_t k = 0;
    while (k < h.size() && IsNameChar(h[k])) ++k;
    if (k == 0) return h == "\r" && !capped ? Head::kMore : Head::kNotField;
    while (k < h.size() && (h[k] == ' ' || h[k] == '\t')) ++k;
    if (k == h.size()) return capped ? Head::kNotField : Head::kMore;
    return h[k] == ':' ? Head::kField : Head::kNotField;
  }

  void ClassifyHead(bool at_eof) {
    Entity& e = top();
    const Head kind = Classify(at_eof);
    if (kind == Head::kMore) return;
    if (kind == Head::kNotField && MaySuspect(e, head_) && head_.back() != '\n' && !at_eof &&
        head_.size() < HeadCap()) {
      return;  // the whole line is needed to keep it as a suspect
    }
    if (!suspect_.empty() && (kind == Head::kField || kind == Head::kBlank)) {
      // The line without a colon was followed by more header: it is a
      // folded line that lost its leading white space (seen from Exchange).
      // The header's field parser reports it when it joins it to its field.
      AppendHeader(suspect_);
      suspect_.clear();
    }
    if (kind == Head::kField || kind == Head::kFromLine) {
      // Most lines of a header: used where they lie, so that head_ keeps
      // its buffer for the next line.
      e.first_line = false;
      const bool whole = head_.back() == '\n';
      if (kind == Head::kField) AppendHeader(head_);
      head_.clear();
      line_ = whole ? Line::kStart : kind == Head::kField ? Line::kRest : Line::kSkip;
      return;
    }
    std::string line = std::move(head_);
    head_.clear();
    line_ = Line::kStart;
    const auto where = [&e] { return absl::StrCat(e.info.Label(), " header"); };
    switch (kind) {
      case Head::kMore:
      case Head::kField:
      case Head::kFromLine:
        return;
      case Head::kBom:
        e.pending.push_back({where(), "byte order mark before the header skipped"});
        return;
      case Head::kBlank:
        BeginBody(e);
        return;
      case Head::kBoundary:
        if (suspect_.empty()) {
          e.pending.push_back({where(), "header not ended by a blank line before the boundary"});
          BeginBody(e);
        } else {
          std::string before = std::move(suspect_);
          suspect_.clear();
          StartBodyWithoutBlankLine(e, before);
        }
        EndBodyCandidate(line, at_eof);
        return;
      case Head::kNotField: {
        if (MaySuspect(e, line) && line.back() == '\n') {
          // Decided by the next line: more header, or the body.
          suspect_ = std::move(line);
          return;
        }
        StartBodyWithoutBlankLine(e, suspect_ + line);
        suspect_.clear();
        return;
      }
    }
  }

  // True if `line`, not a header field, may still belong to the header
  // (a folded line that lost its indent): the next line will tell.
  bool MaySuspect(const Entity& e, absl::string_view line) const {
    return suspect_.empty() && !e.info.raw_header.empty() && !absl::StartsWith(line, "--");
  }

  // The header ended at a line that is not a header field: the body
  // starts with `lines`.
  void StartBodyWithoutBlankLine(Entity& e, const std::string& lines) {
    e.pending.push_back({absl::StrCat(e.info.Label(), " header"),
                         "header not ended by a blank line; the body starts at a line "
                         "that is not a header field"});
    line_ = Line::kStart;
    BeginBody(e);
    Process(lines);
  }

  void AppendHeader(absl::string_view bytes) {
    Entity& e = top();
    std::string& raw = e.info.raw_header;
    const size_t room =
        options().max_header_bytes - std::min(options().max_header_bytes, raw.size());
    if (bytes.size() > room) {
      if (!e.info.header_truncated) {
        e.info.header_truncated = true;
        e.pending.push_back({absl::StrCat(e.info.Label(), " header"),
                             absl::StrCat("header longer than ", options().max_header_bytes,
                                          " bytes; the rest is ignored")});
      }
      bytes = bytes.substr(0, room);
    }
    raw.append(bytes.data(), bytes.size());
  }

  // The header is complete: parse it, report the entity, pick its mode.
  void BeginBody(Entity& e) {
    PartInfo& info = e.info;
    const std::string where = absl::StrCat(info.Label(), " header");
    Defects& d = e.pending;
    SplitHeader(info.raw_header, &info.fields, &d, where);
    bool dup = false;
    if (const PartInfo::Field* f = FindField(info.fields, "Content-Type", &dup)) {
      info.content_type = ParseContentType(f->value, &d, where);
      if (dup) d.push_back({where, "several Content-Type fields; the first is used"});
    } else {
      info.content_type_defaulted = true;
      const bool digest = stack_.size() >= 2 && stack_[stack_.size() - 2]->digest &&
                          info.kind == PartInfo::Kind::kPart;
      info.content_type = ContentType();
      if (digest) {
        info.content_type.type = "message";
        info.content_type.subtype = "rfc822";
      }
    }
    if (const PartInfo::Field* f = FindField(info.fields, "Content-Transfer-Encoding", &dup)) {
      info.encoding = ParseTransferEncoding(f->value, &d, where);
      if (dup) d.push_back({where, "several Content-Transfer-Encoding fields; the first is used"});
    }
    if (const PartInfo::Field* f = FindField(info.fields, "Content-Disposition", &dup)) {
      info.disposition = ParseContentDisposition(f->value, &d, where);
      if (dup) d.push_back({where, "several Content-Disposition fields; the first is used"});
    }
    const ContentType& ct = info.content_type;
    const bool identity = info.encoding == TransferEncoding::k7Bit ||
                          info.encoding == TransferEncoding::k8Bit ||
                          info.encoding == TransferEncoding::kBinary;
    TransferEncoding decode_as = info.encoding;
    e.mode = Mode::kLeaf;
    if (ct.type == "multipart") {
      if (!identity) {
        d.push_back({where, absl::StrCat("transfer encoding '", TransferEncodingName(info.encoding),
                                         "' on a multipart ignored")});
        decode_as = TransferEncoding::k7Bit;
      }
      const std::string* b = ct.Param("boundary");
      std::string boundary =
          b == nullptr ? "" : std::string(absl::StripTrailingAsciiWhitespace(*b));
      if (b == nullptr) {
        info.opaque = true;
        d.push_back({where, "multipart without a boundary; its body is not split"});
      } else if (boundary.size() > options().max_boundary_length) {
        info.opaque = true;
        d.push_back({where, absl::StrCat("boundary longer than ", options().max_boundary_length,
                                         " bytes; the multipart is not split")});
      } else if (info.depth >= options().max_depth) {
        info.opaque = true;
        d.push_back({where, absl::StrCat("nesting deeper than ", options().max_depth,
                                         "; the multipart is not split")});
      } else {
        // An empty boundary is invalid (RFC 2046 asks for 1 to 70
        // characters) but unambiguous: the lines "--" and "----".
        if (boundary.empty()) d.push_back({where, "empty boundary"});
        e.mode = Mode::kPreamble;
        e.boundary = std::move(boundary);
        e.digest = ct.subtype == "digest";
      }
    } else if (ct.type == "message" && (ct.subtype == "rfc822" || ct.subtype == "global")) {
      if (info.depth >= options().max_depth) {
        info.opaque = true;
        d.push_back({where, absl::StrCat("nesting deeper than ", options().max_depth,
                                         "; the enclosed message is not walked")});
      } else {
        if (!identity) {
          d.push_back(
              {where, absl::StrCat("transfer encoding '", TransferEncodingName(info.encoding),
                                   "' on a message/", ct.subtype, " part")});
        }
        if (info.kind == PartInfo::Kind::kPart) {
          e.inner = std::make_unique<Walker>(shared_, info.path, info.depth + 1);
        } else {
          // A message whose own type is message/rfc822 (rare): its body
          // is the enclosed message; walk it one level down.
          e.inner = std::make_unique<Walker>(shared_, info.path.empty() ? "1" : info.path + ".1",
                                             info.depth + 1);
        }
      }
    }
    if (e.mode == Mode::kLeaf) {
      e.decoder = TransferDecoder::For(decode_as, absl::StrCat(info.Label(), " body"));
      e.identity = decode_as == TransferEncoding::k7Bit || decode_as == TransferEncoding::k8Bit ||
                   decode_as == TransferEncoding::kBinary;
    }
    handler()->OnPartBegin(info);
    for (Defect& defect : d) shared_->Report(std::move(defect));
    d.clear();
    d.shrink_to_fit();
  }

  // ---------------------------------------------------------- body phase

  // Consumes some of `in` (REQUIRES: not empty) in a body, preamble or
  // epilogue. Returns how many bytes; 0 only after a state change.
  size_t BodyStep(absl::string_view in) {
    if (!BoundariesOpen()) {
      if (pending_cr_) Emit("\r");
      pending_cr_ = false;
      FlushHeld();
      line_ = Line::kRest;
      Emit(in);
      return in.size();
    }
    switch (line_) {
      case Line::kStart:
        if (in[0] == '-') {
          head_.push_back('-');
          line_ = Line::kHead;
          return 1;
        }
        FlushHeld();
        line_ = Line::kRest;
        return 0;
      case Line::kHead: {
        const char c = in[0];
        head_.push_back(c);
        if (c == '\n') {
          std::string line = std::move(head_);
          head_.clear();
          line_ = Line::kStart;
          EndBodyCandidate(line, /*at_eof=*/false);
        } else if ((head_.size() == 2 && c != '-') || head_.size() >= CandidateCap()) {
          // Not a boundary line after all: pass on what was held.
          FlushHeld();
          absl::string_view h = head_;
          pending_cr_ = h.back() == '\r';
          if (pending_cr_) h.remove_suffix(1);
          Emit(h);
          head_.clear();
          line_ = Line::kRest;
        }
        return 1;
      }
      case Line::kRest:
      case Line::kSkip: {
        size_t lf = in.find('\n');
        if (lf == absl::string_view::npos) {
          if (pending_cr_) Emit("\r");
          pending_cr_ = in.back() == '\r';
          Emit(in.substr(0, in.size() - (pending_cr_ ? 1 : 0)));
          return in.size();
        }
        // Take in the following lines too while they cannot be boundary
        // lines, so that a body goes out in large pieces.
        const size_t last = EndOfLinesBeforeDash(in, lf);
        absl::string_view content = in.substr(0, last);
        bool cr;
        if (content.empty()) {
          cr = pending_cr_;
        } else {
          if (pending_cr_) Emit("\r");
          cr = content.back() == '\r';
          if (cr) content.remove_suffix(1);
          Emit(content);
        }
        held_eol_ = cr ? "\r\n" : "\n";
        pending_cr_ = false;
        line_ = Line::kStart;
        return last + 1;
      }
    }
    return 0;
  }

  // The last line end at or after in[lf] (a '\n') that is not followed by a
  // line starting with '-' (which may be a boundary). Searching for line
  // starts with a dash rather than for every line end matters for base64,
  // whose lines are short, and rather than for every dash for text, where
  // most dashes are inside lines.
  static size_t EndOfLinesBeforeDash(absl::string_view in, size_t lf) {
    const size_t dash = FindLineStart(in, lf + 1, '-');
    if (dash != absl::string_view::npos) return dash - 1;  // dash - 1 >= lf
    const void* end = memrchr(in.data() + lf, '\n', in.size() - lf);
    return static_cast<size_t>(static_cast<const char*>(end) - in.data());
  }

  // A whole line that started like a boundary (with its line end, if any).
  void EndBodyCandidate(absl::string_view line, bool at_eof) {
    absl::string_view content = line;
    absl::string_view eol;
    if (absl::EndsWith(content, "\r\n")) {
      eol = "\r\n";
    } else if (absl::EndsWith(content, "\n")) {
      eol = "\n";
    }
    content.remove_suffix(eol.size());
    absl::string_view bare = content;
    if (at_eof && absl::EndsWith(bare, "\r")) bare.remove_suffix(1);
    size_t index;
    bool close;
    if (MatchBoundary(bare, &index, &close)) {
      held_eol_.clear();  // the line end before a boundary belongs to it
      OnBoundary(index, close);
      return;
    }
    FlushHeld();
    Emit(content);
    held_eol_ = std::string(eol);
  }

  void OnBoundary(size_t index, bool close) {
    while (stack_.size() > index + 1) EndTop(/*at_eof=*/false);
    Entity& m = top();
    line_ = Line::kStart;
    pending_cr_ = false;
    if (close) {
      if (m.mode == Mode::kPreamble) {
        Report(m, "body", "close boundary before any part");
      }
      m.mode = Mode::kEpilogue;
      return;
    }
    m.mode = Mode::kParts;
    ++m.info.parts;
    auto child = std::make_unique<Entity>();
    child->info.kind = PartInfo::Kind::kPart;
    child->info.path = m.info.path.empty() ? absl::StrCat(m.info.parts)
                                           : absl::StrCat(m.info.path, ".", m.info.parts);
    child->info.depth = m.info.depth + 1;
    stack_.push_back(std::move(child));
  }

  // Ends the innermost entity.
  void EndTop(bool at_eof) {
    Entity& e = top();
    if (e.mode == Mode::kHeader) {
      head_.clear();
      line_ = Line::kStart;
      BeginBody(e);
    }
    if (e.decoder != nullptr) {
      scratch_.clear();
      e.decoder->Finish(&scratch_);
      Deliver(e, scratch_);
      ReportDecoderDefects(e);
      e.info.encoded_file_name = e.decoder->file_name();
    }
    if (e.inner != nullptr) e.inner->Finish();
    if (e.mode == Mode::kPreamble) {
      Report(e, "body", "no boundary line found; the multipart has no parts");
    } else if (e.mode == Mode::kParts) {
      Report(e, "body",
             at_eof ? "close boundary missing at the end of the input"
                    : "close boundary missing before an outer boundary");
    }
    handler()->OnPartEnd(e.info);
    stack_.pop_back();
  }

  void FlushHeld() {
    if (held_eol_.empty()) return;
    std::string eol = std::move(held_eol_);
    held_eol_.clear();
    Emit(eol);
  }

  // Body bytes of the innermost entity, before transfer decoding.
  void Emit(absl::string_view bytes) {
    if (bytes.empty()) return;
    Entity& e = top();
    switch (e.mode) {
      case Mode::kLeaf:
        if (e.identity) {
          // What the decoder would copy goes out uncopied.
          Deliver(e, bytes);
          return;
        }
        scratch_.clear();
        e.decoder->Feed(bytes, &scratch_);
        Deliver(e, scratch_);
        ReportDecoderDefects(e);
        return;
      case Mode::kPreamble:
        Deliver(e, bytes);
        return;
      case Mode::kHeader:
      case Mode::kParts:
      case Mode::kEpilogue:
        return;
    }
  }

  void Deliver(Entity& e, absl::string_view data) {
    if (data.empty()) return;
    e.info.decoded_size += data.size();
    handler()->OnPartData(e.info, data);
    if (e.inner != nullptr) e.inner->Feed(data);
  }

  void ReportDecoderDefects(Entity& e) {
    const Defects& d = e.decoder->defects();
    while (e.decoder_defects < d.size()) shared_->Report(d[e.decoder_defects++]);
  }

  Shared* shared_;
  std::vector<std::unique_ptr<Entity>> stack_;  // never empty until Finish()
  Line line_ = Line::kStart;
  std::string head_;         // the start of a line being classified
  std::string suspect_;      // a header line without ':' whose fate the next line decides
  std::string held_eol_;     // the last body line's end, held until the next line is no boundary
  bool pending_cr_ = false;  // a CR at a chunk's end that may start a CRLF
  std::string scratch_;      // decoded output, reused
};

MultipartParser::MultipartParser(MultipartHandler* handler, MultipartOptions options)
    : shared_(std::make_unique<Shared>()) {
  shared_->handler = handler;
  shared_->options = options;
  root_ = std::make_unique<Walker>(shared_.get(), "", 0);
}

MultipartParser::~MultipartParser() = default;

void MultipartParser::Feed(absl::string_view chunk) {
  if (!finished_) root_->Feed(chunk);
}

void MultipartParser::Finish() {
  if (finished_) return;
  finished_ = true;
  root_->Finish();
}

}  // namespace imap::mime
