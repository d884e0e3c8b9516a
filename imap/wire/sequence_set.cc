#include "imap/wire/sequence_set.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace imap::wire {

absl::StatusOr<UidSet> UidSet::Parse(absl::string_view text) {
  UidSet set;
  size_t pos = 0;
  auto number = [&](uint32_t* out) -> bool {
    const size_t start = pos;
    uint64_t v = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      v = v * 10 + static_cast<uint64_t>(text[pos] - '0');
      if (v > std::numeric_limits<uint32_t>::max()) return false;
      ++pos;
    }
    if (pos == start || v == 0) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  };
  if (text.empty()) return absl::InvalidArgumentError("empty sequence set");
  while (true) {
    uint32_t first = 0;
    uint32_t last = 0;
    if (!number(&first)) {
      return absl::InvalidArgumentError(absl::StrCat("bad sequence set at offset ", pos));
    }
    last = first;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!number(&last)) {
        return absl::InvalidArgumentError(absl::StrCat("bad sequence set at offset ", pos));
      }
    }
    set.AddRange(first, last);
    if (pos == text.size()) return set;
    if (text[pos] != ',') {
      return absl::InvalidArgumentError(absl::StrCat("bad sequence set at offset ", pos));
    }
    ++pos;
  }
}

void UidSet::AddRange(uint32_t first, uint32_t last) {
  if (first > last) std::swap(first, last);
  // Merge with every range that overlaps or touches [first, last].
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= first || prev->second + 1 == first) it = prev;
  }
  while (it != ranges_.end() && (it->first <= last || it->first == last + 1)) {
    first = std::min(first, it->first);
    last = std::max(last, it->second);
    it = ranges_.erase(it);
  }
  ranges_[first] = last;
}

void UidSet::Remove(uint32_t n) {
  auto it = ranges_.upper_bound(n);
  if (it == ranges_.begin()) return;
  --it;
  const uint32_t first = it->first;
  const uint32_t last = it->second;
  if (n > last) return;
  ranges_.erase(it);
  if (first < n) ranges_[first] = n - 1;
  if (n < last) ranges_[n + 1] = last;
}

bool UidSet::Contains(uint32_t n) const {
  auto it = ranges_.upper_bound(n);
  if (it == ranges_.begin()) return false;
  --it;
  return n <= it->second;
}

uint64_t UidSet::size() const {
  uint64_t total = 0;
  for (const auto& [first, last] : ranges_) total += uint64_t{last} - first + 1;
  return total;
}

uint32_t UidSet::min() const { return ranges_.begin()->first; }
uint32_t UidSet::max() const { return ranges_.rbegin()->second; }

std::vector<std::pair<uint32_t, uint32_t>> UidSet::ranges() const {
  return std::vector<std::pair<uint32_t, uint32_t>>(ranges_.begin(), ranges_.end());
}

std::vector<uint32_t> UidSet::ToVector() const {
  std::vector<uint32_t> out;
  out.reserve(static_cast<size_t>(size()));
  for (const auto& [first, last] : ranges_) {
    for (uint64_t n = first; n <= last; ++n) out.push_back(static_cast<uint32_t>(n));
  }
  return out;
}

std::vector<UidSet> UidSet::Chunks(uint64_t per_chunk, size_t max_ranges) const {
  std::vector<UidSet> out;
  if (per_chunk == 0 || max_ranges == 0) return out;
  UidSet current;
  uint64_t in_current = 0;
  for (auto [first, last] : ranges_) {
    uint64_t f = first;
    while (f <= last) {
      const uint64_t room = per_chunk - in_current;
      const uint64_t l = std::min<uint64_t>(last, f + room - 1);
      current.AddRange(static_cast<uint32_t>(f), static_cast<uint32_t>(l));
      in_current += l - f + 1;
      f = l + 1;
      if (in_current == per_chunk || current.ranges_.size() == max_ranges) {
        out.push_back(std::move(current));
        current = UidSet();
        in_current = 0;
      }
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string UidSet::ToString() const {
  std::string out;
  for (const auto& [first, last] : ranges_) {
    if (!out.empty()) out.push_back(',');
    if (first == last) {
      absl::StrAppend(&out, first);
    } else {
      absl::StrAppend(&out, first, ":", last);
    }
  }
  return out;
}

}  // namespace imap::wire
