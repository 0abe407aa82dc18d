// Fuzz target: records of the commands log — events::DecodeCommand (strict JSON codec) and
// events::DecodeCommandFast (the audit's fast path). Properties in codec_properties.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/codec_properties.h"

using namespace isucoin;

namespace {

struct CommandCodec {
  using Record = events::Command;
  static constexpr std::uint64_t kOffset = 42;  // any: it is the record's position, not encoded
  static inline const std::set<std::string> kFastTypes = {"OrderPlaced", "CancelRequested",
                                                          "ReservationsReported",
                                                          "CommitsReported"};
  static Result<Record> Decode(std::string_view p) { return events::DecodeCommand(p, kOffset); }
  static Result<Record> DecodeFast(std::string_view p) {
    return events::DecodeCommandFast(p, kOffset);
  }
  static bool TryFast(std::string_view p, Record& out) {
    return events::TryDecodeCommandFast(p, kOffset, out);
  }
  static std::string Encode(const Record& r) { return events::EncodeCommand(r); }
  static std::string TypeName(const Record& r) { return events::CommandTypeName(r.body); }
  static bool FastTakes(const Record&) { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::CheckCodec<CommandCodec>(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
