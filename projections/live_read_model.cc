#include "projections/live_read_model.h"

namespace isucoin::projections {

using namespace isucoin::events;

std::optional<std::uint64_t> AnsweredRequest(const Event& e) {
  return std::visit(
      [&](const auto& body) -> std::optional<std::uint64_t> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, OrderCancelled>) {
          return body.request;  // absent for automatic cancels
        } else if constexpr (std::is_same_v<T, CancelRejected>) {
          return body.request;
        } else if constexpr (std::is_same_v<T, UserRegistered> ||
                             std::is_same_v<T, SignupRejected> ||
                             std::is_same_v<T, SigninSucceeded> ||
                             std::is_same_v<T, SigninFailed> ||
                             std::is_same_v<T, SigninBlocked> ||
                             std::is_same_v<T, OrderAccepted> || std::is_same_v<T, BuyRejected> ||
                             std::is_same_v<T, ExchangeReset> ||
                             std::is_same_v<T, CommandRejected>) {
          return e.seq.cause;
        } else {
          return std::nullopt;  // matches, trades, settlements, CancelDeferred, genesis
        }
      },
      e.body);
}

LiveReadModel::LiveReadModel(Options options)
    : options_(options), model_(options.utc_offset_seconds) {
  RebuildInfoLocked();
}

void LiveReadModel::Apply(const std::vector<Event>& events) {
  std::vector<std::pair<std::uint64_t, const Event*>> answered;
  {
    std::unique_lock lock(mu_);
    for (const Event& e : events) {
      if (!model_.Apply(e)) continue;  // a duplicate: applied (and answered) before
      changed_since_info_ = true;
      if (auto request = AnsweredRequest(e)) answered.emplace_back(*request, &e);
    }
    if (changed_since_info_ &&
        std::chrono::steady_clock::now() - info_built_at_ >= options_.info_interval) {
      RebuildInfoLocked();
    }
  }
  if (answered.empty()) return;
  {
    std::lock_guard lock(answers_mu_);
    for (auto [request, event] : answered) answers_.try_emplace(request, *event);
    // Requests from other api nodes are answered here too and nobody claims them.
    while (answers_.size() > options_.max_unclaimed_answers) answers_.erase(answers_.begin());
  }
  answers_cv_.notify_all();
}

void LiveReadModel::RefreshInfo() {
  std::unique_lock lock(mu_);
  if (changed_since_info_) RebuildInfoLocked();
}

void LiveReadModel::RebuildInfoLocked() {
  auto info = std::make_shared<InfoShared>();
  info->cursor = model_.settled_cursor();
  info->chart_by_sec = model_.Chart(ChartResolution::kSecond);
  info->chart_by_min = model_.Chart(ChartResolution::kMinute);
  info->chart_by_hour = model_.Chart(ChartResolution::kHour);
  info->lowest_sell_price = model_.lowest_sell_price();
  info->highest_buy_price = model_.highest_buy_price();
  std::lock_guard lock(info_mu_);
  info->version = info_ ? info_->version + 1 : 1;
  info_ = std::move(info);
  info_built_at_ = std::chrono::steady_clock::now();
  changed_since_info_ = false;
}

std::shared_ptr<const InfoShared> LiveReadModel::info() const {
  std::lock_guard lock(info_mu_);
  return info_;
}

std::optional<Event> LiveReadModel::WaitForAnswer(std::uint64_t request,
                                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(answers_mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto it = answers_.find(request);
    if (it != answers_.end()) {
      Event answer = std::move(it->second);
      answers_.erase(it);
      return answer;
    }
    if (answers_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = answers_.find(request);
      if (it == answers_.end()) return std::nullopt;
    }
  }
}

}  // namespace isucoin::projections
