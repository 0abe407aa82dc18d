// isucoin log: operator tools for a FileLog directory. `verify` reads every segment and
// checks every record without changing anything — safe on a live log, and what to run when
// Open refuses a log as corrupt.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/subcommands.h"
#include "events/file_log.h"

namespace isucoin::app {
namespace {

void PrintLogUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin log verify DIR\n"
               "       isucoin log dump DIR [FROM]\n"
               "       isucoin log append DIR < records\n\n"
               "  verify DIR   check every segment and record checksum of the FileLog in DIR;\n"
               "               prints records, segments and the first problem (segment file,\n"
               "               byte position, log offset). Modifies nothing.\n"
               "  dump DIR     print the records from offset FROM (default 0), one per line,\n"
               "               as OFFSET<TAB>PAYLOAD. Read-only: safe beside the writer.\n"
               "  append DIR   append each line of stdin as one record, in one durable batch\n"
               "               (takes the writer lock: not beside a running writer).\n\n"
               "exit status: 0 clean (a torn tail, which the next writer open cuts back, is\n"
               "reported but clean), 1 corruption or unreadable, 2 usage.\n");
}

int Dump(const std::string& dir, events::Offset from) {
  auto log = events::FileLog::Open(dir, {.read_only = true});
  if (!log.ok()) {
    std::fprintf(stderr, "isucoin log dump: %s\n", log.status().ToString().c_str());
    return 1;
  }
  for (;;) {
    auto batch = log.value()->Read(from, 4096);
    if (!batch.ok()) {
      std::fprintf(stderr, "isucoin log dump: %s\n", batch.status().ToString().c_str());
      return 1;
    }
    if (batch.value().empty()) return 0;
    for (const auto& r : batch.value()) {
      std::printf("%llu\t%s\n", static_cast<unsigned long long>(r.offset), r.payload.c_str());
    }
    from = batch.value().back().offset + 1;
  }
}

int Append(const std::string& dir) {
  std::vector<std::string> records;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty()) records.push_back(std::move(line));
  }
  auto log = events::FileLog::Open(dir);
  if (!log.ok()) {
    std::fprintf(stderr, "isucoin log append: %s\n", log.status().ToString().c_str());
    return 1;
  }
  auto first = log.value()->Append(records);
  if (!first.ok()) {
    std::fprintf(stderr, "isucoin log append: %s\n", first.status().ToString().c_str());
    return 1;
  }
  std::printf("appended %zu records at offsets %llu..%llu\n", records.size(),
              static_cast<unsigned long long>(first.value()),
              static_cast<unsigned long long>(first.value() + records.size()) - 1);
  return log.value()->Close().ok() ? 0 : 1;
}

}  // namespace

int LogCommand(int argc, char** argv) {
  if (argc >= 1 && (std::strcmp(argv[0], "--help") == 0 || std::strcmp(argv[0], "-h") == 0)) {
    PrintLogUsage(stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[0], "append") == 0) return Append(argv[1]);
  if ((argc == 2 || argc == 3) && std::strcmp(argv[0], "dump") == 0) {
    char* end = nullptr;
    unsigned long long from = argc == 3 ? std::strtoull(argv[2], &end, 10) : 0;
    if (argc == 3 && (end == argv[2] || *end != '\0')) {
      PrintLogUsage(stderr);
      return 2;
    }
    return Dump(argv[1], from);
  }
  if (argc != 2 || std::strcmp(argv[0], "verify") != 0) {
    PrintLogUsage(stderr);
    return 2;
  }
  const std::string dir = argv[1];
  const events::LogVerifyReport report = events::FileLog::Verify(dir);
  std::printf("log %s: %llu records in %llu segments (%llu bytes)\n", dir.c_str(),
              static_cast<unsigned long long>(report.records),
              static_cast<unsigned long long>(report.segments),
              static_cast<unsigned long long>(report.bytes));
  if (report.torn_tail) {
    std::printf("torn tail (not acknowledged; the next writer open truncates it): %s\n",
                report.torn_tail->c_str());
  }
  if (!report.ok()) {
    std::printf("FAILED: %s\n", report.status.ToString().c_str());
    if (report.status.code() == Status::Code::kCorruption) {
      std::printf("records up to offset %llu are intact; nothing was changed\n",
                  static_cast<unsigned long long>(report.records));
    }
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

}  // namespace isucoin::app
