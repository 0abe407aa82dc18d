// GET /info and GET /metrics.
#include <limits>

#include "api/api_context.h"
#include "api/form.h"
#include "api/json_views.h"

namespace isucoin::api {

void HandleInfo(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  // Pistache 0.0.5 leaves query values percent-encoded: decode here, with the form rules.
  FormResult query = ParseForm(req.query);
  if (!query.ok()) return reply->Send(ErrorResponse(400, query.error));
  events::Id cursor = 0;
  if (const std::string* c = query.Find("cursor"); c != nullptr && !c->empty()) {
    auto v = ParseInt(*c, 0, std::numeric_limits<std::int64_t>::max());
    if (!v) return reply->Send(ErrorResponse(400, "cursor must be a non-negative integer"));
    cursor = *v;
  }
  auto user = api.SessionUser(req);
  auto shared = api.Info();
  std::string body = "{\"cursor\":" + std::to_string(shared->cursor);
  if (user) {
    // Capped at the answer's cursor: a trade past it is returned by the next poll, whose
    // request cursor is this answer's (settled_cursor() only passes fully settled prefixes).
    auto rows = api.backend().model->Read([&](const projections::ReadModel& m) {
      auto orders = m.TradedOrdersSince(*user, cursor);
      std::erase_if(orders, [&](const projections::OrderView& o) {
        return !o.trade_id || *o.trade_id > shared->cursor;
      });
      return CollectOrders(m, orders);
    });
    body += ",\"traded_orders\":" + OrdersJson(rows, api.options().utc_offset_seconds);
  }
  body += ",";
  body += shared->fragment;
  bool share = user && (*user % 10) < api.options().share_ratio;
  body += share ? ",\"enable_share\":true}" : ",\"enable_share\":false}";
  reply->Send(JsonResponse(200, std::move(body)));
}

void HandleMetrics(ApiContext& api, const HttpRequest&, ReplyPtr reply) {
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = api.metrics().Render();
  reply->Send(std::move(r));
}

}  // namespace isucoin::api
