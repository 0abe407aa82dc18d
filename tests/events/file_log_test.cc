// FileLog: the conformance suite, plus what only an embedded file log has — segments, the
// sparse index, the writer lock, read-only opens, and what it does with bad bytes on disk.
#include "events/file_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "events/log_segment.h"
#include "tests/events/log_conformance.h"

namespace isucoin::events {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// One directory for every conformance log of this process, removed at exit.
const std::string& ConformanceRoot() {
  static const std::string root = MakeTempDir("filelog-conformance-");
  return root;
}
class RemoveConformanceRoot : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(ConformanceRoot(), ec);
  }
};
[[maybe_unused]] const auto* const kRemoveRoot =
    ::testing::AddGlobalTestEnvironment(new RemoveConformanceRoot);

conformance::LogBackendFactory FileLogFactory(std::string name, FileLogOptions options) {
  return {
      std::move(name),
      [options](const std::string& key) -> std::unique_ptr<Log> {
        auto log = FileLog::Open(ConformanceRoot() + "/" + key, options);
        if (!log.ok()) {
          ADD_FAILURE() << log.status().ToString();
          return nullptr;
        }
        return std::move(log).value();
      },
      [](const std::string& key) {
        std::error_code ec;
        fs::remove_all(ConformanceRoot() + "/" + key, ec);
      },
  };
}

FileLogOptions TinySegments() {
  FileLogOptions o;
  o.segment_bytes = 1024;  // rolls every few records: every test crosses segments
  o.index_interval_bytes = 64;
  return o;
}

INSTANTIATE_TEST_SUITE_P(FileLog, LogConformanceTest,
                         ::testing::Values(FileLogFactory("FileLog", FileLogOptions{}),
                                           FileLogFactory("FileLogTinySegments",
                                                          TinySegments())),
                         conformance::LogBackendName);

// ---------------------------------------------------------------------------------------------

class FileLogTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("filelog-test-"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<FileLog> OpenOrDie(FileLogOptions o = {}) {
    auto r = FileLog::Open(dir_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // Writes `n` records "r<i>" padded to `size` bytes, then closes the log.
  std::vector<std::string> Fill(int n, std::size_t size = 100, FileLogOptions o = {}) {
    auto log = OpenOrDie(o);
    std::vector<std::string> all;
    for (int i = 0; i < n; ++i) {
      std::string p = "r" + std::to_string(i);
      p.resize(size, '.');
      all.push_back(p);
    }
    for (std::size_t i = 0; i < all.size(); i += 7) {
      auto r = log->Append(std::span(all).subspan(i, std::min<std::size_t>(7, all.size() - i)));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
    EXPECT_TRUE(log->Close().ok());
    return all;
  }

  std::string Seg(Offset base) const { return dir_ + "/" + segment::FileName(base); }
  // Byte position of record `i` in the first segment when every payload is `size` bytes.
  static std::uint64_t PositionOf(int i, std::size_t size = 100) {
    return segment::kHeaderSize + static_cast<std::uint64_t>(i) * (segment::kFrameHeaderSize + size);
  }

  void Overwrite(const std::string& path, std::uint64_t at, const std::string& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at)),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  void FlipByte(const std::string& path, std::uint64_t at) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    in.get(c);
    Overwrite(path, at, std::string(1, static_cast<char>(c ^ 0x20)));
  }

  // Every file of the directory with its content, to prove something changed nothing.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out[e.path().filename().string()] = ss.str();
    }
    return out;
  }

  std::string dir_;
};

