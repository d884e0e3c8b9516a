// What was wrong with a message that did not stop it from being read. The
// MIME engine never fails a message for bad input: it reads what it can
// and reports each problem as a Defect.
//
//   Defects defects;
//   defects.push_back({"header Subject", "encoded word with unknown charset 'x-foo'"});
#ifndef IMAP_MIME_DEFECT_H_
#define IMAP_MIME_DEFECT_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace imap::mime {

struct Defect {
  // Where: "header Subject", "part 1.2 body", "part 2 headers", ...
  std::string where;
  // What, for a person: "invalid base64 character ignored", ...
  std::string what;

  bool operator==(const Defect& o) const { return where == o.where && what == o.what; }
};

using Defects = std::vector<Defect>;

// Adds defects for one call of a parser: each distinct one once, and at
// most kMaxPerCall of them, so that a hostile header cannot produce one
// defect per word. A null `defects` drops everything. Not thread-safe;
// `defects` and the text behind `where` must outlive the sink.
class DefectSink {
 public:
  static constexpr size_t kMaxPerCall = 16;

  DefectSink(Defects* defects, absl::string_view where)
      : defects_(defects), where_(where), start_(defects ? defects->size() : 0) {}

  void Add(std::string what) {
    if (defects_ == nullptr) return;
    if (defects_->size() - start_ >= kMaxPerCall) return;
    for (size_t i = start_; i < defects_->size(); ++i) {
      if ((*defects_)[i].what == what) return;
    }
    defects_->push_back({std::string(where_), std::move(what)});
  }

  void AddAll(const Defects& more) {
    for (const Defect& d : more) Add(d.what);
  }

  Defects* defects() const { return defects_; }
  absl::string_view where() const { return where_; }

 private:
  Defects* defects_;
  absl::string_view where_;
  size_t start_;
};

}  // namespace imap::mime

#endif  // IMAP_MIME_DEFECT_H_
