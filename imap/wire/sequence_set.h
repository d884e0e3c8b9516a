// Sets of UIDs (or sequence numbers) as IMAP writes them: "1:3,7,9:12".
//
//   UidSet s;  s.Add(3); s.Add(1); s.Add(2); s.Add(7);
//   s.ToString() == "1:3,7"
//   absl::StatusOr<UidSet> t = UidSet::Parse("5:3,9");  // ranges 3-5 and 9
#ifndef IMAP_WIRE_SEQUENCE_SET_H_
#define IMAP_WIRE_SEQUENCE_SET_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace imap::wire {

// A set of non-zero 32-bit numbers kept as disjoint, merged ranges, so that
// "1:4294967295" costs one entry, not four billion. Not thread-safe.
class UidSet {
 public:
  // Parses a sequence set without "*" (servers send none in answers).
  // INVALID_ARGUMENT naming the offset on bad syntax, zero, or overflow.
  static absl::StatusOr<UidSet> Parse(absl::string_view text);

  void Add(uint32_t n) { AddRange(n, n); }
  // Adds [first, last]; the order of the two does not matter.
  void AddRange(uint32_t first, uint32_t last);
  void Remove(uint32_t n);

  bool Contains(uint32_t n) const;
  bool empty() const { return ranges_.empty(); }
  // How many numbers the set holds.
  uint64_t size() const;
  uint32_t min() const;  // REQUIRES: !empty()
  uint32_t max() const;  // REQUIRES: !empty()

  // The ranges, ascending: (first, last) pairs.
  std::vector<std::pair<uint32_t, uint32_t>> ranges() const;
  // Every number, ascending. REQUIRES: size() is small enough to hold.
  std::vector<uint32_t> ToVector() const;
  // Splits into sets of at most `per_chunk` numbers and `max_ranges`
  // ranges each (the latter bounds the length of a command naming one),
  // ascending.
  std::vector<UidSet> Chunks(uint64_t per_chunk, size_t max_ranges = SIZE_MAX) const;
  // "1:3,7"; "" when empty.
  std::string ToString() const;

  bool operator==(const UidSet& other) const { return ranges_ == other.ranges_; }

 private:
  std::map<uint32_t, uint32_t> ranges_;  // first -> last
};

}  // namespace imap::wire

#endif  // IMAP_WIRE_SEQUENCE_SET_H_