TEST_F(FileLogTest, SegmentsRollAtTheConfiguredSize) {
  FileLogOptions o;
  o.segment_bytes = 4096;
  const auto all = Fill(300, 100, o);  // ~32 KB of records
  std::vector<Offset> bases;
  for (const auto& e : fs::directory_iterator(dir_)) {
    Offset base = 0;
    if (segment::ParseFileName(e.path().filename().string(), &base)) bases.push_back(base);
  }
  std::sort(bases.begin(), bases.end());
  ASSERT_GE(bases.size(), 7u);
  EXPECT_EQ(bases[0], 0u);
  for (std::size_t i = 0; i + 1 < bases.size(); ++i) {
    // Closed once past the size; the group that crossed it (at most 7 records here) ends in it.
    const auto bytes = fs::file_size(Seg(bases[i]));
    EXPECT_GE(bytes, 4096u);
    EXPECT_LT(bytes, 4096u + 7 * 108);
  }
  auto log = OpenOrDie(o);
  EXPECT_EQ(log->segment_count(), bases.size());
  EXPECT_EQ(log->End(), 300u);
  auto r = log->Read(0, 1000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value().size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(r.value()[i].payload, all[i]);
  // Reads that start inside each segment and cross into the next.
  for (Offset b : bases) {
    if (b == 0) continue;
    auto rr = log->Read(b - 1, 3);
    ASSERT_TRUE(rr.ok()) << rr.status().ToString();
    ASSERT_EQ(rr.value().size(), 3u);
    EXPECT_EQ(rr.value()[0].payload, all[b - 1]);
    EXPECT_EQ(rr.value()[2].payload, all[b + 1]);
  }
}

// The index is observable through damage: a read far from a bad record never touches it,
// which it would if reads scanned from the start of the segment.
TEST_F(FileLogTest, SparseIndexSeeksWithoutScanningFromTheStart) {
  Fill(2000);  // one segment, ~216 KB: ~50 index entries at the default 4 KiB interval
  auto log = OpenOrDie();
  FlipByte(Seg(0), PositionOf(5) + 20);  // bit rot after open: the page cache shows it
  auto far = log->Read(1500, 10);
  ASSERT_TRUE(far.ok()) << far.status().ToString();
  ASSERT_EQ(far.value().size(), 10u);
  EXPECT_EQ(far.value()[0].offset, 1500u);
  EXPECT_EQ(far.value()[0].payload.substr(0, 6), "r1500.");
  auto near = log->Read(3, 10);
  ASSERT_FALSE(near.ok());
  EXPECT_EQ(near.status().code(), Status::Code::kCorruption);
  EXPECT_NE(near.status().message().find(segment::FileName(0)), std::string::npos);
  EXPECT_NE(near.status().message().find("byte " + std::to_string(PositionOf(5))),
            std::string::npos)
      << near.status().message();
  EXPECT_NE(near.status().message().find("log offset 5"), std::string::npos);
}

TEST_F(FileLogTest, SecondWriterIsBusyReadersAreNot) {
  auto writer = OpenOrDie();
  ASSERT_TRUE(writer->Append(std::vector<std::string>{"a", "b"}).ok());
  auto second = FileLog::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy);
  EXPECT_NE(second.status().message().find("already has a writer"), std::string::npos);
  EXPECT_NE(second.status().message().find(std::to_string(::getpid())), std::string::npos)
      << second.status().message();

  FileLogOptions ro;
  ro.read_only = true;
  auto reader = FileLog::Open(dir_, ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader.value()->End(), 2u);

  ASSERT_TRUE(writer->Close().ok());
  EXPECT_TRUE(FileLog::Open(dir_).ok());  // the lock goes with the writer
}

