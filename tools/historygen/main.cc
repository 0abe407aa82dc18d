// historygen --data DIR [--events N]: writes a generated history (DIR/commands, DIR/events,
// FileLog) of at least N events (default 1,000,000) with the real matcher.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "events/file_log.h"
#include "tools/historygen/historygen.h"

int main(int argc, char** argv) {
  std::string dir;
  std::uint64_t events = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) dir = argv[++i];
    else if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) events = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: historygen --data DIR [--events N]\n");
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: historygen --data DIR [--events N]\n");
    return 2;
  }
  auto commands = isucoin::events::FileLog::Open(dir + "/commands");
  auto log = isucoin::events::FileLog::Open(dir + "/events");
  if (!commands.ok() || !log.ok()) {
    std::fprintf(stderr, "historygen: cannot open the logs in %s\n", dir.c_str());
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  isucoin::tools::HistoryGenerator gen(*commands.value(), *log.value());
  if (auto s = gen.Generate(events); !s.ok()) {
    std::fprintf(stderr, "historygen: %s\n", s.ToString().c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu commands, %llu events in %.1f s\n",
              static_cast<unsigned long long>(commands.value()->End()),
              static_cast<unsigned long long>(log.value()->End()), secs);
  (void)log.value()->Close();
  (void)commands.value()->Close();
  return 0;
}
