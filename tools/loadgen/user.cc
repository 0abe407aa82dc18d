#include "tools/loadgen/user.h"

#include <algorithm>
#include <thread>

namespace isucoin::loadgen {

using nlohmann::json;

namespace {
// Where prices start when the charts show nothing yet (the example dataset trades near 5,000).
constexpr std::int64_t kDefaultPrice = 5000;
}  // namespace

User::User(World& world, int index)
    : world_(world),
      index_(index),
      bank_id_(world.options.bank_prefix + "-u" + std::to_string(index)),
      name_("loadgen user " + std::to_string(index)),
      password_("pw-" + world.options.bank_prefix + "-u" + std::to_string(index)),
      rng_(SeedFor(world.options.seed, static_cast<std::uint64_t>(index), 1)),
      poll_rng_(SeedFor(world.options.seed, static_cast<std::uint64_t>(index), 2)),
      client_(world.options.target, std::chrono::milliseconds(world.options.timeout_ms)),
      poll_client_(world.options.target, std::chrono::milliseconds(world.options.timeout_ms)) {}

void User::Run() {
  world_.stats.UserJoined();
  if (CreateBankAccount() && SignUp() && SignIn()) {
    std::thread poller([this] { PollInfo(); });
    std::uniform_real_distribution<double> pause(0.5, 1.5);
    while (!Leaving()) {
      if (!world_.stop.SleepFor(std::chrono::duration<double>(pause(rng_) * world_.options.order_interval_s))) break;
      if (!Act()) break;
    }
    leaving_ = true;
    poller.join();
  }
  world_.stats.UserLeft(timed_out_.load());
}

bool User::CreateBankAccount() {
  HttpClient admin(world_.options.bank_admin);
  const std::string body = json{{"bank_id", bank_id_}, {"credit", world_.options.credit}}.dump();
  Backoff backoff(&rng_);
  while (!Leaving()) {
    auto r = admin.Post("/admin/accounts", body, "", true);
    if (world_.stats.Request(Route::kBankAdmin, r) && r.status == 200) return true;
    world_.stats.Error("bank admin refused account creation");
    if (!world_.stop.SleepFor(backoff.Next())) break;
  }
  return false;
}

bool User::SignUp() {
  const std::string form = "name=" + FormEscape(name_) + "&bank_id=" + FormEscape(bank_id_) +
                           "&password=" + FormEscape(password_);
  Backoff backoff(&rng_);
  bool maybe_done = false;  // an earlier attempt's answer was lost: 409 then means "it worked"
  while (!Leaving()) {
    auto response = client_.Post("/signup", form);
    // A sign-up whose first copy got through (lost answer, or re-sent by libcurl) meets 409.
    const bool may_exist = maybe_done || response.maybe_sent_twice;
    auto r = Call(Route::kSignup, std::move(response),
                  may_exist ? std::initializer_list<long>{200, 409, 503}
                            : std::initializer_list<long>{200, 503});
    if (r && r->status == 200) return true;
    if (r && r->status == 409 && (maybe_done || r->maybe_sent_twice)) return true;
    if (r && r->status != 503) return false;  // a violation already counted; give up on this user
    if (!r && leaving_) return false;
    maybe_done = true;
    if (!world_.stop.SleepFor(backoff.Next())) break;
  }
  return false;
}

bool User::SignIn() {
  const std::string form = "bank_id=" + FormEscape(bank_id_) + "&password=" + FormEscape(password_);
  Backoff backoff(&rng_);
  while (!Leaving()) {
    auto r = Call(Route::kSignin, client_.Post("/signin", form), {200, 503});
    if (r && r->status == 200) {
      Violations v;
      auto body = ParseBody(r->body, "signin", &v);
      if (body && (!body->is_object() || !body->contains("id") || !(*body)["id"].is_number_integer() ||
                   (*body)["id"].get<std::int64_t>() <= 0 || body->value("name", "") != name_)) {
        v.push_back({"signin_body", r->body});
      }
      if (r->session_cookie.empty()) v.push_back({"signin_no_cookie", "200 without isucoin_session"});
      world_.stats.Violate(v);
      if (!v.empty() || !body) return false;
      const auto id = (*body)["id"].get<std::int64_t>();
      {
        std::lock_guard lock(session_mu_);
        cookie_ = r->session_cookie;
        if (me_.user_id != 0 && me_.user_id != id) {
          world_.stats.Violate({{"signin_changed_user", "was user " + std::to_string(me_.user_id) +
                                                            ", now " + std::to_string(id)}});
        }
        if (me_.user_id == 0) {
          world_.acknowledged.Append(
              {{"kind", "user"}, {"bank_id", bank_id_}, {"password", password_}, {"user_id", id}});
        }
        me_ = Me{id, name_};
      }
      signed_in_ = true;
      return true;
    }
    if (r && r->status != 503) return false;
    if (!r && leaving_) return false;
    if (!world_.stop.SleepFor(backoff.Next())) break;
  }
  return false;
}

std::optional<HttpResponse> User::Call(Route route, HttpResponse response,
                                       std::initializer_list<long> allowed) {
  // Over --timeout-ms without an answer: this user has had enough and leaves.
  if (response.transport == Transport::kTimeout) {
    timed_out_ = true;
    leaving_ = true;
  }
  return Answered(world_, route, std::move(response), allowed);
}

bool User::Reauthenticate() {
  world_.stats.Error("session lost (401), signing in again");
  signed_in_ = false;
  return SignIn();
}

std::string User::Cookie() {
  std::lock_guard lock(session_mu_);
  return cookie_;
}

void User::PollInfo() {
  std::int64_t cursor = 0, last_answer_cursor = -1;
  std::optional<bool> share;
  Backoff backoff(&poll_rng_);
  const auto period = std::chrono::duration<double>(world_.options.info_interval_s);
  while (!Leaving()) {
    const auto started = std::chrono::steady_clock::now();
    Me me;
    {
      std::lock_guard lock(session_mu_);
      me = me_;
    }
    auto r = Call(Route::kInfo,
                      poll_client_.Get("/info?cursor=" + std::to_string(cursor), Cookie()), {200});
    if (!r) {
      if (leaving_.load() || !world_.stop.SleepFor(backoff.Next())) break;
      continue;
    }
    backoff.Reset();
    Violations v;
    auto info = r->status == 200 ? ParseBody(r->body, "info", &v) : std::nullopt;
    if (info) {
      CheckInfo(*info, cursor, &me, &v);
      if (info->is_object() && info->contains("cursor") && (*info)["cursor"].is_number_integer()) {
        const auto answer = (*info)["cursor"].get<std::int64_t>();
        if (answer < last_answer_cursor) {
          v.push_back({"info_cursor_went_back", std::to_string(last_answer_cursor) + " then " +
                                                    std::to_string(answer)});
        }
        last_answer_cursor = std::max(last_answer_cursor, answer);
        if (info->contains("traded_orders") && (*info)["traded_orders"].is_array()) {
          orders_.ReportedByInfo((*info)["traded_orders"], answer, &v);
          for (const auto& o : (*info)["traded_orders"]) {
            if (o.is_object() && o.contains("trade_id") && o["trade_id"].is_number_integer()) {
              world_.stats.TradeSeen(o["trade_id"].get<std::int64_t>());
            }
          }
        }
        world_.stats.Cursor(answer);
        cursor = answer;
      }
      if (info->is_object() && info->contains("enable_share") && (*info)["enable_share"].is_boolean()) {
        // The share decision is per user: it must not flicker between polls.
        const bool now = (*info)["enable_share"].get<bool>();
        if (share && *share != now) v.push_back({"info_share_flipped", "enable_share changed for one user"});
        share = now;
      }
      if (auto price = LatestChartPrice(*info)) reference_price_ = *price;
    }
    world_.stats.Violate(v);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (!world_.stop.SleepFor(period - elapsed)) break;
  }
}

bool User::Act() {
  std::uniform_int_distribution<int> dice(0, 99);
  const int roll = dice(rng_);
  if (roll < 60) return PlaceOrder(false);
  if (roll < 80) {
    if (orders_.OpenIds().empty()) return PlaceOrder(false);
    return CancelOrder();
  }
  if (roll < 83) return PlaceOrder(true);
  return ListOrders();
}

std::int64_t User::PriceAround(std::int64_t reference, bool buy) {
  // Buyers bid up to 3 % above, sellers ask down to 3 % below: about half the orders cross.
  std::uniform_real_distribution<double> spread(-0.03, 0.03);
  double factor = 1.0 + spread(rng_) + (buy ? 0.005 : -0.005);
  return std::clamp<std::int64_t>(static_cast<std::int64_t>(static_cast<double>(reference) * factor), 1, 1'000'000'000);
}

bool User::PlaceOrder(bool beyond_credit) {
  std::uniform_int_distribution<int> side(0, 1);
  std::discrete_distribution<int> amounts({0, 50, 30, 15, 5});  // 1..4 chairs, mostly 1
  const bool buy = beyond_credit || side(rng_) == 0;
  std::int64_t reference = reference_price_.load();
  if (reference <= 0) reference = kDefaultPrice;
  std::int64_t amount = amounts(rng_), price = PriceAround(reference, buy);
  if (beyond_credit) {
    amount = 1'000'000'000;  // × price ≥ 10^9 × 1: more than --credit allows below 10^9 yen per chair
    price = std::max<std::int64_t>(price, world_.options.credit / amount + 1);
  }
  const std::string type = buy ? "buy" : "sell";
  const std::string form =
      "type=" + type + "&amount=" + std::to_string(amount) + "&price=" + std::to_string(price);
  auto response = client_.Post("/orders", form, Cookie());
  const int copies = response.maybe_sent_twice ? 2 : 1;
  auto r = Call(Route::kPlaceOrder, std::move(response),
                beyond_credit ? std::initializer_list<long>{400, 401, 503}
                              : std::initializer_list<long>{200, 401, 503});
  if (!r || r->status == 503) {
    // No answer, or 503 (durable, maybe applied): each copy sent may have made an order.
    for (int i = 0; i < copies && !beyond_credit; ++i) orders_.PlacementUnknown();
    return !leaving_.load();
  }
  if (r->status == 401) return Reauthenticate();
  Violations v;
  auto body = ParseBody(r->body, "orders_post", &v);
  if (beyond_credit) {
    if (r->status == 400 && body && body->is_object() &&
        body->value("error", "").find("残高") == std::string::npos) {
      v.push_back({"insufficient_credit_message", "400 without 残高: " + r->body});
    }
    world_.stats.Violate(v);
    return ListOrders();  // nothing must have changed
  }
  if (r->status != 200 || !body) {
    world_.stats.Violate(v);
    return ListOrders();
  }
  if (!body->is_object() || !body->contains("id") || !(*body)["id"].is_number_integer() ||
      (*body)["id"].get<std::int64_t>() <= 0) {
    v.push_back({"orders_post_body", r->body});
    world_.stats.Violate(v);
    return ListOrders();
  }
  const auto id = (*body)["id"].get<std::int64_t>();
  if (world_.FirstAcknowledgement(id)) {
    std::int64_t user_id;
    {
      std::lock_guard lock(session_mu_);
      user_id = me_.user_id;
    }
    world_.acknowledged.Append({{"kind", "order"}, {"order_id", id}, {"user_id", user_id},
                                {"bank_id", bank_id_}, {"type", type}, {"amount", amount},
                                {"price", price}});
    world_.stats.OrderAcknowledged();
  }
  orders_.Placed(id, type, amount, price, r->maybe_sent_twice);
  return ListOrders();
}

bool User::CancelOrder() {
  auto open = orders_.OpenIds();
  std::uniform_int_distribution<std::size_t> pick(0, open.size() - 1);
  const std::int64_t id = open[pick(rng_)];
  auto r = Call(Route::kCancelOrder,
                    client_.Delete("/order/" + std::to_string(id), Cookie()), {200, 401, 404, 503});
  if (!r || r->status == 503) {
    orders_.CancelUnknown(id);
    return !leaving_.load();
  }
  if (r->status == 401) return Reauthenticate();
  if (r->status == 404 && r->maybe_sent_twice) {
    orders_.CancelUnknown(id);  // the first copy of the DELETE may have cancelled it
    return ListOrders();
  }
  if (r->status == 404) {
    orders_.CancelRefused(id);  // it traded (or is being traded) meanwhile
    return ListOrders();
  }
  Violations v;
  auto body = ParseBody(r->body, "delete", &v);
  if (body && (!body->is_object() || !body->contains("id") || (*body)["id"] != id)) {
    v.push_back({"delete_body", "DELETE /order/" + std::to_string(id) + " answered " + r->body});
  }
  world_.stats.Violate(v);
  std::int64_t user_id;
  {
    std::lock_guard lock(session_mu_);
    user_id = me_.user_id;
  }
  world_.acknowledged.Append({{"kind", "cancel"}, {"order_id", id}, {"user_id", user_id},
                              {"bank_id", bank_id_}});
  world_.stats.CancelAcknowledged();
  orders_.Cancelled(id);
  return ListOrders();
}

bool User::ListOrders() {
  auto r = Call(Route::kListOrders, client_.Get("/orders", Cookie()), {200, 401});
  if (!r) return !leaving_.load();
  if (r->status == 401) return Reauthenticate();
  if (r->status != 200) return true;
  Violations v;
  auto orders = ParseBody(r->body, "orders", &v);
  if (orders) {
    Me me;
    {
      std::lock_guard lock(session_mu_);
      me = me_;
    }
    CheckOrderList(*orders, me, &v);
    orders_.CheckList(*orders, &v);
    if (orders->is_array()) {
      for (const auto& o : *orders) {
        if (o.is_object() && o.contains("trade_id") && o["trade_id"].is_number_integer()) {
          world_.stats.TradeSeen(o["trade_id"].get<std::int64_t>());
        }
      }
    }
  }
  world_.stats.Violate(v);
  return true;
}

}  // namespace isucoin::loadgen