TEST_F(FileLogTest, ReadOnlyNeverWritesAndFollowsAnotherWriter) {
  FileLogOptions ro;
  ro.read_only = true;
  auto missing = FileLog::Open(dir_ + "/nope", ro);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(fs::exists(dir_ + "/nope"));

  Fill(10);
  const auto before = Snapshot();
  auto reader = FileLog::Open(dir_, ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto& r = *reader.value();
  EXPECT_EQ(r.End(), 10u);
  auto app = r.Append(std::vector<std::string>{"x"});
  ASSERT_FALSE(app.ok());
  EXPECT_EQ(app.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(Snapshot(), before);

  // The writer is "another process" as far as the reader knows: only the files connect them.
  FileLogOptions small;
  small.segment_bytes = 2048;
  auto writer = OpenOrDie(small);
  std::thread w([&] {
    for (int i = 0; i < 50; ++i) {
      std::string p = "late" + std::to_string(i);
      p.resize(100, '-');
      ASSERT_TRUE(writer->Append(std::span(&p, 1)).ok());
      std::this_thread::sleep_for(1ms);
    }
  });
  Offset next = 10;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (next < 60 && std::chrono::steady_clock::now() < deadline) {
    if (r.WaitFor(next, 1s) <= next) continue;
    auto got = r.Read(next, 100);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (auto& rec : got.value()) {
      ASSERT_EQ(rec.offset, next);
      EXPECT_EQ(rec.payload.substr(0, 4 + std::to_string(next - 10).size()),
                "late" + std::to_string(next - 10));
      ++next;
    }
  }
  w.join();
  EXPECT_EQ(next, 60u);
  EXPECT_GT(r.segment_count(), 1u);
}

TEST_F(FileLogTest, FlippedByteInTheMiddleIsCorruptionNamingSegmentAndOffset) {
  Fill(100);
  FlipByte(Seg(0), PositionOf(50) + 30);
  const auto before = Snapshot();
  auto log = FileLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption);
  const std::string& m = log.status().message();
  EXPECT_NE(m.find(Seg(0)), std::string::npos) << m;
  EXPECT_NE(m.find("byte " + std::to_string(PositionOf(50))), std::string::npos) << m;
  EXPECT_NE(m.find("log offset 50"), std::string::npos) << m;
  EXPECT_EQ(Snapshot(), before);  // a failed open changes nothing

  auto report = FileLog::Verify(dir_);
  EXPECT_EQ(report.status.code(), Status::Code::kCorruption);
  EXPECT_EQ(report.status.message(), m);
  EXPECT_EQ(report.records, 50u);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(FileLogTest, FlippedLengthFieldInTheMiddleIsCorruption) {
  Fill(100);
  Overwrite(Seg(0), PositionOf(40), std::string("\x00\x00\x10\x00", 4));  // claims 1 MiB
  auto log = FileLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption) << log.status().ToString();
  EXPECT_NE(log.status().message().find("log offset 40"), std::string::npos);
}

TEST_F(FileLogTest, DamagedTailOfAnOlderSegmentIsCorruptionNotATornTail) {
  FileLogOptions o;
  o.segment_bytes = 2048;
  Fill(100, 100, o);
  // The last record of the first segment: a torn tail there cannot be, the next segment
  // was created only after this one was synced whole.
  auto size = fs::file_size(Seg(0));
  FlipByte(Seg(0), size - 3);
  auto log = FileLog::Open(dir_, o);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption) << log.status().ToString();
  EXPECT_NE(log.status().message().find(Seg(0)), std::string::npos);

  fs::resize_file(Seg(0), size - 3);  // and cut short
  auto again = FileLog::Open(dir_, o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kCorruption) << again.status().ToString();
}

TEST_F(FileLogTest, RecordCutInHalfAtTheTailIsTruncatedToTheLastWholeRecord) {
  const auto all = Fill(100);
  const auto full = fs::file_size(Seg(0));
  fs::resize_file(Seg(0), full - 50);  // record 99 loses half its payload
  const auto before = Snapshot();
  auto report = FileLog::Verify(dir_);
  EXPECT_TRUE(report.ok()) << report.status.ToString();
  EXPECT_EQ(report.records, 99u);
  ASSERT_TRUE(report.torn_tail.has_value());
  EXPECT_NE(report.torn_tail->find("log offset 99"), std::string::npos) << *report.torn_tail;
  EXPECT_EQ(Snapshot(), before);  // verify only looks

  auto log = OpenOrDie();
  EXPECT_EQ(log->End(), 99u);
  EXPECT_EQ(log->truncated_bytes_on_open(), 108u - 50u);
  EXPECT_EQ(fs::file_size(Seg(0)), PositionOf(99));
  auto r = log->Append(std::vector<std::string>{"after the tear"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 99u);
  auto got = log->Read(97, 10);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().size(), 3u);
  EXPECT_EQ(got.value()[1].payload, all[98]);
  EXPECT_EQ(got.value()[2].payload, "after the tear");
}

