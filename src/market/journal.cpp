#include "market/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace tph::market {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------ CRC32C

namespace {

constexpr std::uint32_t kCrc32cPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

struct Crc32cTables {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  Crc32cTables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1u) ? kCrc32cPoly : 0u);
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};

std::uint32_t crc32cSoftware(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  static const Crc32cTables tables;
  const auto& t = tables.t;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    word ^= crc;
    crc = t[7][word & 0xFF] ^ t[6][(word >> 8) & 0xFF] ^ t[5][(word >> 16) & 0xFF] ^
          t[4][(word >> 24) & 0xFF] ^ t[3][(word >> 32) & 0xFF] ^ t[2][(word >> 40) & 0xFF] ^
          t[1][(word >> 48) & 0xFF] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32cHardware(std::uint32_t crc,
                                                               const unsigned char* p,
                                                               std::size_t n) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
#endif

}  // namespace

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  crc = hardware ? crc32cHardware(crc, p, size) : crc32cSoftware(crc, p, size);
#else
  crc = crc32cSoftware(crc, p, size);
#endif
  return ~crc;
}

// ------------------------------------------------------------------------------------ files

namespace {

constexpr std::string_view kSegmentMagic = "TPHJRNL1";
constexpr std::string_view kSnapshotMagic = "TPHSNAP1";

void putU32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, aarch64)
  out.append(b, 4);
}
void putU64(std::string& out, std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
std::uint32_t getU32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint64_t getU64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::string numbered(const char* prefix, std::uint64_t n, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%020llu%s", prefix, static_cast<unsigned long long>(n),
                suffix);
  return name;
}

