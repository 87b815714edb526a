#include "link/link_city.h"

#include <spdlog/spdlog.h>

#include <set>

#include "audit/audit_log.h"
#include "certify/certify_service.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "ingest/reduction_stats.h"
#include "link/link_store.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::link {

using nlohmann::json;

namespace {

constexpr const char* kPlatformIdSetting = "platform_id";
constexpr const char* kProvinceKeySetting = "province_public_key";
constexpr const char* kDaysThroughSetting = "days_through";
constexpr const char* kDaysCheckedSetting = "days_checked_at_ms";
constexpr int kMaxBackDays = 366;

std::string dayOffset(const std::string& day, int days) {
  auto start = shanghaiDayStart(day);
  return shanghaiDay(*start + std::chrono::hours(24 * days) + std::chrono::hours(12));
}

bool isSnapshotStream(const std::string& stream) {
  return stream == kCatalogueStream || stream == kOffersStream || stream == kRegistryStream;
}

const char* kindOfFeedStream(const std::string& stream) {
  if (stream == kCatalogueStream) return kMethodologyCatalogue;
  if (stream == kOffersStream) return kMerchantOffers;
  if (stream == kRegistryStream) return kRegistryStatus;
  if (stream == kSpotChecksStream) return kSpotCheckRequest;
  return nullptr;
}

Status checkSnapshotBody(const json& body) {
  if (!body.value("full", json()).is_boolean()) {
    return Error::invalid("body.full", "must be true or false");
  }
  auto items = body.find("items");
  if (items == body.end() || !items->is_array()) {
    return Error::invalid("body.items", "must be a list");
  }
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    if (!item.is_object() || !item.value("key", json()).is_string() ||
        item["key"].get<std::string>().empty()) {
      return Error::invalid("body.items[" + std::to_string(i) + "]",
                            "must be an object with a key");
    }
  }
  auto removed = body.find("removed");
  if (removed == body.end() || !removed->is_array()) {
    return Error::invalid("body.removed", "must be a list of keys");
  }
  for (const auto& key : *removed) {
    if (!key.is_string()) return Error::invalid("body.removed", "must be a list of keys");
  }
  return {};
}

}  // namespace

CityNode::CityNode(store::Database& db, const Clock& clock, LinkKeyPair key,
                   CityNodeOptions options, CityServices services)
    : db_(db),
      clock_(clock),
      key_(std::move(key)),
      options_(std::move(options)),
      services_(services) {}

std::optional<CityNodeConfig> CityNode::config() {
  return db_.read([&](soci::session& sql) -> std::optional<CityNodeConfig> {
    auto id = detail::nodeSetting(sql, kPlatformIdSetting);
    auto province = detail::nodeSetting(sql, kProvinceKeySetting);
    if (!id || !province) return std::nullopt;
    return CityNodeConfig{std::stoll(*id), options_.region_code, key_, *province};
  });
}

Status CityNode::connect(LinkTransport& transport) {
  auto request = signMessage({{"protocol", kProtocol},
                              {"public_key", key_.public_key_hex},
                              {"sent_at", formatIso8601(clock_.now())}},
                             key_);
  auto reply = transport.post("/api/link/v1/whoami", request);
  if (!reply) return reply.error();
  std::string province_key = reply->value("public_key", "");
  auto pinned =
      db_.read([&](soci::session& sql) { return detail::nodeSetting(sql, kProvinceKeySetting); });
  std::string expected = !options_.province_public_key_hex.empty()
                             ? options_.province_public_key_hex
                         : pinned ? *pinned
                                  : province_key;
  if (!isPublicKeyHex(province_key) || province_key != expected ||
      !verifyMessage(*reply, expected)) {
    return Error::unauthenticated("the province's reply is not signed by its key " + expected);
  }
  if (reply->value("region", "") != options_.region_code) {
    return Error::invalid("region", "the province registered this node's key for region " +
                                        reply->value("region", "") + ", not " +
                                        options_.region_code);
  }
  auto platform = reply->value("platform_id", json());
  if (!platform.is_number_integer() || platform < 1) {
    return Error{ErrorCode::kUnavailable, "", "the province named no platform id"};
  }
  return db_.transaction([&](soci::session& sql) -> Status {
    detail::putNodeSetting(sql, kPlatformIdSetting, std::to_string(platform.get<std::int64_t>()));
    if (!pinned) {
      detail::putNodeSetting(sql, kProvinceKeySetting, province_key);
      audit::appendAuditEvent(sql, clock_,
                              {"system",
                               "link.province.pin",
                               "link_province",
                               {{"public_key", province_key}, {"platform_id", platform}}});
    }
    return {};
  });
}

