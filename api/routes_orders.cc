// POST /orders, DELETE /order/{id}, GET /orders (SPEC.md; commands/MATCHING.md).
#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/form.h"
#include "api/json_views.h"

namespace isucoin::api {

namespace {
constexpr const char* kInsufficientCredit = "銀行の残高が足りません";

std::optional<events::Event> Await(ApiContext& api, std::uint64_t offset, const ReplyPtr& reply) {
  auto answer = api.backend().model->WaitForAnswer(offset, api.options().answer_timeout);
  if (!answer) reply->Send(ErrorResponse(503, "the exchange did not answer in time; try again"));
  return answer;
}
}  // namespace

void HandlePostOrder(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto user = api.SessionUser(req);
  if (!user) return reply->Send(ErrorResponse(401, "not signed in"));
  FormResult form = ParseForm(req.body);
  if (!form.ok()) return reply->Send(ErrorResponse(400, form.error));
  const std::string* type = form.Find("type");
  const std::string* amount_text = form.Find("amount");
  const std::string* price_text = form.Find("price");
  if (!type || (*type != "buy" && *type != "sell")) {
    return reply->Send(ErrorResponse(400, "type must be buy or sell"));
  }
  auto amount = amount_text ? ParseInt(*amount_text, 1, events::kMaxAmount) : std::nullopt;
  if (!amount) {
    return reply->Send(ErrorResponse(
        400, "amount must be an integer from 1 to " + std::to_string(events::kMaxAmount)));
  }
  auto price = price_text ? ParseInt(*price_text, 1, events::kMaxPrice) : std::nullopt;
  if (!price) {
    return reply->Send(ErrorResponse(
        400, "price must be an integer from 1 to " + std::to_string(events::kMaxPrice)));
  }
  events::Side side = *type == "buy" ? events::Side::kBuy : events::Side::kSell;
  api.RunAsync(reply, [&api, user = *user, side, amount = *amount,
                       price = *price](const ReplyPtr& reply) {
    if (side == events::Side::kBuy) {
      std::string bank_id = api.backend().model->Read([&](const projections::ReadModel& m) {
        const auto* u = m.FindUser(user);
        return u ? u->bank_id : std::string();
      });
      if (bank_id.empty()) return reply->Send(ErrorResponse(401, "not signed in"));
      // amount, price <= 10^9 each, so the product fits in int64.
      switch (api.backend().credit->Check(bank_id, amount * price)) {
        case CreditCheck::Outcome::kOk:
          break;
        case CreditCheck::Outcome::kInsufficient: {
          // Recorded so the shipper logs buy.error; the refusal does not wait for the matcher.
          if (!api.AppendCommand(
                  events::BuyCreditRefused{user, amount, price, kInsufficientCredit})) {
            return reply->Send(ErrorResponse(503, "could not record the request"));
          }
          return reply->Send(ErrorResponse(400, kInsufficientCredit));
        }
        case CreditCheck::Outcome::kNoSuchAccount:
          return reply->Send(ErrorResponse(400, "銀行口座が見つからないため残高を確認できません"));
        case CreditCheck::Outcome::kUnavailable:
          return reply->Send(ErrorResponse(503, "the bank is unavailable; try again"));
      }
    }
    auto offset = api.AppendCommand(events::OrderPlaced{user, side, amount, price});
    if (!offset) return reply->Send(ErrorResponse(503, "could not record the request"));
    auto answer = Await(api, *offset, reply);
    if (!answer) return;
    if (const auto* a = std::get_if<events::OrderAccepted>(&answer->body)) {
      return reply->Send(JsonResponse(200, "{\"id\":" + std::to_string(a->order_id) + "}"));
    }
    if (const auto* r = std::get_if<events::CommandRejected>(&answer->body)) {
      return reply->Send(ErrorResponse(400, r->reason));
    }
    reply->Send(ErrorResponse(500, "internal error"));
  });
}

void HandleDeleteOrder(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto user = api.SessionUser(req);
  if (!user) return reply->Send(ErrorResponse(401, "not signed in"));
  constexpr std::string_view kPrefix = "/order/";
  std::string_view id_text = std::string_view(req.path).substr(kPrefix.size());
  // Not a positive 64-bit integer: no order can have that id.
  auto order_id = ParseInt(id_text, 1, std::numeric_limits<std::int64_t>::max());
  if (!order_id) return reply->Send(ErrorResponse(404, "order not found"));
  api.RunAsync(reply, [&api, user = *user, id = *order_id](const ReplyPtr& reply) {
    auto offset = api.AppendCommand(events::CancelRequested{user, id});
    if (!offset) return reply->Send(ErrorResponse(503, "could not record the request"));
    auto answer = Await(api, *offset, reply);
    if (!answer) return;
    if (std::holds_alternative<events::OrderCancelled>(answer->body)) {
      return reply->Send(JsonResponse(200, "{\"id\":" + std::to_string(id) + "}"));
    }
    if (std::holds_alternative<events::CancelRejected>(answer->body)) {
      return reply->Send(ErrorResponse(404, "order not found, not yours, or already closed"));
    }
    if (const auto* r = std::get_if<events::CommandRejected>(&answer->body)) {
      return reply->Send(ErrorResponse(400, r->reason));
    }
    reply->Send(ErrorResponse(500, "internal error"));
  });
}

void HandleGetOrders(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto user = api.SessionUser(req);
  if (!user) return reply->Send(ErrorResponse(401, "not signed in"));
  auto rows = api.backend().model->Read([&](const projections::ReadModel& m) {
    return CollectOrders(m, m.OrdersOf(*user));
  });
  reply->Send(JsonResponse(200, OrdersJson(rows, api.options().utc_offset_seconds)));
}

}  // namespace isucoin::api
