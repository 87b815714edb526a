#include "link/link_outbox.h"

#include <algorithm>

#include "core/crypto.h"
#include "ingest/reduction_stats.h"
#include "link/link_store.h"
#include "store/database.h"

namespace tph::link {

using nlohmann::json;

namespace {

std::chrono::milliseconds retryDelay(int attempts) {
  auto delay = kFirstRetryDelay;
  for (int i = 1; i < attempts && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelay);
}

}  // namespace

Result<std::string> LinkOutbox::enqueueDay(const std::string& day) {
  if (!shanghaiDayStart(day)) {
    return Error::invalid("day", "must be a day YYYY-MM-DD");
  }
  auto rows = ingest::ReductionStats(db_).daily(config_.region_code, day);
  if (rows.size() > kMaxRowsPerMessage) {
    return Error::invalid("day", "has more aggregates than one message carries");
  }
  json list = json::array();
  for (const auto& r : rows) list.push_back(aggregateToJson(r));
  json body = {{"day", day}, {"rows", list}, {"day_digest", dayDigest(rows)}};
  return db_.transaction([&](soci::session& sql) -> Result<std::string> {
    detail::OutboxRow row;
    row.stream = kAggregatesStream;
    row.seq = detail::nextOutboxSeq(sql, row.stream);
    row.message_id = randomHex(16);
    row.kind = kDailyAggregates;
    row.body_json = body.dump();
    detail::insertOutbox(sql, row, toEpochMs(clock_.now()));
    return row.message_id;
  });
}

DrainReport LinkOutbox::drain(LinkTransport& transport) {
  DrainReport report;
  std::vector<std::string> stopped;
  for (int i = 0; i < kMaxMessagesPerDrain; ++i) {
    auto now_ms = toEpochMs(clock_.now());
    auto heads = db_.read([&](soci::session& sql) { return detail::headsOfStreams(sql); });
    auto next = std::find_if(heads.begin(), heads.end(), [&](const detail::OutboxRow& r) {
      return r.next_attempt_ms <= now_ms &&
             std::find(stopped.begin(), stopped.end(), r.stream) == stopped.end();
    });
    if (next == heads.end()) break;
    Envelope e{config_.platform_id,
               next->message_id,
               next->stream,
               next->seq,
               next->kind,
               formatIso8601(clock_.now()),
               json::parse(next->body_json)};
    auto reply =
        transport.post("/api/link/v1/messages", signMessage(envelopeToJson(e), config_.key));
    std::string error;
    if (!reply) {
      error = reply.error().message;
    } else if (!verifyMessage(*reply, config_.province_public_key_hex)) {
      error = "the receipt is not signed by the province";
    } else if (reply->value("message_id", "") != next->message_id) {
      error = "the receipt names another message";
    }
    auto recorded = db_.transaction([&](soci::session& sql) -> Status {
      if (error.empty()) {
        detail::markSent(sql, next->id, toEpochMs(clock_.now()), reply->dump());
      } else {
        int attempts = next->attempts + 1;
        detail::markFailed(sql, next->id, attempts,
                           toEpochMs(clock_.now()) + retryDelay(attempts).count(), error);
      }
      return {};
    });
    if (!recorded) throw std::runtime_error("link outbox: " + recorded.error().message);
    if (error.empty()) {
      ++report.sent;
    } else {
      ++report.failed;
      report.last_error = error;
      stopped.push_back(next->stream);  // in order per stream: nothing overtakes a failure
    }
  }
  report.pending = pendingCount();
  return report;
}

Result<std::vector<ReconcileDifference>> LinkOutbox::reconcile(LinkTransport& transport,
                                                               const std::string& from_day,
                                                               const std::string& until_day) {
  ingest::ReductionStats stats(db_);
  auto days = stats.activeDays(config_.region_code, from_day, until_day);
  if (days.size() > kMaxReconcileDays) return Error::invalid("from", "at most 366 days at once");
  json list = json::array();
  std::map<std::string, DaySummary> mine;
  for (const auto& day : days) {
    auto s = summarise(day, stats.daily(config_.region_code, day));
    mine[day] = s;
    list.push_back(
        {{"day", day}, {"records", s.records}, {"grams", s.grams}, {"digest", s.digest}});
  }
  Envelope e{config_.platform_id,         randomHex(16),   "control", 0, "reconcile",
             formatIso8601(clock_.now()), {{"days", list}}};
  auto reply =
      transport.post("/api/link/v1/reconcile", signMessage(envelopeToJson(e), config_.key));
  if (!reply) return reply.error();
  if (!verifyMessage(*reply, config_.province_public_key_hex)) {
    return Error::unauthenticated("the reconciliation is not signed by the province");
  }
  std::vector<ReconcileDifference> out;
  for (const auto& d : reply->value("differences", json::array())) {
    ReconcileDifference diff;
    diff.day = d.value("day", "");
    diff.city = mine[diff.day];
    if (d.contains("province") && d["province"].is_object()) {
      const auto& p = d["province"];
      diff.province = DaySummary{diff.day, p.value("records", 0LL), p.value("grams", 0LL),
                                 p.value("digest", "")};
    }
    out.push_back(std::move(diff));
  }
  return out;
}

int LinkOutbox::pendingCount() {
  return db_.read([](soci::session& sql) { return detail::pendingOutbox(sql); });
}

}  // namespace tph::link
