// The market journal: framing, group commit, torn tails, corruption, checkpoints.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <vector>

#include "market/journal.h"

namespace tph::market {
namespace {

namespace fs = std::filesystem;

//! A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("tph-journal-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<JournalRecord> all(const Journal& j, std::uint64_t after = 0) {
  std::vector<JournalRecord> out;
  EXPECT_TRUE(j.replay(after, [&](const JournalRecord& r) -> Status {
                 out.push_back(r);
                 return {};
               }).ok());
  return out;
}

std::unique_ptr<Journal> openOk(JournalOptions options) {
  auto j = Journal::open(std::move(options));
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error().message);
  return j.ok() ? std::move(j.value()) : nullptr;
}

TEST(MarketJournal, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  std::string long_text(1000, 'x');
  // Split computation equals one pass (the CRC chains).
  EXPECT_EQ(crc32c(crc32c(0, long_text.data(), 333), long_text.data() + 333, 667),
            crc32c(0, long_text.data(), 1000));
}

TEST(MarketJournal, CommittedRecordsSurviveReopenInOrder) {
  TempDir dir;
  {
    auto j = openOk({dir.path});
    EXPECT_EQ(j->append(1, "one").value(), 1u);
    EXPECT_EQ(j->append(2, "two").value(), 2u);
    EXPECT_EQ(j->durableSeq(), 0u);  // buffered, not durable
    ASSERT_TRUE(j->commit().ok());
    EXPECT_EQ(j->durableSeq(), 2u);
    EXPECT_EQ(j->append(3, std::string(5000, 'z')).value(), 3u);
    ASSERT_TRUE(j->commit().ok());
    (void)j->append(4, "never committed");  // lost with the process: never acknowledged
  }
  auto j = openOk({dir.path});
  EXPECT_EQ(j->report().last_seq, 3u);
  EXPECT_EQ(j->report().truncated_bytes, 0u);
  auto records = all(*j);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].payload, "one");
  EXPECT_EQ(records[1].type, 2);
  EXPECT_EQ(records[2].payload.size(), 5000u);
  EXPECT_EQ(all(*j, 2).size(), 1u);
  EXPECT_EQ(j->append(9, "next").value(), 4u);
}

TEST(MarketJournal, TornTailIsTruncatedOnOpen) {
  TempDir dir;
  {
    auto j = openOk({dir.path});
    for (int i = 0; i < 5; ++i) (void)j->append(1, "record " + std::to_string(i));
    ASSERT_TRUE(j->commit().ok());
  }
  auto file = segments(dir.path).back();
  auto good_size = fs::file_size(file);
  {  // a crash in the middle of writing the next group: half a frame
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write("\x20\x00\x00\x00\x11\x22", 6);
  }
  {
    auto j = openOk({dir.path});
    EXPECT_EQ(j->report().truncated_bytes, 6u);
    EXPECT_EQ(j->report().last_seq, 5u);
    EXPECT_EQ(fs::file_size(file), good_size);
    EXPECT_EQ(j->append(1, "after the crash").value(), 6u);
    ASSERT_TRUE(j->commit().ok());
  }
  {  // a damaged last record (its CRC no longer matches): cut off, the ones before stay
    std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
    io.seekp(static_cast<std::streamoff>(fs::file_size(file) - 2));
    io.write("!", 1);
  }
  auto j = openOk({dir.path});
  EXPECT_GT(j->report().truncated_bytes, 0u);
  auto records = all(*j);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records.back().payload, "record 4");
}

TEST(MarketJournal, DamageBeforeTheLastSegmentIsRefused) {
  TempDir dir;
  {
    auto j = openOk({dir.path, 256});  // tiny segments: a new one after every commit
    for (int i = 0; i < 6; ++i) {
      (void)j->append(1, std::string(300, static_cast<char>('a' + i)));
      ASSERT_TRUE(j->commit().ok());
    }
  }
  auto files = segments(dir.path);
  ASSERT_GE(files.size(), 3u);
  {
    std::fstream io(files[1], std::ios::binary | std::ios::in | std::ios::out);
    io.seekp(40);
    io.write("#", 1);
  }
  auto j = Journal::open({dir.path, 256});
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().message.find("corrupt"), std::string::npos) << j.error().message;
}

TEST(MarketJournal, AFailedSyncLeavesNothingDurableAndTheJournalFailed) {
  TempDir dir;
  bool fail = false;
  int syncs = 0;
  {
    auto j = openOk({dir.path, kJournalSegmentMaxBytes, [&](int fd) {
                       ++syncs;
                       return !fail && ::fdatasync(fd) == 0;
                     }});
    (void)j->append(1, "durable");
    ASSERT_TRUE(j->commit().ok());
    fail = true;
    (void)j->append(1, "in the failed group");
    EXPECT_FALSE(j->commit().ok());
    EXPECT_TRUE(j->failed());
    EXPECT_EQ(j->durableSeq(), 1u);
    EXPECT_FALSE(j->append(1, "later").ok());
    EXPECT_FALSE(j->commit().ok());
  }
  EXPECT_GE(syncs, 3);
  // Reopened, whatever reached the disk is there; only record 1 was ever reported durable.
  auto j = openOk({dir.path});
  auto records = all(*j);
  ASSERT_GE(records.size(), 1u);
  EXPECT_EQ(records[0].payload, "durable");
}

TEST(MarketJournal, ACheckpointStartsASegmentAndDropsWhatItCovers) {
  TempDir dir;
  {
    auto j = openOk({dir.path});
    for (int i = 1; i <= 10; ++i) (void)j->append(1, "r" + std::to_string(i));
    ASSERT_TRUE(j->commit().ok());
    // The writer-behind has applied up to 4: records 5.. stay.
    ASSERT_TRUE(j->checkpoint(10, "state at 10", 4).ok());
    EXPECT_EQ(segments(dir.path).size(), 2u);
    ASSERT_TRUE(j->checkpoint(10, "state at 10", 10).ok());
    EXPECT_EQ(segments(dir.path).size(), 1u);  // everything is in the snapshot and applied
    for (int i = 11; i <= 12; ++i) (void)j->append(1, "r" + std::to_string(i));
    ASSERT_TRUE(j->commit().ok());
  }
  auto j = openOk({dir.path});
  EXPECT_EQ(j->report().last_seq, 12u);
  auto snap = j->latestSnapshot().value();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->seq, 10u);
  EXPECT_EQ(snap->state, "state at 10");
  auto records = all(*j, snap->seq);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].seq, 11u);
  // Records the checkpoint dropped cannot be replayed: asking for them is an error, not silence.
  EXPECT_FALSE(j->replay(3, [](const JournalRecord&) -> Status { return {}; }).ok());
}

TEST(MarketJournal, AnEmptyNewSegmentAfterACheckpointReopens) {
  TempDir dir;
  {
    auto j = openOk({dir.path});
    (void)j->append(1, "a");
    ASSERT_TRUE(j->commit().ok());
    ASSERT_TRUE(j->checkpoint(1, "s1", 1).ok());
  }
  auto j = openOk({dir.path});
  EXPECT_EQ(j->report().last_seq, 1u);
  EXPECT_EQ(j->append(1, "b").value(), 2u);
}

}  // namespace
}  // namespace tph::market
