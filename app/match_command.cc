// isucoin match [FILE]: runs the matcher over a JSON-lines stream of encoded commands (one
// per line, offsets 0, 1, … in line order) and prints the encoded events, one per line.
// The same input always prints the same bytes: a quick way to replay or diff a session.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "app/subcommands.h"
#include "commands/exchange.h"
#include "events/codec.h"

namespace isucoin::app {

int MatchCommand(int argc, char** argv) {
  if (argc > 1 || (argc == 1 && (std::strcmp(argv[0], "--help") == 0))) {
    std::fprintf(stderr,
                 "usage: isucoin match [FILE]\n"
                 "Reads encoded commands (JSON lines) from FILE or stdin, prints the events the\n"
                 "matcher emits for them (JSON lines) and, on stderr, the final state hash.\n");
    return argc == 1 ? 0 : 2;
  }
  std::ifstream file;
  if (argc == 1) {
    file.open(argv[0]);
    if (!file) {
      std::fprintf(stderr, "isucoin match: cannot open %s: %s\n", argv[0], std::strerror(errno));
      return 1;
    }
  }
  std::istream& in = argc == 1 ? static_cast<std::istream&>(file) : std::cin;

  commands::Exchange exchange;
  std::vector<events::Event> out;
  std::string line;
  std::uint64_t offset = 0;
  for (std::uint64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    auto command = events::DecodeCommand(line, offset);
    if (!command.ok()) {
      std::fprintf(stderr, "isucoin match: line %llu: %s\n",
                   static_cast<unsigned long long>(line_no), command.status().message().c_str());
      return 1;
    }
    out.clear();
    exchange.apply(command.value(), out);
    for (const auto& event : out) std::cout << events::EncodeEvent(event) << '\n';
    ++offset;
  }
  std::cout.flush();
  std::fprintf(stderr, "commands %llu, open orders %zu, state hash %016llx\n",
               static_cast<unsigned long long>(offset), exchange.open_order_count(),
               static_cast<unsigned long long>(exchange.StateHash()));
  return 0;
}

}  // namespace isucoin::app