Result<std::string> CityNode::enqueue(const std::string& stream, const std::string& kind,
                                      const std::string& message_id, const json& body) {
  try {
    return db_.transaction([&](soci::session& sql) -> Result<std::string> {
      detail::OutboxRow row;
      row.stream = stream;
      row.seq = detail::nextOutboxSeq(sql, stream);
      row.message_id = message_id;
      row.kind = kind;
      row.body_json = body.dump();
      detail::insertOutbox(sql, row, toEpochMs(clock_.now()));
      audit::appendAuditEvent(sql, clock_,
                              {"system",
                               "link.outbox.queue",
                               "link_message:" + message_id,
                               {{"kind", kind},
                                {"stream", stream},
                                {"seq", row.seq},
                                {"digest", sha256Hex(canonicalJson(body))}}});
      return message_id;
    });
  } catch (const std::exception& e) {
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict("message " + message_id + " is queued already", "message_id");
  }
}

Result<int> CityNode::syncDays() {
  auto now = clock_.now();
  auto today = shanghaiDay(now);
  auto yesterday = dayOffset(today, -1);
  std::optional<std::string> through, checked;
  db_.read([&](soci::session& sql) {
    through = detail::nodeSetting(sql, kDaysThroughSetting);
    checked = detail::nodeSetting(sql, kDaysCheckedSetting);
  });
  if (checked && toEpochMs(now) - std::stoll(*checked) <
                     std::chrono::duration_cast<std::chrono::milliseconds>(kDaySyncEvery).count()) {
    return 0;
  }
  std::string from = dayOffset(today, -kResendDays);
  if (!through) {
    from = dayOffset(today, -kMaxBackDays);
  } else if (*through < from) {
    from = std::max(dayOffset(*through, 1), dayOffset(today, -kMaxBackDays));
  }
  ingest::ReductionStats stats(db_);
  LinkOutbox outbox(db_, clock_, {0, options_.region_code, key_, ""});
  int queued = 0;
  for (const auto& day : stats.activeDays(options_.region_code, from, yesterday)) {
    auto digest = summarise(day, stats.daily(options_.region_code, day)).digest;
    auto sent =
        db_.read([&](soci::session& sql) { return detail::nodeSetting(sql, "day:" + day); });
    if (sent && *sent == digest) continue;
    auto id = outbox.enqueueDay(day);
    if (!id) return id.error();
    auto noted = db_.transaction([&](soci::session& sql) -> Status {
      detail::putNodeSetting(sql, "day:" + day, digest);
      return {};
    });
    if (!noted) return noted.error();
    ++queued;
  }
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    detail::putNodeSetting(sql, kDaysThroughSetting, yesterday);
    detail::putNodeSetting(sql, kDaysCheckedSetting, std::to_string(toEpochMs(now)));
    return {};
  });
  if (!done) return done.error();
  return queued;
}

