// Runs a fuzz target's LLVMFuzzerTestOneInput over every file of the given corpus directories
// (or single files), so an ordinary gcc build replays the committed seeds and crash
// reproducers as a ctest without libFuzzer or clang. A violated property aborts the process.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> InputsOf(const std::filesystem::path& arg) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(arg)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  } else {
    files.push_back(arg);
  }
  std::sort(files.begin(), files.end());  // a stable order makes a failure easy to re-run
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::filesystem::exists(argv[i])) {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
    for (const auto& file : InputsOf(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // A copy of exactly `size` bytes, so an over-read trips a sanitizer as under libFuzzer.
      std::vector<std::uint8_t> input(bytes.begin(), bytes.end());
      std::fprintf(stderr, "replay %s (%zu bytes)\n", file.c_str(), input.size());
      LLVMFuzzerTestOneInput(input.data(), input.size());
      ++count;
    }
  }
  if (count == 0) {
    std::fprintf(stderr, "no inputs found\n");
    return 2;
  }
  std::printf("replayed %zu inputs, every property held\n", count);
  return 0;
}