//! The number in "journal-00000000000000000001.log"; nullopt for other names.
std::optional<std::uint64_t> numberOf(const std::string& name, std::string_view prefix,
                                      std::string_view suffix) {
  if (name.size() != prefix.size() + 20 + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  std::uint64_t n = 0;
  for (std::size_t i = prefix.size(); i < prefix.size() + 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return n;
}

struct Numbered {
  std::uint64_t n;
  fs::path path;
};

std::vector<Numbered> listNumbered(const fs::path& dir, std::string_view prefix,
                                   std::string_view suffix) {
  std::vector<Numbered> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (auto n = numberOf(entry.path().filename().string(), prefix, suffix))
      out.push_back({*n, entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const Numbered& a, const Numbered& b) { return a.n < b.n; });
  return out;
}

std::optional<std::string> readAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

Error ioError(const std::string& what) {
  return Error{ErrorCode::kUnavailable, {}, "journal: " + what + ": " + std::strerror(errno)};
}
Error corrupt(const std::string& what) {
  return Error{ErrorCode::kInternal, {}, "journal is corrupt: " + what};
}

bool syncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

bool writeAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

//! The frames of one segment: calls `each` for every valid record in order and answers the
//! length of the valid prefix. `expected` is the seq the first record must carry; it is advanced.
Result<std::size_t> scanSegment(const std::string& bytes, std::uint64_t& expected,
                                const std::function<Status(const JournalRecord&)>* each) {
  if (bytes.size() < kSegmentMagic.size()) return std::size_t{0};
  if (bytes.compare(0, kSegmentMagic.size(), kSegmentMagic) != 0)
    return corrupt("a segment does not start with the journal's magic");
  std::size_t pos = kSegmentMagic.size();
  while (bytes.size() - pos >= kJournalFrameBytes) {
    const char* f = bytes.data() + pos;
    std::uint32_t length = getU32(f);
    if (length > kJournalRecordMaxBytes || bytes.size() - pos - kJournalFrameBytes < length) break;
    std::uint32_t crc = getU32(f + 4);
    if (crc32c(0, f + 8, 9 + length) != crc) break;
    std::uint64_t seq = getU64(f + 8);
    if (seq != expected)
      return corrupt("record " + std::to_string(seq) + " where " + std::to_string(expected) +
                     " was due");
    if (each) {
      JournalRecord record{seq, static_cast<std::uint8_t>(f[16]),
                           std::string(f + kJournalFrameBytes, length)};
      TPH_TRY((*each)(record));
    }
    ++expected;
    pos += kJournalFrameBytes + length;
  }
  return pos;
}

}  // namespace

// ------------------------------------------------------------------------------------ Journal

Journal::Journal(JournalOptions options) : options_(std::move(options)) {
  if (!options_.sync) options_.sync = [](int fd) { return ::fdatasync(fd) == 0; };
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::fail(const std::string& what) {
  Error e = ioError(what);
  failed_ = true;
  return e;
}

Result<std::unique_ptr<Journal>> Journal::open(JournalOptions options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return Error{ErrorCode::kUnavailable,
                 {},
                 "journal: cannot create " + options.dir.string() + ": " + ec.message()};
  std::unique_ptr<Journal> j(new Journal(std::move(options)));
  const fs::path& dir = j->options_.dir;
  for (const auto& entry : fs::directory_iterator(dir)) {  // an interrupted checkpoint
    if (entry.path().extension() == ".tmp") fs::remove(entry.path(), ec);
  }
  TPH_TRY_ASSIGN(snapshot, j->latestSnapshot());
  std::uint64_t snapshot_seq = snapshot ? snapshot->seq : 0;
  auto segments = listNumbered(dir, "journal-", ".log");
  if (segments.empty()) {
    j->last_seq_ = j->durable_seq_ = snapshot_seq;
    TPH_TRY(j->openSegment(snapshot_seq + 1));
    j->report_ = {snapshot_seq, 0, 0, 1};
    return j;
  }
  if (segments.front().n > snapshot_seq + 1)
    return corrupt("the records after the snapshot at " + std::to_string(snapshot_seq) +
                   " are missing");
  std::uint64_t expected = segments.front().n;
  std::size_t valid = 0;
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].n != expected)
      return corrupt("segment " + segments[i].path.filename().string() + " does not follow on");
    auto bytes = readAll(segments[i].path);
    if (!bytes) return ioError("cannot read " + segments[i].path.string());
    std::uint64_t first = expected;
    TPH_TRY_ASSIGN(length, scanSegment(*bytes, expected, nullptr));
    records += expected - first;
    bool last = i + 1 == segments.size();
    if (length != bytes->size() && !last)
      return corrupt("a damaged record inside " + segments[i].path.filename().string());
    if (last) {
      valid = length;
      j->report_.truncated_bytes = bytes->size() - length;
    }
  }
  j->last_seq_ = j->durable_seq_ = expected - 1;
  if (j->last_seq_ < snapshot_seq)
    return corrupt("the journal ends at " + std::to_string(j->last_seq_) +
                   ", before its snapshot at " + std::to_string(snapshot_seq));
  const fs::path& tail = segments.back().path;
  j->fd_ = ::open(tail.c_str(), O_WRONLY | O_CLOEXEC);
  if (j->fd_ < 0) return ioError("cannot open " + tail.string());
  if (valid < kSegmentMagic.size()) {  // torn while being created
    if (::ftruncate(j->fd_, 0) != 0 ||
        !writeAll(j->fd_, kSegmentMagic.data(), kSegmentMagic.size()))
      return ioError("cannot rewrite " + tail.string());
    valid = kSegmentMagic.size();
  } else if (j->report_.truncated_bytes > 0 &&
             ::ftruncate(j->fd_, static_cast<off_t>(valid)) != 0) {
    return ioError("cannot truncate " + tail.string());
  }
  if (!j->options_.sync(j->fd_)) return ioError("cannot sync " + tail.string());
  if (::lseek(j->fd_, static_cast<off_t>(valid), SEEK_SET) < 0)
    return ioError("cannot seek " + tail.string());
  j->segment_bytes_ = valid;
  j->report_.last_seq = j->last_seq_;
  j->report_.records = records;
  j->report_.segments = static_cast<int>(segments.size());
  return j;
}

Status Journal::openSegment(std::uint64_t first_seq) {
  fs::path path = options_.dir / numbered("journal-", first_seq, ".log");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fail("cannot create " + path.string());
  if (!writeAll(fd, kSegmentMagic.data(), kSegmentMagic.size()) || !options_.sync(fd) ||
      !syncDir(options_.dir)) {
    ::close(fd);
    return fail("cannot start " + path.string());
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segment_bytes_ = kSegmentMagic.size();
  return {};
}

Result<std::optional<JournalSnapshot>> Journal::latestSnapshot() const {
  auto snapshots = listNumbered(options_.dir, "snapshot-", ".snap");
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    auto bytes = readAll(it->path);
    constexpr std::size_t header = kSnapshotMagic.size() + 8 + 8 + 4;
    if (!bytes || bytes->size() < header ||
        bytes->compare(0, kSnapshotMagic.size(), kSnapshotMagic) != 0)
      continue;
    const char* p = bytes->data() + kSnapshotMagic.size();
    std::uint64_t seq = getU64(p), length = getU64(p + 8);
    std::uint32_t crc = getU32(p + 16);
    if (seq != it->n || bytes->size() - header != length ||
        crc32c(0, bytes->data() + header, length) != crc)
      continue;  // never renamed into place whole; an older one serves
    return std::optional<JournalSnapshot>(JournalSnapshot{seq, bytes->substr(header)});
  }
  return std::optional<JournalSnapshot>();
}

