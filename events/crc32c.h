// CRC-32C (Castagnoli), the checksum of FileLog frames: chosen over CRC-32 because x86-64
// (SSE4.2) and ARMv8 compute it in hardware, which keeps checksumming off the read path's
// critical cost. A portable table version is used when the CPU lacks the instruction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace isucoin::events {

// Extends `crc` (the value of an earlier call, or 0 to start) over `n` bytes of `data`.
std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t n);

inline std::uint32_t Crc32c(const void* data, std::size_t n) { return Crc32cExtend(0, data, n); }

}  // namespace isucoin::events
