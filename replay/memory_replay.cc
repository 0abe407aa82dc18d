#include "replay/memory_replay.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <future>
#include <limits>
#include <vector>

#include "events/codec.h"
#include "events/time_format.h"
#include "events/fast_decode.h"

namespace isucoin::replay {

namespace {

struct Decoded {
  Status status;
  std::uint64_t first = 0;
  std::vector<events::Event> events;
};

Decoded DecodeBatch(std::vector<events::LogRecord> records) {
  Decoded out;
  out.events.reserve(records.size());
  if (!records.empty()) out.first = records.front().offset;
  for (const auto& record : records) {
    auto e = events::DecodeEventFast(record.payload);
    if (!e.ok()) {
      out.status = Status::Corruption("events log offset " + std::to_string(record.offset) +
                                      ": " + e.status().message());
      return out;
    }
    out.events.push_back(std::move(e).value());
  }
  return out;
}

}  // namespace

Result<MemoryReplay> ReplayIntoMemory(events::Log& log, MemoryReplayOptions options) {
  MemoryReplay out{options.start ? std::move(*options.start)
                                 : projections::ReadModel(options.utc_offset_seconds),
                   options.from_offset, 0, std::nullopt};
  const std::uint64_t end = std::min<std::uint64_t>(
      log.End(), options.until_offset.value_or(std::numeric_limits<std::uint64_t>::max()));
  constexpr std::size_t kBatch = 8192;
  std::uint64_t read_at = out.next_offset;
  auto launch = [&]() -> std::optional<std::future<Decoded>> {
    if (read_at >= end) return std::nullopt;
    auto batch = log.Read(read_at, std::min<std::uint64_t>(kBatch, end - read_at));
    if (!batch.ok()) {
      Decoded failed;
      failed.status = batch.status();
      std::promise<Decoded> p;
      p.set_value(std::move(failed));
      return p.get_future();
    }
    if (batch.value().empty()) return std::nullopt;
    read_at += batch.value().size();
    return std::async(std::launch::async, DecodeBatch, std::move(batch).value());
  };
  // Decoding (JSON) is nearly all the cost: keep a few batches decoding on other threads
  // (the cores are the limit) while this one applies them in order.
  constexpr std::size_t kInFlight = 3;
  std::deque<std::future<Decoded>> inflight;
  auto refill = [&] {
    while (inflight.size() < kInFlight) {
      auto f = launch();
      if (!f) return;
      inflight.push_back(std::move(*f));
    }
  };
  refill();
  while (!inflight.empty()) {
    Decoded decoded = inflight.front().get();
    inflight.pop_front();
    if (!decoded.status.ok()) return decoded.status;
    refill();
    std::uint64_t offset = decoded.first;
    for (const events::Event& e : decoded.events) {
      if (options.until_time && e.time > *options.until_time) return out;
      out.model.Apply(e);
      out.last_event_time = e.time;
      out.next_offset = ++offset;
      ++out.events_read;
    }
  }
  return out;
}

std::string DescribeModel(const projections::ReadModel& m, int utc_offset_seconds) {
  std::string s;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "users: %zu\norders: %zu\ntrades: %zu settled (genesis included), %zu executed "
                "awaiting settlement\n",
                m.user_count(), m.order_count(), m.settled_trade_count(), m.unsettled_trade_count());
  s += buf;
  if (auto t = m.latest_trade()) {
    std::snprintf(buf, sizeof buf, "last trade: #%" PRId64 " %" PRId64 " chairs at %" PRId64 " yen, %s\n",
                  t->id, t->amount, t->price,
                  events::FormatTime(t->created_at, utc_offset_seconds).c_str());
    s += buf;
  } else {
    s += "last trade: none\n";
  }
  auto price = [](std::optional<std::int64_t> p) { return p ? std::to_string(*p) : std::string("none"); };
  s += "best buy: " + price(m.highest_buy_price()) + ", best sell: " + price(m.lowest_sell_price()) + "\n";
  s += "settled cursor: " + std::to_string(m.settled_cursor()) + "\n";
  if (auto last = m.last_applied()) {
    s += "last applied sequence: (" + std::to_string(last->cause) + ", " +
         std::to_string(last->index) + ")\n";
  }
  std::snprintf(buf, sizeof buf, "state digest: %016" PRIx64 "\n", m.StateDigest());
  s += buf;
  return s;
}

}  // namespace isucoin::replay
