#include "tools/loadgen/attacker.h"

namespace isucoin::loadgen {

using nlohmann::json;

namespace {
constexpr int kFailuresBeforeBlock = 5;  // SPEC.md POST /signin
constexpr auto kBlockDuration = std::chrono::minutes(10);
}  // namespace

Attacker::Attacker(World& world, int index)
    : world_(world),
      index_(index),
      real_victim_(index % 2 == 0),
      bank_id_(world.options.bank_prefix + (index % 2 == 0 ? "-victim" : "-nobody") + std::to_string(index)),
      password_("pw-" + world.options.bank_prefix + "-victim" + std::to_string(index)),
      rng_(SeedFor(world.options.seed, static_cast<std::uint64_t>(index), 3)),
      client_(world.options.target, std::chrono::milliseconds(world.options.timeout_ms)) {}

void Attacker::Run() {
  if (real_victim_ && !PrepareVictim()) return;
  std::uniform_real_distribution<double> pause(0.5, 1.5);
  while (world_.stop.SleepFor(std::chrono::duration<double>(pause(rng_)))) {
    Attempt(blocked_ && real_victim_ && attempts_ % 5 == 0);
    PollInfo();
  }
}

bool Attacker::PrepareVictim() {
  HttpClient admin(world_.options.bank_admin);
  auto account = admin.Post("/admin/accounts", json{{"bank_id", bank_id_}, {"credit", 1000}}.dump(), "", true);
  if (!world_.stats.Request(Route::kBankAdmin, account) || account.status != 200) return false;
  const std::string form = "name=victim&bank_id=" + FormEscape(bank_id_) + "&password=" + FormEscape(password_);
  Backoff backoff(&rng_);
  bool maybe_done = false;
  while (!world_.stop.stopped()) {
    auto response = client_.Post("/signup", form);
    maybe_done = maybe_done || response.maybe_sent_twice;
    auto r = Answered(world_, Route::kSignup, std::move(response),
                      maybe_done ? std::initializer_list<long>{200, 409, 503}
                                 : std::initializer_list<long>{200, 503});
    if (r && (r->status == 200 || (r->status == 409 && maybe_done))) return true;
    if (r && r->status != 503) return false;
    maybe_done = true;
    if (!world_.stop.SleepFor(backoff.Next())) break;
  }
  return false;
}

void Attacker::Attempt(bool right_password) {
  ++attempts_;
  const std::string password = right_password ? password_ : "guess-" + std::to_string(attempts_);
  auto r = Answered(world_, Route::kSignin,
                    client_.Post("/signin", "bank_id=" + FormEscape(bank_id_) + "&password=" + FormEscape(password)),
                    {403, 404, 503});
  if (!r || r->status == 503) {
    ++lost_attempts_;  // it may have been counted as a failure
    return;
  }
  if (r->maybe_sent_twice) ++lost_attempts_;  // a first copy may have been counted too
  const auto now = std::chrono::steady_clock::now();
  const std::string what = (right_password ? "right password, " : "wrong password, ") +
                           std::to_string(answered_failures_) + " failures answered and " +
                           std::to_string(lost_attempts_) + " lost before";
  if (r->status == 404) {
    if (right_password) {
      world_.stats.Violate({{"signin_defence_right_password_404", what}});
    } else if (answered_failures_ >= kFailuresBeforeBlock && !(blocked_ && now - blocked_since_ >= kBlockDuration)) {
      world_.stats.Violate({{"signin_defence_missing", "404 instead of 403: " + what}});
    }
    ++answered_failures_;
  } else if (r->status == 403) {
    if (answered_failures_ + lost_attempts_ < kFailuresBeforeBlock) {
      world_.stats.Violate({{"signin_defence_too_early", "403 after too few failures: " + what}});
    }
    if (!blocked_) blocked_since_ = now;
    blocked_ = true;
    ++answered_failures_;
  } else if (r->status == 200) {
    // Answered() already counted it as unexpected; say what it means.
    world_.stats.Violate({{right_password ? "signin_defence_blocked_but_accepted" : "signin_wrong_password_accepted", what}});
  }
}

void Attacker::PollInfo() {
  auto r = Answered(world_, Route::kInfo, client_.Get("/info?cursor=" + std::to_string(info_cursor_)), {200});
  if (!r || r->status != 200) return;
  Violations v;
  auto info = ParseBody(r->body, "info", &v);
  if (info) {
    CheckInfo(*info, info_cursor_, nullptr, &v);
    if (info->is_object() && info->contains("cursor") && (*info)["cursor"].is_number_integer()) {
      info_cursor_ = (*info)["cursor"].get<std::int64_t>();
      world_.stats.Cursor(info_cursor_);
    }
  }
  world_.stats.Violate(v);
}

}  // namespace isucoin::loadgen
