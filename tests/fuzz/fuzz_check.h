// Property checks for the fuzz targets. A broken property aborts: libFuzzer saves the input as a
// crash reproducer, and the corpus replay (replay_main.cc) fails its ctest. Plain assert() would
// vanish in the NDEBUG builds CI makes.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