Status Journal::replay(std::uint64_t after_seq,
                       const std::function<Status(const JournalRecord&)>& apply,
                       std::uint64_t up_to) const {
  std::uint64_t last = up_to == kJournalDurable ? durable_seq_ : up_to;
  auto segments = listNumbered(options_.dir, "journal-", ".log");
  if (segments.empty() || segments.front().n > after_seq + 1) {
    if (after_seq < last)
      return corrupt("records after " + std::to_string(after_seq) + " are no longer kept");
    return {};
  }
  std::function<Status(const JournalRecord&)> each = [&](const JournalRecord& r) -> Status {
    if (r.seq <= after_seq || r.seq > last) return {};
    return apply(r);
  };
  std::uint64_t expected = segments.front().n;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i + 1 < segments.size() && segments[i + 1].n <= after_seq + 1) {
      expected = segments[i + 1].n;
      continue;  // wholly at or below after_seq
    }
    auto bytes = readAll(segments[i].path);
    if (!bytes) return ioError("cannot read " + segments[i].path.string());
    TPH_TRY(scanSegment(*bytes, expected, &each));
  }
  return {};
}

Result<std::uint64_t> Journal::append(std::uint8_t type, std::string_view payload) {
  if (failed_) return Error{ErrorCode::kUnavailable, {}, "journal: failed, reopen it"};
  if (payload.size() > kJournalRecordMaxBytes)
    return Error::invalid("payload", "a journal record holds at most " +
                                         std::to_string(kJournalRecordMaxBytes) + " bytes");
  std::uint64_t seq = last_seq_ + 1;
  std::size_t at = pending_.size();
  putU32(pending_, static_cast<std::uint32_t>(payload.size()));
  putU32(pending_, 0);
  putU64(pending_, seq);
  pending_.push_back(static_cast<char>(type));
  pending_.append(payload);
  std::uint32_t crc = crc32c(0, pending_.data() + at + 8, 9 + payload.size());
  std::memcpy(pending_.data() + at + 4, &crc, 4);
  last_seq_ = seq;
  return seq;
}

Status Journal::commit() {
  if (failed_) return Error{ErrorCode::kUnavailable, {}, "journal: failed, reopen it"};
  if (pending_.empty()) return {};
  if (!writeAll(fd_, pending_.data(), pending_.size())) return fail("write failed");
  if (!options_.sync(fd_)) return fail("fdatasync failed");
  segment_bytes_ += pending_.size();
  pending_.clear();
  durable_seq_ = last_seq_;
  if (segment_bytes_ >= options_.segment_max_bytes) TPH_TRY(openSegment(last_seq_ + 1));
  return {};
}

Status Journal::checkpoint(std::uint64_t seq, std::string_view state, std::uint64_t keep_after) {
  if (failed_) return Error{ErrorCode::kUnavailable, {}, "journal: failed, reopen it"};
  if (seq > durable_seq_)
    throw std::logic_error("journal: a checkpoint at " + std::to_string(seq) +
                           " beyond the durable " + std::to_string(durable_seq_));
  std::string bytes(kSnapshotMagic);
  putU64(bytes, seq);
  putU64(bytes, state.size());
  putU32(bytes, crc32c(0, state.data(), state.size()));
  bytes.append(state);
  fs::path final_path = options_.dir / numbered("snapshot-", seq, ".snap");
  fs::path tmp = final_path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return ioError("cannot create " + tmp.string());
  bool ok = writeAll(fd, bytes.data(), bytes.size()) && options_.sync(fd);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0 || !syncDir(options_.dir))
    return ioError("cannot store the snapshot " + final_path.string());
  // A new segment, so the records up to here sit in segments that can go.
  TPH_TRY(commit());
  if (segment_bytes_ > kSegmentMagic.size()) TPH_TRY(openSegment(last_seq_ + 1));
  std::uint64_t removable = std::min(seq, keep_after);
  auto segments = listNumbered(options_.dir, "journal-", ".log");
  std::error_code ec;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i + 1].n - 1 <= removable) fs::remove(segments[i].path, ec);
  }
  for (const auto& s : listNumbered(options_.dir, "snapshot-", ".snap")) {
    if (s.n < seq) fs::remove(s.path, ec);
  }
  return {};
}

}  // namespace tph::market
