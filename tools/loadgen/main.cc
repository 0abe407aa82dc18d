// loadgen: simulated ISUCOIN users and attackers against a running exchange (README.md).
#include <curl/curl.h>

#include "tools/loadgen/options.h"
#include "tools/loadgen/scenario.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = isucoin::loadgen::ParseOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int status = isucoin::loadgen::RunScenario(*options);
  curl_global_cleanup();
  return status;
}
