#include "link/link_hub.h"

#include <set>

#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "link/link_store.h"
#include "store/database.h"

namespace tph::link {

using nlohmann::json;

namespace {

bool regionExists(soci::session& sql, const std::string& code) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

}  // namespace

namespace detail {

Result<ParsedDay> parseDailyAggregates(const json& body, const LinkedPlatform& platform) {
  ParsedDay out;
  out.day = body.value("day", "");
  if (!shanghaiDayStart(out.day)) {
    return Error::invalid("body.day", "must be a day YYYY-MM-DD");
  }
  auto rows = body.find("rows");
  if (rows == body.end() || !rows->is_array() || rows->size() > kMaxRowsPerMessage) {
    return Error::invalid("body.rows", "must be a list of at most 10000 aggregates");
  }
  std::set<std::tuple<std::string, std::string, int>> seen;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string where = "body.rows[" + std::to_string(i) + "]";
    auto row = aggregateFromJson((*rows)[i], out.day, where);
    if (!row) return row.error();
    if (!regionCovers(platform.region_code, row->region_code)) {
      return Error::forbidden(
          row->region_code + " is outside the platform's region " + platform.region_code,
          where + ".region");
    }
    if (!seen.insert({row->region_code, row->methodology_id, row->methodology_version}).second) {
      return Error::invalid(where, "repeats a region, methodology and version of the day");
    }
    out.rows.push_back(std::move(*row));
  }
  if (body.value("day_digest", "") != dayDigest(out.rows)) {
    return Error::invalid("body.day_digest", "does not match the rows");
  }
  return out;
}

}  // namespace detail

Result<LinkedPlatform> LinkHub::registerPlatform(const auth::Principal& caller,
                                                 const std::string& name,
                                                 const std::string& region_code,
                                                 const std::string& public_key_hex) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province registers linked platforms");
  }
  if (name.empty() || name.size() > 200) return Error::invalid("name", "must be 1 to 200 bytes");
  if (!isRegionCode(region_code) || regionLevel(region_code) == RegionLevel::kProvince) {
    return Error::invalid("region", "must be a city or county code");
  }
  if (!isPublicKeyHex(public_key_hex)) {
    return Error::invalid("public_key", "must be a 32-byte Ed25519 public key in hex");
  }
  return db_.transaction([&](soci::session& sql) -> Result<LinkedPlatform> {
    if (!regionExists(sql, region_code))
      return Error::invalid("region", "no region " + region_code);
    if (detail::publicKeyTaken(sql, public_key_hex)) {
      return Error::conflict("another platform holds this key", "public_key");
    }
    auto id = detail::insertPlatform(sql, name, region_code, public_key_hex, caller.auditActor(),
                                     toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "link.platform.register",
         "link_platform:" + std::to_string(id),
         {{"name", name}, {"region", region_code}, {"public_key", public_key_hex}}});
    return *detail::findPlatform(sql, id);
  });
}

std::vector<LinkedPlatform> LinkHub::platforms() {
  return db_.read([&](soci::session& sql) { return detail::listPlatforms(sql); });
}

Result<std::pair<Envelope, LinkedPlatform>> LinkHub::authenticate(const json& message) {
  auto envelope = envelopeFromJson(message);
  if (!envelope) return envelope.error();
  auto platform = db_.read(
      [&](soci::session& sql) { return detail::findPlatform(sql, envelope->platform_id); });
  // One answer for an unknown platform and a bad signature, so a prober learns nothing.
  if (!platform || !verifyMessage(message, platform->public_key_hex)) {
    return Error::unauthenticated("the message is not signed by a registered platform");
  }
  if (platform->status != "active") return Error::forbidden("the platform is suspended");
  return std::pair{std::move(*envelope), std::move(*platform)};
}