TEST_F(FileLogTest, HeaderOnlyTailAndZeroFilledTailAreTorn) {
  Fill(10);
  const auto full = fs::file_size(Seg(0));
  fs::resize_file(Seg(0), full + 3);  // half a frame header
  {
    auto log = OpenOrDie();
    EXPECT_EQ(log->End(), 10u);
  }
  EXPECT_EQ(fs::file_size(Seg(0)), full);
  fs::resize_file(Seg(0), full + 8192);  // what a file system can show after a power loss
  auto log = OpenOrDie();
  EXPECT_EQ(log->End(), 10u);
  EXPECT_EQ(log->truncated_bytes_on_open(), 8192u);
}

TEST_F(FileLogTest, ZeroedPageInTheMiddleIsCorruption) {
  Fill(200);  // ~21.6 KB
  Overwrite(Seg(0), 8192, std::string(4096, '\0'));
  const auto before = Snapshot();
  auto log = FileLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption) << log.status().ToString();
  EXPECT_NE(log.status().message().find(Seg(0)), std::string::npos);
  // The first record the page touches: 8192 falls inside record (8192-32)/108 = 75.
  EXPECT_NE(log.status().message().find("log offset 75"), std::string::npos)
      << log.status().message();
  auto report = FileLog::Verify(dir_);
  EXPECT_EQ(report.status.code(), Status::Code::kCorruption);
  EXPECT_EQ(report.records, 75u);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(FileLogTest, DamagedHeaderAndMissingSegmentAreCorruption) {
  FileLogOptions o;
  o.segment_bytes = 2048;
  Fill(100, 100, o);
  std::vector<Offset> bases;
  for (const auto& e : fs::directory_iterator(dir_)) {
    Offset b = 0;
    if (segment::ParseFileName(e.path().filename().string(), &b)) bases.push_back(b);
  }
  std::sort(bases.begin(), bases.end());
  ASSERT_GE(bases.size(), 3u);
  FlipByte(Seg(bases[1]), 3);
  auto log = FileLog::Open(dir_, o);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption);
  EXPECT_NE(log.status().message().find(Seg(bases[1])), std::string::npos);

  fs::remove(Seg(bases[1]));
  auto gap = FileLog::Open(dir_, o);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), Status::Code::kCorruption);
  EXPECT_NE(gap.status().message().find("records are missing"), std::string::npos);
  EXPECT_EQ(FileLog::Verify(dir_).status.code(), Status::Code::kCorruption);
}

TEST_F(FileLogTest, VerifyCountsACleanLog) {
  FileLogOptions o;
  o.segment_bytes = 4096;
  Fill(123, 100, o);
  auto report = FileLog::Verify(dir_);
  EXPECT_TRUE(report.ok()) << report.status.ToString();
  EXPECT_EQ(report.records, 123u);
  EXPECT_GE(report.segments, 3u);
  EXPECT_FALSE(report.torn_tail.has_value());
  EXPECT_EQ(FileLog::Verify(dir_ + "/none").status.code(), Status::Code::kNotFound);
}

TEST_F(FileLogTest, OversizedRecordIsRejected) {
  auto log = OpenOrDie();
  std::vector<std::string> big(1, std::string(segment::kMaxPayload + 1, 'x'));
  auto r = log->Append(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(log->End(), 0u);
}

}  // namespace
}  // namespace isucoin::events
