#pragma once
// Journal: the market's append-only, durable record of what the sequencer accepted. Records are
// framed (length, CRC32C, sequence number, type, payload) in segment files; the single writer
// appends the records of a whole group of commands and makes them durable with one fdatasync
// (group commit) before any command of the group is answered. A crash mid-write leaves a torn
// tail, which the CRC detects and open() truncates. A checkpoint stores a snapshot of the applied
// state and starts a new segment, so older segments can be deleted. Rules: docs/market.md.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tph::market {

inline constexpr std::uint32_t kJournalRecordMaxBytes = 1u << 20;  //!< one record's payload
inline constexpr std::uint64_t kJournalSegmentMaxBytes = 64ull << 20;
inline constexpr std::size_t kJournalFrameBytes = 17;         //!< length 4, crc 4, seq 8, type 1
inline constexpr std::uint64_t kJournalDurable = UINT64_MAX;  //!< replay() up to durableSeq()

//! CRC32C (Castagnoli), hardware-assisted where the CPU has SSE4.2.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);

struct JournalRecord {
  std::uint64_t seq = 0;  //!< 1, 2, 3, ... without gaps
  std::uint8_t type = 0;
  std::string payload;
};

struct JournalSnapshot {
  std::uint64_t seq = 0;  //!< the state after every record up to and including seq
  std::string state;
};

struct JournalOptions {
  std::filesystem::path dir;
  std::uint64_t segment_max_bytes = kJournalSegmentMaxBytes;
  //! Makes a segment durable; answers false (with errno set) on failure. fdatasync by default;
  //! tests inject failures here.
  std::function<bool(int fd)> sync;
};

//! What open() found on disk.
struct JournalOpenReport {
  std::uint64_t last_seq = 0;
  std::uint64_t records = 0;          //!< valid records in the segments kept
  std::uint64_t truncated_bytes = 0;  //!< a torn tail cut off the last segment
  int segments = 0;
};

//! Not thread-safe: one writer (the sequencer's thread) appends and commits.
class Journal {
 public:
  //! Opens (creating) the journal in options.dir: checks every segment frame by frame and
  //! truncates the last segment at its first damaged frame (a crash mid-group: no record of that
  //! group was acknowledged, and the disk may have kept its pages in any order). A damaged frame
  //! in an earlier segment, or a gap in the sequence numbers, is corruption: open() refuses.
  static Result<std::unique_ptr<Journal>> open(JournalOptions options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const JournalOpenReport& report() const { return report_; }
  //! The newest valid snapshot, if any checkpoint was taken.
  Result<std::optional<JournalSnapshot>> latestSnapshot() const;
  //! Every durable record with a sequence number above `after_seq`, in order, up to `up_to`
  //! (durableSeq() by default). Reads the files only: another thread may read with an explicit
  //! `up_to` it knows durable while the writer appends.
  Status replay(std::uint64_t after_seq, const std::function<Status(const JournalRecord&)>& apply,
                std::uint64_t up_to = kJournalDurable) const;

  //! Buffers a record; it is durable only after the next successful commit(). Answers its seq.
  Result<std::uint64_t> append(std::uint8_t type, std::string_view payload);
  //! Writes what append() buffered and syncs it once: the group commit. A failed write or sync
  //! leaves the journal failed for good (what reached the disk is unknown until it is reopened):
  //! every later append or commit errs.
  Status commit();
  bool failed() const { return failed_; }
  std::uint64_t lastSeq() const { return last_seq_; }
  std::uint64_t durableSeq() const { return durable_seq_; }
  std::size_t pendingBytes() const { return pending_.size(); }

  //! Stores `state` as the snapshot after record `seq` (durable, at most durableSeq()), starts a
  //! new segment and deletes the segments and snapshots no longer needed: a segment goes when all
  //! its records are at or below both `seq` and `keep_after` (the writer-behind may still need
  //! records above keep_after).
  Status checkpoint(std::uint64_t seq, std::string_view state, std::uint64_t keep_after);

 private:
  explicit Journal(JournalOptions options);
  Status openSegment(std::uint64_t first_seq);
  Status fail(const std::string& what);

  JournalOptions options_;
  JournalOpenReport report_;
  int fd_ = -1;
  std::uint64_t segment_bytes_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t durable_seq_ = 0;
  std::string pending_;
  bool failed_ = false;
};

}  // namespace tph::market
