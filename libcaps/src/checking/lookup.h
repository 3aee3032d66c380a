// SPDX-License-Identifier: MIT
// Lookup: finds elements of a vector by key, scanning while that is cheap and building a hash
// index once it is not, so that many look-ups in a large host or guest stay linear.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <unordered_map>

namespace caps {

/// Finds the first element of `items` whose `KeyOf{}(element)` equals a key, like the linear
/// Host::find_* it replaces in the checker. A check makes a handful of look-ups on hosts of a
/// few units, where building a hash table would cost more than it saves; so the first
/// kScans look-ups scan, and the next one builds the index (at most kScans + 1 passes over
/// the elements in all, then one hash probe per look-up). The viewed elements must outlive
/// the Lookup and not change.
template <class T, class Key, class KeyOf>
class Lookup {
 public:
  static constexpr std::size_t kScans = 8;

  explicit Lookup(std::span<const T> items) : items_(items) {}

  const T* find(const Key& key) const {
    if (!index_ && (scans_ < kScans || items_.size() <= kScans)) {
      ++scans_;
      for (const T& item : items_) {
        ++work_;
        if (KeyOf{}(item) == key) return &item;
      }
      return nullptr;
    }
    if (!index_) build();
    ++work_;
    const auto it = index_->find(key);
    return it == index_->end() ? nullptr : it->second;
  }

  /// Elements compared, indexed or probed so far: lets a test prove that a check's look-ups
  /// grow linearly, without timing anything.
  std::size_t work() const { return work_; }

 private:
  void build() const {
    index_.emplace();
    index_->reserve(items_.size());
    for (const T& item : items_) {
      ++work_;
      index_->try_emplace(KeyOf{}(item), &item);  // the first of equal keys, as a scan finds
    }
  }

  std::span<const T> items_;
  mutable std::size_t scans_ = 0;
  mutable std::size_t work_ = 0;
  mutable std::optional<std::unordered_map<Key, const T*>> index_;
};

}  // namespace caps