Result<json> LinkHub::receive(const json& message) {
  auto auth = authenticate(message);
  if (!auth) return auth.error();
  auto& [envelope, platform] = *auth;
  if (envelope.seq < 1) return Error::invalid("seq", "stream messages count from 1");
  auto parsed = parse(envelope, platform);
  if (!parsed) return parsed.error();
  std::string digest = sha256Hex(canonicalJson(envelope.body));
  struct Accepted {
    std::string status;
    json outcome;
  };
  auto accepted = db_.transaction([&](soci::session& sql) -> Result<Accepted> {
    if (auto seen = detail::findInbox(sql, platform.id, envelope.message_id)) {
      if (seen->body_digest != digest || seen->seq != envelope.seq) {
        return Error::conflict(
            "message " + envelope.message_id + " was received with other content", "message_id");
      }
      return Accepted{"duplicate", detail::inboxOutcome(sql, platform.id, envelope.message_id)};
    }
    auto expected = detail::lastSeq(sql, platform.id, envelope.stream) + 1;
    if (envelope.seq != expected) {
      return Error::conflict(
          "stream " + envelope.stream + " expects seq " + std::to_string(expected), "seq");
    }
    auto now_ms = toEpochMs(clock_.now());
    detail::insertInbox(sql, envelope, digest, now_ms);
    auto outcome = apply(sql, envelope, platform, *parsed);
    if (!outcome) return outcome.error();
    if (!outcome->is_null())
      detail::setInboxOutcome(sql, platform.id, envelope.message_id, *outcome);
    json event = {{"kind", envelope.kind},
                  {"stream", envelope.stream},
                  {"seq", envelope.seq},
                  {"digest", digest}};
    if (envelope.kind == kDailyAggregates) {
      event["day"] = envelope.body["day"];
      event["rows"] = envelope.body["rows"].size();
    }
    if (!outcome->is_null()) event["outcome"] = *outcome;
    audit::appendAuditEvent(sql, clock_,
                            {"link_platform:" + std::to_string(platform.id), "link.message.accept",
                             "link_message:" + envelope.message_id, event});
    return Accepted{"accepted", *outcome};
  });
  if (!accepted) return accepted.error();
  json receipt = {{"protocol", kProtocol},
                  {"message_id", envelope.message_id},
                  {"status", accepted->status},
                  {"seq", envelope.seq},
                  {"received_at", formatIso8601(clock_.now())}};
  if (!accepted->outcome.is_null()) receipt["outcome"] = accepted->outcome;
  return signMessage(std::move(receipt), key_);
}

Result<json> LinkHub::reconcile(const json& message) {
  auto auth = authenticate(message);
  if (!auth) return auth.error();
  auto& [envelope, platform] = *auth;
  if (envelope.kind != "reconcile") return Error::invalid("kind", "must be reconcile");
  auto days = envelope.body.find("days");
  if (days == envelope.body.end() || !days->is_array() || days->size() > kMaxReconcileDays) {
    return Error::invalid("body.days", "must be a list of at most 366 days");
  }
  json differences = json::array();
  for (std::size_t i = 0; i < days->size(); ++i) {
    const auto& d = (*days)[i];
    std::string where = "body.days[" + std::to_string(i) + "]";
    if (!d.is_object() || !d.value("day", json()).is_string() ||
        !d.value("records", json()).is_number_integer() ||
        !d.value("grams", json()).is_number_integer() || !d.value("digest", json()).is_string()) {
      return Error::invalid(where, "must hold day, records, grams and digest");
    }
    DaySummary city{d["day"], d["records"], d["grams"], d["digest"]};
    auto rows = aggregates(platform.id, city.day);
    json province = nullptr;
    DaySummary mine = summarise(city.day, rows);
    if (!rows.empty()) {
      province = {{"records", mine.records}, {"grams", mine.grams}, {"digest", mine.digest}};
    }
    if (rows.empty() || !(mine == city)) {
      differences.push_back(
          {{"day", city.day},
           {"city", {{"records", city.records}, {"grams", city.grams}, {"digest", city.digest}}},
           {"province", province}});
    }
  }
  return signMessage({{"protocol", kProtocol},
                      {"platform_id", platform.id},
                      {"checked_at", formatIso8601(clock_.now())},
                      {"differences", differences}},
                     key_);
}

std::vector<ingest::DailyReductionAggregate> LinkHub::aggregates(std::int64_t platform_id,
                                                                 const std::string& day) {
  return db_.read(
      [&](soci::session& sql) { return detail::aggregatesOfDay(sql, platform_id, day); });
}

}  // namespace tph::link
