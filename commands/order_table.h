// OrderTable: every order the matcher has seen, by id, at stable addresses (the book links
// them). Order ids are dense counters, so the common case is a direct index: a table of
// chunks of pointers, 4096 ids per chunk, allocated as ids reach them. Ids of an imported
// dataset beyond the dense range (they are kept as given) fall back to a hash map.
#pragma once

#include <algorithm>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "commands/order.h"

namespace isucoin::commands {

class OrderTable {
 public:
  Order* Find(Id id) {
    if (id >= 1 && id < kDenseLimit) {
      const auto chunk = static_cast<std::size_t>(id >> kChunkBits);
      if (chunk >= chunks_.size() || !chunks_[chunk]) return nullptr;
      return chunks_[chunk][static_cast<std::size_t>(id & kChunkMask)];
    }
    auto it = sparse_.find(id);
    return it == sparse_.end() ? nullptr : it->second;
  }
  const Order* Find(Id id) const { return const_cast<OrderTable*>(this)->Find(id); }
  bool contains(Id id) const { return Find(id) != nullptr; }
  Order& at(Id id) { return *Find(id); }  // callers hold ids the table gave them

  // `order.id` must not be in the table yet.
  Order& Insert(const Order& order) {
    Order& stored = storage_.emplace_back(order);
    const Id id = order.id;
    if (id >= 1 && id < kDenseLimit) {
      const auto chunk = static_cast<std::size_t>(id >> kChunkBits);
      if (chunk >= chunks_.size()) chunks_.resize(chunk + 1);
      if (!chunks_[chunk]) chunks_[chunk] = std::make_unique<Order*[]>(kChunkSize);
      chunks_[chunk][static_cast<std::size_t>(id & kChunkMask)] = &stored;
    } else {
      sparse_[id] = &stored;
    }
    return stored;
  }

  std::size_t size() const { return storage_.size(); }

  // Visits every order in ascending id order (snapshots must be canonical).
  template <typename F>
  void ForEachById(F&& f) const { Visit(*this, f); }
  template <typename F>
  void ForEachById(F&& f) { Visit(*this, f); }

 private:
  template <typename Self, typename F>
  static void Visit(Self& self, F& f) {
    for (const auto& chunk : self.chunks_) {
      if (!chunk) continue;
      for (std::size_t i = 0; i < kChunkSize; ++i)
        if (chunk[i]) f(*chunk[i]);
    }
    std::vector<Id> ids;
    ids.reserve(self.sparse_.size());
    for (const auto& [id, _] : self.sparse_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (Id id : ids) f(*self.sparse_.at(id));
  }

  static constexpr int kChunkBits = 12;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr Id kChunkMask = static_cast<Id>(kChunkSize - 1);
  static constexpr Id kDenseLimit = Id{1} << 28;  // 268 M ids: a 512 KiB chunk table at most

  std::deque<Order> storage_;  // never shrinks: closed orders stay (cancel outcomes need them)
  std::vector<std::unique_ptr<Order*[]>> chunks_;
  std::unordered_map<Id, Order*> sparse_;  // lookups only; ForEachById sorts
};

}  // namespace isucoin::commands