Result<std::string> CityNode::submitMethodology(const auth::Principal& caller,
                                                std::int64_t version_row_id) {
  if (!services_.methodologies) {
    return Error{ErrorCode::kUnavailable, "", "this node submits no methodologies"};
  }
  if (!caller.administersRegion(options_.region_code)) {
    return Error::forbidden("only the city's administrators submit to the province");
  }
  auto v = services_.methodologies->version(caller, version_row_id);
  if (!v) return v.error();
  const auto& s = v->summary;
  if (s.state != "approved" && s.state != "active") {
    return Error::conflict("only a locally approved version is submitted; this one is " + s.state,
                           "state");
  }
  json body = {{"methodology_id", s.methodology_id},
               {"version", s.version},
               {"scope", s.scope},
               {"local_state", s.state},
               {"definition_toml", v->definition_toml},
               {"definition_sha256", sha256Hex(v->definition_toml)}};
  return enqueue(
      kMethodologiesStream, kMethodologySubmission,
      // One message per version, so it is submitted once; ids allow no dots.
      "methodology-" + sha256Hex(s.methodology_id + "@" + std::to_string(s.version)).substr(0, 32),
      body);
}

Result<std::string> CityNode::submitBatch(const auth::Principal& caller, std::int64_t batch_id) {
  if (!services_.certify) return Error{ErrorCode::kUnavailable, "", "this node submits no batches"};
  if (!caller.administersRegion(options_.region_code)) {
    return Error::forbidden("only the city's administrators submit to the province");
  }
  auto batch = services_.certify->get(batch_id);
  if (!batch) return batch.error();
  if (!regionCovers(options_.region_code, batch->region)) {
    return Error::forbidden("batch " + std::to_string(batch_id) + " is not the city's", "batch_id");
  }
  if (batch->state != certify::BatchState::kOpen &&
      batch->state != certify::BatchState::kApproved) {
    return Error::conflict(std::string("the batch is ") + certify::toString(batch->state) +
                               "; only an open or approved batch goes to the province",
                           "state");
  }
  auto report = services_.certify->report(caller, batch_id);
  if (!report) return report.error();
  json body = {{"batch_id", batch->id},
               {"methodology_id", batch->methodology},
               {"region", batch->region},
               {"vintage_from", batch->vintage_from},
               {"vintage_until", batch->vintage_until},
               {"carbon_sink", batch->carbon_sink},
               {"records_digest", batch->merkle_root},
               {"monitoring_report", report->toJson()}};
  return enqueue(kBatchesStream, kCertificationBatch, "batch-" + std::to_string(batch->id), body);
}

