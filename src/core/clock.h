#pragma once
// Time is injected: production code asks a Clock, never std::chrono::system_clock directly, so
// tests can move time through expiries, notice periods and deadlines deterministically.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tph {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

//! Milliseconds since the Unix epoch, the form instants take in storage.
inline std::int64_t toEpochMs(Instant t) {
  return t.time_since_epoch().count();
}
inline Instant fromEpochMs(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

//! A source of the current instant. Shared between threads; implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override;
};

//! A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start) : ms_(toEpochMs(start)) {}
  Instant now() const override { return fromEpochMs(ms_.load()); }
  void set(Instant t) { ms_.store(toEpochMs(t)); }
  void advance(std::chrono::milliseconds d) { ms_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> ms_;
};

//! "2026-03-01T08:00:00.000Z"
std::string formatIso8601(Instant t);

//! Parses RFC 3339 instants with a Z or +hh:mm offset and optional fractional seconds.
std::optional<Instant> parseIso8601(std::string_view text);

//! The calendar day in Asia/Shanghai ("2026-03-01"), which is what "a day" means for caps and
//! rollups. China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact.
std::string shanghaiDay(Instant t);

//! The instant a Shanghai day "YYYY-MM-DD" begins (00:00 +08:00); nullopt unless `day` is
//! exactly such a day. The inverse of shanghaiDay.
std::optional<Instant> shanghaiDayStart(std::string_view day);

}  // namespace tph
