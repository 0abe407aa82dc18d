// POST /initialize, /signup, /signin, /signout (SPEC.md; commands/MATCHING.md for the answers).
#include <nlohmann/json.hpp>

#include "api/api_context.h"
#include "api/form.h"
#include "api/password.h"

namespace isucoin::api {

namespace {

// The form, or a 400 already sent.
std::optional<FormResult> Form(const HttpRequest& req, const ReplyPtr& reply) {
  FormResult form = ParseForm(req.body);
  if (!form.ok()) {
    reply->Send(ErrorResponse(400, form.error));
    return std::nullopt;
  }
  return form;
}

// The event answering the command at `offset`; sends 503 and returns nullopt on timeout.
std::optional<events::Event> Await(ApiContext& api, std::uint64_t offset,
                                   std::chrono::milliseconds timeout, const ReplyPtr& reply) {
  auto answer = api.backend().model->WaitForAnswer(offset, timeout);
  if (!answer) {
    // The command is durable and will still be applied; the client just was not told.
    reply->Send(ErrorResponse(503, "the exchange did not answer in time; try again"));
  }
  return answer;
}

std::string SessionCookieHeader(const std::string& value, bool clear) {
  std::string h = std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Lax";
  if (clear) h += "; Max-Age=0";
  return h;
}

}  // namespace

void HandleInitialize(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto form = Form(req, reply);
  if (!form) return;
  events::ServiceEndpoints endpoints;
  const std::pair<const char*, std::string*> fields[] = {
      {"bank_endpoint", &endpoints.bank_endpoint},
      {"bank_appid", &endpoints.bank_appid},
      {"log_endpoint", &endpoints.log_endpoint},
      {"log_appid", &endpoints.log_appid}};
  for (const auto& [name, target] : fields) {
    const std::string* v = form->Find(name);
    if (v == nullptr || v->empty()) {
      reply->Send(ErrorResponse(400, std::string(name) + " is required"));
      return;
    }
    *target = *v;
  }
  api.RunAsync(reply, [&api, endpoints](const ReplyPtr& reply) {
    auto offset = api.AppendCommand(events::ResetRequested{endpoints});
    if (!offset) return reply->Send(ErrorResponse(503, "could not record the request"));
    auto answer = Await(api, *offset, api.options().initialize_timeout, reply);
    if (!answer) return;
    if (std::holds_alternative<events::ExchangeReset>(answer->body)) {
      return reply->Send(JsonResponse(200, "{}"));
    }
    reply->Send(ErrorResponse(500, "initialize failed"));
  });
}

void HandleSignup(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto form = Form(req, reply);
  if (!form) return;
  const std::string* name = form->Find("name");
  const std::string* bank_id = form->Find("bank_id");
  const std::string* password = form->Find("password");
  if (!name || !bank_id || !password || name->empty() || bank_id->empty() ||
      password->empty()) {
    return reply->Send(ErrorResponse(400, "name, bank_id and password are required"));
  }
  // bcrypt reads at most 72 bytes; a longer password would silently match its prefix.
  if (password->size() > 72) {
    return reply->Send(ErrorResponse(400, "password is longer than 72 bytes"));
  }
  api.RunAuthAsync(reply, [&api, n = *name, b = *bank_id, p = *password](const ReplyPtr& reply) {
    switch (api.backend().credit->Check(b, 0)) {
      case CreditCheck::Outcome::kOk:
      case CreditCheck::Outcome::kInsufficient:  // cannot happen for 0; the account exists
        break;
      case CreditCheck::Outcome::kNoSuchAccount:
        return reply->Send(ErrorResponse(404, "bank account not found"));
      case CreditCheck::Outcome::kUnavailable:
        return reply->Send(ErrorResponse(503, "the bank is unavailable; try again"));
    }
    auto hash = HashPassword(p, api.options().bcrypt_cost);
    if (!hash) return reply->Send(ErrorResponse(500, "internal error"));
    auto offset = api.AppendCommand(events::SignupRequested{n, b, *hash});
    if (!offset) return reply->Send(ErrorResponse(503, "could not record the request"));
    auto answer = Await(api, *offset, api.options().answer_timeout, reply);
    if (!answer) return;
    if (std::holds_alternative<events::UserRegistered>(answer->body)) {
      return reply->Send(JsonResponse(200, "{}"));
    }
    if (std::holds_alternative<events::SignupRejected>(answer->body)) {
      return reply->Send(ErrorResponse(409, "bank_id is already registered"));
    }
    if (const auto* r = std::get_if<events::CommandRejected>(&answer->body)) {
      return reply->Send(ErrorResponse(400, r->reason));
    }
    reply->Send(ErrorResponse(500, "internal error"));
  });
}

void HandleSignin(ApiContext& api, const HttpRequest& req, ReplyPtr reply) {
  auto form = Form(req, reply);
  if (!form) return;
  const std::string* bank_id = form->Find("bank_id");
  const std::string* password = form->Find("password");
  if (!bank_id || !password || bank_id->empty() || password->empty()) {
    return reply->Send(ErrorResponse(400, "bank_id and password are required"));
  }
  api.RunAuthAsync(reply, [&api, b = *bank_id, p = *password](const ReplyPtr& reply) {
    auto find_hash = [&] {
      return api.backend().model->Read(
          [&](const projections::ReadModel& m) -> std::optional<std::string> {
            const auto* u = m.FindUserByBankId(b);
            if (u == nullptr) return std::nullopt;
            return u->password_hash;
          });
    };
    auto hash = find_hash();
    // Signed up through another node a moment ago? Not a failed attempt to count.
    if (!hash && api.CatchUp()) hash = find_hash();
    // Verify against a dummy hash for unknown users: same cost, same answer, same time.
    bool ok = VerifyPassword(p, hash ? *hash : api.dummy_hash()) && hash.has_value();
    auto offset = api.AppendCommand(events::SigninRecorded{b, ok});
    if (!offset) return reply->Send(ErrorResponse(503, "could not record the request"));
    auto answer = Await(api, *offset, api.options().answer_timeout, reply);
    if (!answer) return;
    if (const auto* s = std::get_if<events::SigninSucceeded>(&answer->body)) {
      std::string name = api.backend().model->Read([&](const projections::ReadModel& m) {
        const auto* u = m.FindUser(s->user_id);
        return u ? u->name : std::string();
      });
      auto lifetime = std::chrono::duration_cast<std::chrono::microseconds>(
                          api.options().session_lifetime).count();
      std::string cookie = api.sessions().Sign(s->user_id, api.backend().now() + lifetime);
      HttpResponse r = JsonResponse(
          200, nlohmann::ordered_json{{"id", s->user_id}, {"name", name}}.dump(
                   -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
      r.headers.emplace_back("Set-Cookie", SessionCookieHeader(cookie, false));
      return reply->Send(std::move(r));
    }
    if (std::holds_alternative<events::SigninFailed>(answer->body)) {
      return reply->Send(ErrorResponse(404, "bank_id or password is not correct"));
    }
    if (std::holds_alternative<events::SigninBlocked>(answer->body)) {
      return reply->Send(ErrorResponse(403, "too many failed sign-ins; try again later"));
    }
    if (const auto* r = std::get_if<events::CommandRejected>(&answer->body)) {
      return reply->Send(ErrorResponse(400, r->reason));
    }
    reply->Send(ErrorResponse(500, "internal error"));
  });
}

void HandleSignout(ApiContext&, const HttpRequest&, ReplyPtr reply) {
  HttpResponse r = JsonResponse(200, "{}");
  r.headers.emplace_back("Set-Cookie", SessionCookieHeader("", true));
  reply->Send(std::move(r));
}

}  // namespace isucoin::api
