// Where an exchange's two logs live, named by one `--log` value (DESIGN.md "Process layout"):
//
//   DIR  or  file:DIR                        FileLog in DIR/commands and DIR/events: the
//                                            embedded default, one machine, one writer per log
//   kafka://HOST:PORT[,HOST:PORT...]/PREFIX[?PROPERTY=VALUE&...]
//                                            KafkaLog on the topics PREFIX.commands and
//                                            PREFIX.events (events/KAFKA.md): separate
//                                            processes on many machines. The query sets
//                                            librdkafka properties of every client (TLS, SASL,
//                                            fetch.wait.max.ms, ...), percent-decoded
//
// Every subcommand that reads or writes the logs opens them here, so `serve` and the separate
// processes run the same components over either backend.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/log.h"
#include "events/status.h"

namespace isucoin::app {

struct LogLocation {
  enum class Kind { kFile, kKafka };
  Kind kind = Kind::kFile;
  std::string dir;      // kFile
  std::string brokers;  // kKafka: bootstrap servers, "host:port,host:port"
  std::string prefix;   // kKafka: topic prefix
  std::vector<std::pair<std::string, std::string>> kafka_config;  // kKafka: from the query

  bool is_kafka() const { return kind == Kind::kKafka; }
  std::string ToString() const;
  // The topic whose consumer group elects the active matcher (app/matcher_command.cc):
  // one partition, never written.
  std::string matcher_lease_topic() const { return prefix + ".matcher"; }
};

// Invalid (naming what is wrong) for an empty value, an unknown scheme, a kafka:// URL without
// brokers or prefix, or a prefix Kafka would not accept as part of a topic name.
Result<LogLocation> ParseLogLocation(std::string_view text);

// The subcommands' `--data DIR [--log URL]`: the logs at URL when given, else in DIR (the
// embedded layout). Invalid when neither is given.
Result<LogLocation> LogLocationFor(const std::string& data_dir, const std::string& log_url);

// Which logs this process appends to. FileLog opens the others read-only (no writer lock, so
// they can be followed while another process writes them); on Kafka any process may produce.
struct LogAccess {
  bool write_commands = false;
  bool write_events = false;
  // Followers of the events log alone (ship, project): the commands log is not opened, and
  // ExchangeLogs::commands stays null.
  bool events_only = false;
  // Appends multi-record batches to the commands log while other processes append too
  // (settlement reports beside the api nodes). On Kafka the producer then lingers 1 ms so a
  // batch leaves as one MessageSet and stays contiguous (events/KAFKA.md "Appends"); single
  // record appenders skip that millisecond.
  bool batches_commands = false;
};

struct ExchangeLogs {
  std::string location;  // LogLocation::ToString(), for messages
  std::unique_ptr<events::Log> commands;
  std::unique_ptr<events::Log> events;
  // Closes both (flushing what the writer holds); the first error, if any.
  Status Close();
};

Result<ExchangeLogs> OpenExchangeLogs(const LogLocation& where, LogAccess access);

// Both steps for the subcommands' `--data DIR [--log URL]`; a failure to open names the
// location. Invalid when neither is given or the URL is malformed (a usage error).
Result<ExchangeLogs> OpenExchangeLogsFor(const std::string& data_dir, const std::string& log_url,
                                         LogAccess access);

}  // namespace isucoin::app
