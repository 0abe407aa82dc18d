// One simulated user, behaving like the exchange's real clients (the SPA and the scripted
// clients of SPEC.md): it gets a bank account, signs up, signs in, then
//  - polls GET /info every second with the cursor of the previous answer (its own thread,
//    like the page's timer), and
//  - every ~1.5 s (uniform 0.5–1.5 × --order-interval) does one trading action: places a buy
//    or a sell around the current price (60 %), cancels one of its open orders (20 %), tries a
//    buy far beyond its credit (3 %: 400 with 残高 expected), or just reads its orders; after a
//    place or a cancel it reads GET /orders at once (read-your-writes).
// It leaves when a request takes longer than --timeout-ms (10 s), like an impatient human.
// While the server is down (connection refused during a restart) it backs off and retries;
// answers lost with the server are handled as "may or may not have happened".
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "tools/loadgen/http_client.h"
#include "tools/loadgen/my_orders.h"
#include "tools/loadgen/world.h"

namespace isucoin::loadgen {

class User {
 public:
  User(World& world, int index);
  // Runs until the stop signal or until the user leaves; starts and joins its /info poller.
  void Run();

 private:
  bool CreateBankAccount();
  bool SignUp();
  bool SignIn();
  void PollInfo();
  bool Act();  // one trading action; false when the user leaves
  bool PlaceOrder(bool beyond_credit);
  bool CancelOrder();
  bool ListOrders();
  std::int64_t PriceAround(std::int64_t reference, bool buy);
  std::string Cookie();
  bool Leaving() const { return leaving_.load() || world_.stop.stopped(); }
  // Answered() for this user: a request that timed out makes the user leave.
  std::optional<HttpResponse> Call(Route route, HttpResponse response, std::initializer_list<long> allowed);
  // A 401 on a signed-in route: the session is gone (counted), sign in again.
  bool Reauthenticate();

  World& world_;
  const int index_;
  const std::string bank_id_, name_, password_;
  std::mt19937_64 rng_;       // the trading thread's choices: deterministic per (seed, index)
  std::mt19937_64 poll_rng_;  // the poller's backoff jitter
  HttpClient client_, poll_client_;
  std::mutex session_mu_;
  std::string cookie_;
  Me me_;
  MyOrders orders_;
  std::atomic<std::int64_t> reference_price_{0};
  std::atomic<bool> signed_in_{false};
  std::atomic<bool> leaving_{false};
  std::atomic<bool> timed_out_{false};  // left because a request took over --timeout-ms
};

}  // namespace isucoin::loadgen
