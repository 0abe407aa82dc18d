// isucoin log: operator tools for a FileLog directory. `verify` reads every segment and
// checks every record without changing anything — safe on a live log, and what to run when
// Open refuses a log as corrupt.
#include <cstdio>
#include <cstring>
#include <string>

#include "app/subcommands.h"
#include "events/file_log.h"

namespace isucoin::app {
namespace {

void PrintLogUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: isucoin log verify DIR\n\n"
               "  verify DIR   check every segment and record checksum of the FileLog in DIR;\n"
               "               prints records, segments and the first problem (segment file,\n"
               "               byte position, log offset). Modifies nothing.\n\n"
               "exit status: 0 clean (a torn tail, which the next writer open cuts back, is\n"
               "reported but clean), 1 corruption or unreadable, 2 usage.\n");
}

}  // namespace

int LogCommand(int argc, char** argv) {
  if (argc >= 1 && (std::strcmp(argv[0], "--help") == 0 || std::strcmp(argv[0], "-h") == 0)) {
    PrintLogUsage(stdout);
    return 0;
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
