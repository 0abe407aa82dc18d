#include "app/exchange_logs.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "events/file_log.h"
#include "events/kafka_log.h"

namespace isucoin::app {

namespace {

constexpr std::string_view kFileScheme = "file:";
constexpr std::string_view kKafkaScheme = "kafka://";

// Kafka topic names allow [a-zA-Z0-9._-] (up to 249 characters, with the suffix).
bool ValidTopicPrefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= 200 &&
         std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '.' || c == '_' || c == '-';
         });
}

// "%2F" -> "/", "+" stays "+" (librdkafka values such as SASL passwords may hold one).
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

}  // namespace

std::string LogLocation::ToString() const {
  // Without the query: it may hold credentials, and this goes to logs.
  if (is_kafka()) return std::string(kKafkaScheme) + brokers + "/" + prefix;
  return std::string(kFileScheme) + dir;
}

Result<LogLocation> ParseLogLocation(std::string_view text) {
  LogLocation where;
  if (text.starts_with(kKafkaScheme)) {
    std::string_view rest = text.substr(kKafkaScheme.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
      return Status::Invalid("log '" + std::string(text) +
                             "': expected kafka://HOST:PORT[,HOST:PORT...]/PREFIX");
    }
    where.kind = LogLocation::Kind::kKafka;
    where.brokers = std::string(rest.substr(0, slash));
    std::string_view path = rest.substr(slash + 1);
    if (const auto q = path.find('?'); q != std::string_view::npos) {
      std::string_view query = path.substr(q + 1);
      path = path.substr(0, q);
      while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = pair.find('=');
        auto key = PercentDecode(pair.substr(0, eq));
        auto value = eq == std::string_view::npos ? std::nullopt : PercentDecode(pair.substr(eq + 1));
        if (!key || key->empty() || !value) {
          return Status::Invalid("log '" + where.ToString() + "': query part '" +
                                 std::string(pair) + "' is not PROPERTY=VALUE (percent-encoded)");
        }
        where.kafka_config.emplace_back(std::move(*key), std::move(*value));
      }
    }
    where.prefix = std::string(path);
    if (!ValidTopicPrefix(where.prefix)) {
      return Status::Invalid("log '" + where.ToString() + "': topic prefix '" + where.prefix +
                             "' must be 1-200 characters of [a-zA-Z0-9._-]");
    }
    return where;
  }
  if (text.find("://") != std::string_view::npos) {
    return Status::Invalid("log '" + std::string(text) +
                           "': unknown scheme (use a directory, file:DIR or kafka://BROKERS/PREFIX)");
  }
  if (text.starts_with(kFileScheme)) text.remove_prefix(kFileScheme.size());
  if (text.empty()) return Status::Invalid("log: empty directory");
  where.dir = std::string(text);
  return where;
}

Result<LogLocation> LogLocationFor(const std::string& data_dir, const std::string& log_url) {
  if (!log_url.empty()) return ParseLogLocation(log_url);
  if (data_dir.empty()) return Status::Invalid("give --data DIR or --log URL");
  return LogLocation{.dir = data_dir};
}

Status ExchangeLogs::Close() {
  Status first;
  for (auto* log : {events.get(), commands.get()}) {
    if (log == nullptr) continue;
    Status s = log->Close();
    if (first.ok()) first = s;
  }
  return first;
}

Result<ExchangeLogs> OpenExchangeLogs(const LogLocation& where, LogAccess access) {
  ExchangeLogs logs;
  logs.location = where.ToString();
  if (!where.is_kafka()) {
    if (!access.events_only) {
      auto commands = events::FileLog::Open(where.dir + "/commands",
                                            {.read_only = !access.write_commands});
      if (!commands.ok()) return commands.status();
      logs.commands = std::move(commands).value();
    }
    auto evts = events::FileLog::Open(where.dir + "/events", {.read_only = !access.write_events});
    if (!evts.ok()) return evts.status();
    logs.events = std::move(evts).value();
    return logs;
  }
  const events::KafkaTopicNames topics = events::KafkaTopicsFor(where.prefix);
  auto open = [&](const std::string& topic, bool linger) {
    events::KafkaLogOptions options;
    options.bootstrap_servers = where.brokers;
    options.topic = topic;
    options.config = where.kafka_config;  // librdkafka rejects an unknown one at Open
    if (linger) options.producer_config = {{"linger.ms", "1"}};
    return events::KafkaLog::Open(options);
  };
  if (!access.events_only) {
    auto commands = open(topics.commands, access.batches_commands);
    if (!commands.ok()) return commands.status();
    logs.commands = std::move(commands).value();
  }
  auto evts = open(topics.events, false);
  if (!evts.ok()) return evts.status();
  logs.events = std::move(evts).value();
  return logs;
}

Result<ExchangeLogs> OpenExchangeLogsFor(const std::string& data_dir, const std::string& log_url,
                                         LogAccess access) {
  auto where = LogLocationFor(data_dir, log_url);
  if (!where.ok()) return where.status();
  auto logs = OpenExchangeLogs(where.value(), access);
  if (!logs.ok()) {
    const Status& s = logs.status();
    // Keeps the code (Busy, Unavailable, ...) but not Invalid: that one means a usage error.
    if (s.code() == Status::Code::kInvalid) {
      return Status::IOError(where.value().ToString() + ": " + s.message());
    }
    return s.WithContext(where.value().ToString());
  }
  return logs;
}

}  // namespace isucoin::app
