// A test fixture that speaks the exchange's language: sign users up, place orders, answer the
// bank, and compare the exact events the matcher emits.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "commands/exchange.h"
#include "events/codec.h"
#include "events/records.h"

namespace isucoin::events {
// gtest prints events as their JSON encoding.
inline void PrintTo(const EventBody& body, std::ostream* os) {
  *os << EncodeEvent(Event{{}, 0, body});
}
}  // namespace isucoin::events

namespace isucoin::commands::testing {

using namespace isucoin::events;

class ExchangeFixture : public ::testing::Test {
 protected:
  // Applies one command at the next offset; time advances 1 s per command unless given.
  std::vector<Event> Apply(CommandBody body) {
    Command cmd{offset_, time_, std::move(body)};
    last_offset_ = offset_++;
    time_ += 1'000'000;
    return exchange_.apply(cmd);
  }

  // Bodies of the events, without their sequence/time: what most tests compare.
  static std::vector<EventBody> Bodies(const std::vector<Event>& events) {
    std::vector<EventBody> bodies;
    for (const auto& e : events) bodies.push_back(e.body);
    return bodies;
  }
  std::vector<EventBody> Do(CommandBody body) { return Bodies(Apply(std::move(body))); }

  // Registers a user (bank_id "bank-<name>") and returns its id.
  Id Signup(const std::string& name) {
    auto events = Apply(SignupRequested{name, "bank-" + name, "$2b$04$hash"});
    for (const auto& e : events)
      if (auto* u = std::get_if<UserRegistered>(&e.body)) return u->user_id;
    ADD_FAILURE() << "signup of " << name << " failed";
    return 0;
  }

  // Places an order and returns its id; the events (acceptance and any match) go to *events.
  Id Place(Id user, Side side, std::int64_t amount, std::int64_t price,
           std::vector<EventBody>* events = nullptr) {
    auto out = Do(OrderPlaced{user, side, amount, price});
    if (events) *events = out;
    for (const auto& b : out)
      if (auto* a = std::get_if<OrderAccepted>(&b)) return a->order_id;
    ADD_FAILURE() << "order not accepted";
    return 0;
  }
  Id Buy(Id user, std::int64_t amount, std::int64_t price, std::vector<EventBody>* ev = nullptr) {
    return Place(user, Side::kBuy, amount, price, ev);
  }
  Id Sell(Id user, std::int64_t amount, std::int64_t price, std::vector<EventBody>* ev = nullptr) {
    return Place(user, Side::kSell, amount, price, ev);
  }

  // The bank reserved every leg: reserve id = 1000 + order id.
  std::vector<EventBody> ReserveAll(const MatchProposed& m) {
    ReservationsReported report{m.match_id, {}};
    for (const auto& leg : m.legs) report.results.push_back({leg.order_id, 1000 + leg.order_id, ""});
    return Do(report);
  }

  static const MatchProposed* FindMatch(const std::vector<EventBody>& bodies) {
    for (const auto& b : bodies)
      if (auto* m = std::get_if<MatchProposed>(&b)) return m;
    return nullptr;
  }

  // Leg order ids of a proposed match, in leg order.
  static std::vector<Id> LegIds(const MatchProposed& m) {
    std::vector<Id> ids;
    for (const auto& leg : m.legs) ids.push_back(leg.order_id);
    return ids;
  }

  Exchange exchange_;
  std::uint64_t offset_ = 0;
  std::uint64_t last_offset_ = 0;
  Micros time_ = 1'700'000'000'000'000;
};

// Most rule tests need two users trading with each other.
class TwoTradersFixture : public ExchangeFixture {
 protected:
  void SetUp() override {
    alice = Signup("alice");
    bob = Signup("bob");
  }
  Id alice = 0, bob = 0;
};

// Readable failure messages: events print as their JSON encoding.
inline std::string Show(const std::vector<EventBody>& bodies) {
  std::string s;
  for (const auto& b : bodies) s += EncodeEvent(Event{{}, 0, b}) + "\n";
  return s;
}

}  // namespace isucoin::commands::testing
