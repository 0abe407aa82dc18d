// A brute-force attacker on one bank_id (SPEC.md POST /signin: 404 for a wrong password, 403
// after 5 consecutive failures for the same bank_id). Even-numbered attackers go after a real
// user they create (bank account + sign-up, password known to the harness), odd ones after a
// bank_id nobody has (SPEC counts those the same way). About once a second it tries a wrong
// password; once blocked, every fifth try uses the right one, which must be refused too (403).
// It also polls GET /info signed out (no traded_orders, no share button), like the page an
// attacker keeps open.
//
// Lost answers (server restarting) make the failure count uncertain, so the expectation is a
// range: a 404 is wrong once 5 failures were answered, a 403 is wrong while fewer than 5
// attempts (answered or lost) were made. The block lasts 10 minutes from the last failure;
// a 404 is allowed again once 10 minutes passed since the block began.
#pragma once

#include <random>
#include <string>

#include "tools/loadgen/http_client.h"
#include "tools/loadgen/world.h"

namespace isucoin::loadgen {

class Attacker {
 public:
  Attacker(World& world, int index);
  void Run();

 private:
  bool PrepareVictim();
  void Attempt(bool right_password);
  void PollInfo();

  World& world_;
  const int index_;
  const bool real_victim_;
  const std::string bank_id_, password_;
  std::mt19937_64 rng_;
  HttpClient client_;
  std::int64_t info_cursor_ = 0;
  int answered_failures_ = 0;  // 404s and 403s to wrong or blocked attempts
  int lost_attempts_ = 0;      // attempts whose answer never came
  int attempts_ = 0;
  std::chrono::steady_clock::time_point blocked_since_{};
  bool blocked_ = false;
};

}  // namespace isucoin::loadgen