Result<std::string> CityNode::applyMessage(const json& message) {
  auto cfg = config();
  if (!cfg) return Error{ErrorCode::kUnavailable, "", "this node has not met its province yet"};
  if (!message.is_object() || !verifyMessage(message, cfg->province_public_key_hex)) {
    return Error::unauthenticated("the message is not signed by the province");
  }
  auto e = envelopeFromJson(message);
  if (!e) return e.error();
  if (e->platform_id != cfg->platform_id) {
    return Error::forbidden("the message is for platform " + std::to_string(e->platform_id),
                            "platform_id");
  }
  const char* kind = kindOfFeedStream(e->stream);
  if (!kind || e->kind != kind) {
    return Error::invalid("kind", "stream " + e->stream + " carries no " + e->kind);
  }
  if (e->seq < 1) return Error::invalid("seq", "stream messages count from 1");
  json answer;  // a spot check's answer, computed outside the transaction
  if (isSnapshotStream(e->stream)) {
    TPH_TRY(checkSnapshotBody(e->body));
  } else {
    const auto& b = e->body;
    if (!b.value("spot_check_id", json()).is_number_integer() ||
        !b.value("day", json()).is_string() || !b.value("region", json()).is_string() ||
        !b.value("methodology_id", json()).is_string() ||
        !b.value("methodology_version", json()).is_number_integer()) {
      return Error::invalid("body", "a spot check names its id, day, region and methodology");
    }
    std::string region = b["region"];
    if (!shanghaiDayStart(b["day"].get<std::string>()) || !isRegionCode(region) ||
        !regionCovers(options_.region_code, region)) {
      return Error::invalid("body.region", "must be a day and a region of this city");
    }
    answer = {{"spot_check_id", b["spot_check_id"]}};
    auto records = ingest::ReductionStats(db_).records(region, b["day"], b["methodology_id"],
                                                       b["methodology_version"].get<int>(),
                                                       kMaxSpotCheckRecords + 1);
    if (records.size() > kMaxSpotCheckRecords) {
      answer["unavailable"] = "more than 200000 records; ask the city for an export";
    } else {
      json list = json::array();
      for (const auto& r : records) {
        list.push_back({{"record_id", r.record_id},
                        {"subject_ref", r.subject_ref},
                        {"occurred_at", formatIso8601(fromEpochMs(r.occurred_at_ms))},
                        {"grams", r.grams.value()}});
      }
      answer["records"] = std::move(list);
    }
  }
  std::string digest = sha256Hex(canonicalJson(e->body));
  auto apply = [&](soci::session& sql) -> Result<std::string> {
    if (auto seen = detail::findCityInbox(sql, e->stream, e->seq)) {
      if (seen->message_id != e->message_id || seen->body_digest != digest) {
        return Error::conflict("seq " + std::to_string(e->seq) + " of stream " + e->stream +
                                   " was applied with another message",
                               "seq");
      }
      return std::string("duplicate");
    }
    auto expected = detail::lastCitySeq(sql, e->stream) + 1;
    if (e->seq != expected) {
      return Error::conflict("stream " + e->stream + " expects seq " + std::to_string(expected),
                             "seq");
    }
    auto now_ms = toEpochMs(clock_.now());
    detail::insertCityInbox(sql, e->stream, e->seq, e->message_id, e->kind, digest, now_ms);
    if (isSnapshotStream(e->stream)) {
      if (e->body["full"].get<bool>()) detail::clearProvinceItems(sql, e->stream);
      for (const auto& item : e->body["items"]) {
        detail::putProvinceItem(sql, e->stream, item["key"], item.dump(), e->message_id, now_ms);
      }
      for (const auto& key : e->body["removed"]) detail::dropProvinceItem(sql, e->stream, key);
    } else {
      detail::OutboxRow row;
      row.stream = kSpotChecksStream;
      row.seq = detail::nextOutboxSeq(sql, row.stream);
      row.message_id = "spot-check-" + answer["spot_check_id"].dump();
      row.kind = kSpotCheckAnswer;
      row.body_json = answer.dump();
      detail::insertOutbox(sql, row, now_ms);
    }
    audit::appendAuditEvent(
        sql, clock_,
        {"link_province",
         "link.province.apply",
         "link_message:" + e->message_id,
         {{"kind", e->kind}, {"stream", e->stream}, {"seq", e->seq}, {"digest", digest}}});
    return std::string("applied");
  };
  try {
    return db_.transaction(apply);
  } catch (const std::exception& ex) {
    // The same seq applied by the sync thread and a delivery at the same moment: one wins.
    if (!store::isUniqueViolation(ex)) throw;
    return Error::conflict("seq " + std::to_string(e->seq) + " of stream " + e->stream +
                               " was being applied at the same moment; send it again",
                           "seq");
  }
}

Result<ApplyReport> CityNode::pull(LinkTransport& transport) {
  auto cfg = config();
  if (!cfg) return Error{ErrorCode::kUnavailable, "", "this node has not met its province yet"};
  ApplyReport report;
  for (int round = 0; round < kMaxPullRounds; ++round) {
    json after = json::object();
    db_.read([&](soci::session& sql) {
      for (const char* stream :
           {kCatalogueStream, kOffersStream, kRegistryStream, kSpotChecksStream}) {
        after[stream] = detail::lastCitySeq(sql, stream);
      }
    });
    Envelope e{
        cfg->platform_id,  randomHex(16), kControlStream, 0, kPull, formatIso8601(clock_.now()),
        {{"after", after}}};
    auto reply = transport.post("/api/link/v1/feed", signMessage(envelopeToJson(e), key_));
    if (!reply) return reply.error();
    if (!verifyMessage(*reply, cfg->province_public_key_hex)) {
      return Error::unauthenticated("the feed is not signed by the province");
    }
    std::set<std::string> stopped;  // a stream stops at its first refused message
    for (const auto& m : reply->value("messages", json::array())) {
      std::string stream = m.value("stream", "");
      if (stopped.count(stream)) continue;
      auto applied = applyMessage(m);
      if (!applied) {
        ++report.refused;
        report.last_error = applied.error().message;
        stopped.insert(stream);
      } else if (*applied == "duplicate") {
        ++report.duplicates;
      } else {
        ++report.applied;
      }
    }
    if (!reply->value("more", false) || !stopped.empty()) break;
  }
  return report;
}

SyncReport CityNode::syncOnce(LinkTransport& transport) {
  SyncReport report;
  if (!config()) {
    auto connected = connect(transport);
    if (!connected) {
      report.error = connected.error().message;
      return report;
    }
  }
  report.connected = true;
  auto days = syncDays();
  if (!days) {
    report.error = days.error().message;
  } else {
    report.days_queued = *days;
  }
  LinkOutbox outbox(db_, clock_, *config());
  report.drained = outbox.drain(transport);
  auto pulled = pull(transport);
  if (!pulled) {
    report.error = pulled.error().message;
    return report;
  }
  report.pulled = *pulled;
  if (pulled->applied > 0) {
    auto more = outbox.drain(transport);  // spot-check answers go at once
    report.drained.sent += more.sent;
    report.drained.failed += more.failed;
    report.drained.pending = more.pending;
    if (!more.last_error.empty()) report.drained.last_error = more.last_error;
  }
  return report;
}

Result<std::vector<json>> CityNode::provinceItems(const std::string& stream) {
  if (!isSnapshotStream(stream)) {
    return Error::invalid("stream", "must be catalogue, offers or registry");
  }
  return db_.read([&](soci::session& sql) { return detail::provinceItems(sql, stream); });
}

json CityNode::outboxStatus(int limit) {
  auto cfg = config();
  json messages = json::array();
  int pending = 0;
  db_.read([&](soci::session& sql) {
    pending = detail::pendingOutbox(sql);
    for (const auto& m : detail::recentOutbox(sql, limit)) {
      json receipt = m.receipt_json.empty() ? json(nullptr) : json::parse(m.receipt_json);
      messages.push_back(
          {{"message_id", m.row.message_id},
           {"stream", m.row.stream},
           {"seq", m.row.seq},
           {"kind", m.row.kind},
           {"state", m.state},
           {"attempts", m.row.attempts},
           {"last_error", m.last_error},
           {"created_at", formatIso8601(fromEpochMs(m.created_at_ms))},
           {"sent_at", m.sent_at_ms ? json(formatIso8601(fromEpochMs(*m.sent_at_ms))) : json()},
           {"outcome", receipt.is_object() ? receipt.value("outcome", json()) : json()}});
    }
  });
  return {{"region", options_.region_code},
          {"platform_id", cfg ? json(cfg->platform_id) : json()},
          {"province_public_key", cfg ? json(cfg->province_public_key_hex) : json()},
          {"pending", pending},
          {"messages", messages}};
}

// ------------------------------------------------------------------------------- the runner

LinkCityRunner::LinkCityRunner(CityNode& node, std::unique_ptr<LinkTransport> transport)
    : node_(node), transport_(std::move(transport)) {}

LinkCityRunner::~LinkCityRunner() {
  stop();
}

void LinkCityRunner::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void LinkCityRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LinkCityRunner::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

SyncReport LinkCityRunner::lastReport() {
  std::lock_guard lock(mu_);
  return last_;
}

void LinkCityRunner::run() {
  for (;;) {
    SyncReport report;
    try {
      report = node_.syncOnce(*transport_);
    } catch (const std::exception& e) {
      report.error = e.what();
    }
    if (!report.error.empty() || !report.drained.last_error.empty()) {
      spdlog::warn("link: {}", report.error.empty() ? report.drained.last_error : report.error);
    }
    std::unique_lock lock(mu_);
    last_ = report;
    wake_.wait_for(lock, node_.options().interval, [this] { return stopping_ || poked_; });
    poked_ = false;
    if (stopping_) return;
  }
}

}  // namespace tph::link
