// The province's side of the link beyond daily aggregates: methodology versions and
// certification batches a platform submits, spot checks of the records behind an aggregate, and
// the signed feed of the catalogue, province-wide offers and registry status.

#include <regex>
#include <set>

#include "audit/audit_log.h"
#include "certify/certify_service.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "incentive/merchant_service.h"
#include "link/link_hub.h"
#include "link/link_store.h"
#include "methodology/methodology_service.h"
#include "registry/registry_service.h"
#include "store/database.h"

namespace tph::link {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxDefinitionBytes = 64 * 1024;
constexpr std::size_t kMaxSubjectRefChars = 128;

//! Reads the province's own data for the feed; never used to change anything.
auth::Principal provinceReader() {
  return {0, "link", "link", {{auth::Role::kProvinceAdmin, "440000"}}, {}};
}

bool isHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

Result<std::int64_t> positiveInt(const json& body, const std::string& key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_number_integer() || *it < 1) {
    return Error::invalid("body." + key, "must be a whole number, 1 or more");
  }
  return it->get<std::int64_t>();
}

Result<std::string> text(const json& body, const std::string& key, std::size_t max_bytes) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > max_bytes) {
    return Error::invalid("body." + key,
                          "must be a string of 1 to " + std::to_string(max_bytes) + " bytes");
  }
  return it->get<std::string>();
}

//! A phone number or a resident ID number where a pseudonymous reference belongs.
bool looksIdentifying(const std::string& ref) {
  static const std::regex phone("^\\+?(86)?1[3-9][0-9]{9}$");
  static const std::regex resident_id("^[0-9]{17}[0-9Xx]$");
  return std::regex_match(ref, phone) || std::regex_match(ref, resident_id);
}

std::string platformActor(const LinkedPlatform& p) {
  return "link_platform:" + std::to_string(p.id);
}

json spotCheckBody(const SpotCheck& c) {
  return {{"spot_check_id", c.id},
          {"day", c.day},
          {"region", c.region_code},
          {"methodology_id", c.methodology_id},
          {"methodology_version", c.methodology_version}};
}

}  // namespace

// ------------------------------------------------------------------------- parsing messages

Result<json> LinkHub::parse(const Envelope& e, const LinkedPlatform& p) {
  auto refuseKind = [&] {
    return Error::invalid(
        "kind", "stream " + e.stream + " carries no " + e.kind + "; see /api/link/v1/schema");
  };
  if (e.kind == kDailyAggregates) {
    if (e.stream != kAggregatesStream) return refuseKind();
    auto parsed = detail::parseDailyAggregates(e.body, p);
    if (!parsed) return parsed.error();
    return json(nullptr);
  }
  if (e.kind == kMethodologySubmission) {
    if (e.stream != kMethodologiesStream) return refuseKind();
    if (!services_.methodologies) {
      return Error{ErrorCode::kUnavailable, "kind", "this node takes no methodology submissions"};
    }
    auto id = text(e.body, "methodology_id", 100);
    if (!id) return id.error();
    auto version = positiveInt(e.body, "version");
    if (!version) return version.error();
    auto toml = text(e.body, "definition_toml", kMaxDefinitionBytes);
    if (!toml) return toml.error();
    if (e.body.value("definition_sha256", "") != sha256Hex(*toml)) {
      return Error::invalid("body.definition_sha256", "does not match definition_toml");
    }
    return json(nullptr);
  }
  if (e.kind == kCertificationBatch) {
    if (e.stream != kBatchesStream) return refuseKind();
    if (!services_.certify) {
      return Error{ErrorCode::kUnavailable, "kind", "this node issues no units"};
    }
    auto batch = positiveInt(e.body, "batch_id");
    if (!batch) return batch.error();
    for (const char* key : {"methodology_id", "region", "vintage_from", "vintage_until"}) {
      auto value = text(e.body, key, 100);
      if (!value) return value.error();
    }
    std::string region = e.body["region"];
    if (!isRegionCode(region) || !regionCovers(p.region_code, region)) {
      return Error::forbidden(region + " is outside the platform's region " + p.region_code,
                              "body.region");
    }
    if (!e.body.value("carbon_sink", json()).is_boolean()) {
      return Error::invalid("body.carbon_sink", "must be true or false");
    }
    if (!isHex64(e.body.value("records_digest", ""))) {
      return Error::invalid("body.records_digest", "must be a SHA-256 hex digest");
    }
    auto report = e.body.find("monitoring_report");
    if (report == e.body.end() || !report->is_object()) {
      return Error::invalid("body.monitoring_report", "must be the batch's monitoring report");
    }
    try {
      (void)certify::MonitoringReport::fromJson(*report);
    } catch (const json::exception& ex) {
      return Error::invalid("body.monitoring_report", std::string("is malformed: ") + ex.what());
    }
    return json(nullptr);
  }
  if (e.kind == kSpotCheckAnswer) {
    if (e.stream != kSpotChecksStream) return refuseKind();
    auto id = positiveInt(e.body, "spot_check_id");
    if (!id) return id.error();
    if (e.body.contains("unavailable")) {
      auto why = text(e.body, "unavailable", 2000);
      if (!why) return why.error();
      return json(nullptr);
    }
    auto records = e.body.find("records");
    if (records == e.body.end() || !records->is_array() || records->size() > kMaxSpotCheckRecords) {
      return Error::invalid("body.records", "must be a list of at most 200000 records");
    }
    for (std::size_t i = 0; i < records->size(); ++i) {
      const auto& r = (*records)[i];
      std::string where = "body.records[" + std::to_string(i) + "]";
      if (!r.is_object() || !r.value("record_id", json()).is_number_integer() ||
          !r.value("grams", json()).is_number_integer() || r["grams"] < 0 ||
          !r.value("subject_ref", json()).is_string() ||
          !r.value("occurred_at", json()).is_string()) {
        return Error::invalid(where, "must hold record_id, subject_ref, occurred_at and grams");
      }
    }
    return json(nullptr);
  }
  return Error::invalid("kind", "the province takes no " + e.kind + " on stream " + e.stream);
}

// ------------------------------------------------------------------------ applying messages

namespace {

std::vector<SpotCheck::Finding> checkAnswer(const SpotCheck& check, const json& body) {
  std::vector<SpotCheck::Finding> findings;
  if (body.contains("unavailable")) {
    findings.push_back({"records", "the platform did not send the records: " +
                                       body["unavailable"].get<std::string>()});
    return findings;
  }
  const auto& records = body["records"];
  std::vector<std::pair<std::int64_t, std::int64_t>> id_grams;
  std::int64_t grams = 0;
  std::int64_t previous = 0;
  bool ordered = true;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    std::int64_t id = r["record_id"];
    if (id <= previous) ordered = false;
    previous = id;
    id_grams.emplace_back(id, r["grams"].get<std::int64_t>());
    grams += r["grams"].get<std::int64_t>();
    std::string ref = r["subject_ref"];
    if (ref.empty() || ref.size() > kMaxSubjectRefChars || looksIdentifying(ref)) {
      findings.push_back(
          {"records[" + std::to_string(i) + "].subject_ref", "is not a pseudonymous reference"});
    }
  }
  if (!ordered) {
    findings.push_back({"records", "are not in ascending record id order without repeats"});
  }
  if (static_cast<std::int64_t>(records.size()) != check.records) {
    findings.push_back({"records", std::to_string(records.size()) +
                                       " records sent; the aggregate counted " +
                                       std::to_string(check.records)});
  }
  if (grams != check.grams) {
    findings.push_back({"grams", "the records sum to " + std::to_string(grams) +
                                     " g; the aggregate reported " + std::to_string(check.grams) +
                                     " g"});
  }
  auto digest = recordsDigest(id_grams);
  if (digest != check.records_digest) {
    findings.push_back({"records_digest", "the records hash to " + digest +
                                              "; the aggregate's records digest is " +
                                              check.records_digest});
  }
  return findings;
}

json findingsJson(const std::vector<SpotCheck::Finding>& findings) {
  json out = json::array();
  for (const auto& f : findings) out.push_back({{"field", f.field}, {"message", f.message}});
  return out;
}

}  // namespace

Result<json> LinkHub::apply(soci::session& sql, const Envelope& e, const LinkedPlatform& p,
                            const json&) {
  auto now_ms = toEpochMs(clock_.now());
  if (e.kind == kDailyAggregates) {
    auto parsed = detail::parseDailyAggregates(e.body, p);
    if (!parsed) return parsed.error();
    detail::replaceDay(sql, p.id, parsed->day, parsed->rows, e.message_id);
    return json(nullptr);
  }
  if (e.kind == kMethodologySubmission) {
    std::string toml = e.body["definition_toml"];
    // The platform's own approval is done; a refusal here is an outcome of the accepted
    // message, so the stream moves on and the platform reads the reason in its receipt.
    auto row = services_.methodologies->submitLinked(sql, platformActor(p), p.region_code, toml);
    std::optional<std::int64_t> row_id;
    std::string reason;
    if (row) {
      row_id = *row;
    } else {
      reason = row.error().message;
    }
    detail::insertMethodologySubmission(sql, p.id, e.message_id, e.body["methodology_id"],
                                        e.body["version"].get<int>(), sha256Hex(toml), row_id,
                                        reason, now_ms);
    if (row_id) return json{{"outcome", "submitted"}, {"methodology_version_id", *row_id}};
    return json{{"outcome", "refused"}, {"reason", reason}};
  }
  if (e.kind == kCertificationBatch) {
    certify::LinkedBatchRequest request;
    request.source = platformActor(p);
    request.source_batch_ref = std::to_string(e.body["batch_id"].get<std::int64_t>());
    request.methodology = e.body["methodology_id"];
    request.region = e.body["region"];
    request.vintage_from = e.body["vintage_from"];
    request.vintage_until = e.body["vintage_until"];
    request.carbon_sink = e.body["carbon_sink"];
    request.records_digest = e.body["records_digest"];
    request.report = certify::MonitoringReport::fromJson(e.body["monitoring_report"]);
    auto batch = services_.certify->openLinked(sql, request);
    std::optional<std::int64_t> batch_id;
    std::string reason;
    if (batch) {
      batch_id = batch->id;
    } else {
      reason = batch.error().message;
    }
    detail::insertBatchSubmission(sql, p.id, e.message_id, e.body["batch_id"], batch_id, reason,
                                  now_ms);
    if (batch_id) return json{{"outcome", "submitted"}, {"batch_no", *batch_id}};
    return json{{"outcome", "refused"}, {"reason", reason}};
  }
  // spot_check_answer
  auto check = detail::findSpotCheck(sql, e.body["spot_check_id"], true);
  if (!check || check->platform_id != p.id) {
    return Error::notFound("no spot check " + e.body["spot_check_id"].dump() + " of this platform",
                           "body.spot_check_id");
  }
  if (check->state != "requested") {
    return json{{"outcome", "refused"}, {"reason", "the spot check was answered before"}};
  }
  auto findings = checkAnswer(*check, e.body);
  std::string state = findings.empty() ? "matched" : "mismatched";
  detail::answerSpotCheck(sql, check->id, state, findings, sha256Hex(canonicalJson(e.body)),
                          now_ms);
  audit::appendAuditEvent(sql, clock_,
                          {platformActor(p),
                           "link.spot_check.answer",
                           "link_spot_check:" + std::to_string(check->id),
                           {{"state", state}, {"findings", findingsJson(findings)}}});
  return json{{"outcome", state}, {"findings", findingsJson(findings)}};
}

// ------------------------------------------------------------------------------ spot checks

Result<SpotCheck> LinkHub::requestSpotCheck(const auth::Principal& caller,
                                            const SpotCheckRequest& r) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province asks a platform for its records");
  }
  if (!shanghaiDayStart(r.day)) return Error::invalid("day", "must be a day YYYY-MM-DD");
  if (!isRegionCode(r.region_code)) return Error::invalid("region", "must be a region code");
  if (r.methodology_id.empty() || r.methodology_id.size() > 100) {
    return Error::invalid("methodology_id", "is required");
  }
  if (r.methodology_version < 1) {
    return Error::invalid("methodology_version", "must be a version number");
  }
  return db_.transaction([&](soci::session& sql) -> Result<SpotCheck> {
    auto platform = detail::findPlatform(sql, r.platform_id);
    if (!platform) return Error::notFound("no such linked platform", "platform_id");
    const ingest::DailyReductionAggregate* aggregate = nullptr;
    auto rows = detail::aggregatesOfDay(sql, r.platform_id, r.day);
    for (const auto& row : rows) {
      if (row.region_code == r.region_code && row.methodology_id == r.methodology_id &&
          row.methodology_version == r.methodology_version) {
        aggregate = &row;
      }
    }
    if (!aggregate) {
      return Error::notFound("the platform reported no aggregate of " + r.methodology_id + " v" +
                                 std::to_string(r.methodology_version) + " in " + r.region_code +
                                 " on " + r.day,
                             "methodology_id");
    }
    SpotCheck c;
    c.platform_id = r.platform_id;
    c.day = r.day;
    c.region_code = r.region_code;
    c.methodology_id = r.methodology_id;
    c.methodology_version = r.methodology_version;
    c.records_digest = aggregate->records_digest;
    c.records = aggregate->records;
    c.grams = aggregate->grams.value();
    c.requested_by = caller.auditActor();
    auto now_ms = toEpochMs(clock_.now());
    c.id = detail::insertSpotCheck(sql, c, now_ms);
    detail::FeedMessage m{
        kSpotChecksStream,       detail::lastFeedSeq(sql, r.platform_id, kSpotChecksStream) + 1,
        randomHex(16),           kSpotCheckRequest,
        spotCheckBody(c).dump(), now_ms};
    detail::insertFeed(sql, r.platform_id, m);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "link.spot_check.request",
                             "link_spot_check:" + std::to_string(c.id), spotCheckBody(c)});
    return *detail::findSpotCheck(sql, c.id, false);
  });
}

Result<std::vector<SpotCheck>> LinkHub::spotChecks(const auth::Principal& caller,
                                                   std::int64_t platform_id) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin) && !caller.hasRole(auth::Role::kAuditor)) {
    return Error::forbidden("spot checks are for the province and auditors");
  }
  return db_.read([&](soci::session& sql) -> Result<std::vector<SpotCheck>> {
    if (!detail::findPlatform(sql, platform_id)) {
      return Error::notFound("no such linked platform", "platform_id");
    }
    return detail::listSpotChecks(sql, platform_id);
  });
}

Result<std::vector<Submission>> LinkHub::submissions(const auth::Principal& caller,
                                                     std::int64_t platform_id) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin) && !caller.hasRole(auth::Role::kAuditor)) {
    return Error::forbidden("submissions are for the province and auditors");
  }
  return db_.read([&](soci::session& sql) -> Result<std::vector<Submission>> {
    if (!detail::findPlatform(sql, platform_id)) {
      return Error::notFound("no such linked platform", "platform_id");
    }
    return detail::listSubmissions(sql, platform_id);
  });
}

// --------------------------------------------------------------------------------- the feed

namespace {

struct FeedItem {
  std::string key;
  json item;
};

struct FeedSource {
  const char* stream;
  const char* kind;
  std::vector<FeedItem> items;
};

std::vector<FeedItem> catalogueItems(methodology::MethodologyService& methodologies,
                                     const std::vector<std::int64_t>& submitted,
                                     const std::string& region) {
  std::vector<FeedItem> out;
  std::set<std::int64_t> seen;
  auto add = [&](const methodology::VersionDetail& v) {
    if (!seen.insert(v.summary.row_id).second) return;
    const auto& s = v.summary;
    json item = {{"methodology_id", s.methodology_id},
                 {"version", s.version},
                 {"state", s.state},
                 {"scope", s.scope},
                 {"domain", s.domain},
                 {"name_zh", s.name_zh},
                 {"name_en", s.name_en},
                 {"effective_from", s.effective_from},
                 {"effective_until", s.effective_until},
                 {"decision_reason", s.decision_reason},
                 {"definition_sha256", sha256Hex(v.definition_toml)},
                 {"definition_toml", v.definition_toml}};
    out.push_back({s.methodology_id + "@" + std::to_string(s.version), std::move(item)});
  };
  // What applies in the platform's region (in force or retired), and what it submitted.
  for (const auto& s : methodologies.list(std::nullopt, {"", region, ""})) {
    auto v = methodologies.version(std::nullopt, s.row_id);
    if (v) add(*v);
  }
  auto reader = provinceReader();
  for (auto row_id : submitted) {
    auto v = methodologies.version(reader, row_id);
    if (v) add(*v);
  }
  return out;
}

std::vector<FeedItem> offerItems(incentive::MerchantService& merchants) {
  std::vector<FeedItem> out;
  incentive::OfferQuery query;
  query.region_code = "440000";
  query.active_only = false;
  query.limit = 100;
  for (query.offset = 0;; query.offset += query.limit) {
    auto page = merchants.offers(query);
    if (!page || page->empty()) break;
    for (const auto& o : *page) {
      const auto& f = o.fields;
      bool province_wide = std::any_of(f.regions.begin(), f.regions.end(), [](const auto& r) {
        return regionLevel(r) == RegionLevel::kProvince;
      });
      if (!province_wide) continue;
      out.push_back({"offer:" + std::to_string(o.id),
                     {{"offer_id", o.id},
                      {"merchant", o.merchant_name},
                      {"title_zh", f.title_zh},
                      {"title_en", f.title_en},
                      {"description", f.description},
                      {"image_url", f.image_url},
                      {"points_cost", f.points_cost.value()},
                      {"stock", f.stock},
                      {"remaining", o.remaining()},
                      {"per_user_limit", f.per_user_limit},
                      {"valid_from", formatIso8601(f.valid_from)},
                      {"valid_until", formatIso8601(f.valid_until)},
                      {"regions", f.regions},
                      {"status", o.status}}});
    }
    if (static_cast<int>(page->size()) < query.limit) break;
  }
  return out;
}

std::vector<FeedItem> registryItems(
    certify::CertifyService& certify, registry::RegistryService& registry,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& batches) {
  std::vector<FeedItem> out;
  for (const auto& [city_batch, batch_no] : batches) {
    auto batch = certify.get(batch_no);
    if (!batch) continue;
    json item = {
        {"batch_id", city_batch},
        {"batch_no", batch_no},
        {"state", certify::toString(batch->state)},
        {"grams_submitted", batch->grams_locked.value()},
        {"grams_approved",
         batch->grams_approved ? json(batch->grams_approved->value()) : json(nullptr)},
        {"decision_note", batch->decision_note},
        {"units_issued", batch->units_issued ? json(batch->units_issued->value()) : json(nullptr)},
        {"buffer_units", batch->buffer_units ? json(batch->buffer_units->value()) : json(nullptr)},
        {"serials", json::array()},
        {"held", 0},
        {"retired", 0},
        {"cancelled", 0}};
    if (auto issuance = registry.issuance(batch_no)) {
      std::int64_t held = 0, retired = 0, cancelled = 0;
      for (const auto& range : issuance->ranges) {
        item["serials"].push_back(registry::formatSerial(range));
        auto lookup = registry.lookupSerial(registry::formatSerial(range));
        if (!lookup) continue;
        for (const auto& part : lookup->parts) {
          auto units = part.block.range.units();
          switch (part.block.status) {
            case registry::BlockStatus::kHeld:
              held += units;
              break;
            case registry::BlockStatus::kRetired:
              retired += units;
              break;
            case registry::BlockStatus::kCancelled:
              cancelled += units;
              break;
          }
        }
      }
      item["held"] = held;
      item["retired"] = retired;
      item["cancelled"] = cancelled;
    }
    out.push_back({"batch:" + std::to_string(city_batch), std::move(item)});
  }
  return out;
}

}  // namespace

void LinkHub::refreshFeed(const LinkedPlatform& p) {
  std::vector<std::int64_t> versions;
  std::vector<std::pair<std::int64_t, std::int64_t>> batches;
  db_.read([&](soci::session& sql) {
    versions = detail::submittedVersions(sql, p.id);
    batches = detail::submittedBatches(sql, p.id);
  });
  std::vector<FeedSource> sources;
  if (services_.methodologies) {
    sources.push_back({kCatalogueStream, kMethodologyCatalogue,
                       catalogueItems(*services_.methodologies, versions, p.region_code)});
  }
  if (services_.merchants) {
    sources.push_back({kOffersStream, kMerchantOffers, offerItems(*services_.merchants)});
  }
  if (services_.certify && services_.registry) {
    sources.push_back({kRegistryStream, kRegistryStatus,
                       registryItems(*services_.certify, *services_.registry, batches)});
  }
  auto done = db_.transaction([&](soci::session& sql) -> Status {
    auto now_ms = toEpochMs(clock_.now());
    for (const auto& source : sources) {
      auto sent = detail::feedItems(sql, p.id, source.stream);
      auto seq = detail::lastFeedSeq(sql, p.id, source.stream);
      bool full = seq == 0;
      std::vector<const FeedItem*> changed;
      std::vector<std::string> digests;
      std::set<std::string> keys;
      for (const auto& item : source.items) {
        keys.insert(item.key);
        auto digest = sha256Hex(canonicalJson(item.item));
        auto it = sent.find(item.key);
        if (it == sent.end() || it->second != digest) {
          changed.push_back(&item);
          digests.push_back(digest);
        }
      }
      json removed = json::array();
      for (const auto& [key, digest] : sent) {
        if (!keys.count(key)) removed.push_back(key);
      }
      if (!full && changed.empty() && removed.empty()) continue;
      std::size_t at = 0;
      do {
        json items = json::array();
        for (std::size_t n = 0; at < changed.size() && n < kMaxFeedItems; ++n, ++at) {
          json item = changed[at]->item;
          item["key"] = changed[at]->key;
          items.push_back(std::move(item));
        }
        json body = {{"full", full}, {"items", items}, {"removed", removed}};
        detail::insertFeed(sql, p.id,
                           {source.stream, ++seq, randomHex(16), source.kind, body.dump(), now_ms});
        full = false;
        removed = json::array();
      } while (at < changed.size());
      for (std::size_t i = 0; i < changed.size(); ++i) {
        detail::putFeedItem(sql, p.id, source.stream, changed[i]->key, digests[i]);
      }
      for (const auto& [key, digest] : sent) {
        if (!keys.count(key)) detail::dropFeedItem(sql, p.id, source.stream, key);
      }
    }
    return {};
  });
  if (!done) throw std::runtime_error("link feed: " + done.error().message);
}

Result<json> LinkHub::pull(const json& message) {
  auto auth = authenticate(message);
  if (!auth) return auth.error();
  auto& [envelope, platform] = *auth;
  if (envelope.kind != kPull) return Error::invalid("kind", "must be pull");
  const auto& after = envelope.body.value("after", json::object());
  if (!after.is_object()) return Error::invalid("body.after", "must map streams to seqs");
  for (const auto& [stream, seq] : after.items()) {
    if (!seq.is_number_integer() || seq < 0) {
      return Error::invalid("body.after." + stream, "must be a seq, 0 or more");
    }
  }
  try {
    refreshFeed(platform);
  } catch (const std::exception& e) {
    // Two pulls of one platform at once: one of them wrote the changes; the next pull reads them.
    if (!store::isUniqueViolation(e)) throw;
  }
  json messages = json::array();
  bool more = false;
  db_.read([&](soci::session& sql) {
    for (const char* stream :
         {kCatalogueStream, kOffersStream, kRegistryStream, kSpotChecksStream}) {
      int room = static_cast<int>(kMaxPullMessages) - static_cast<int>(messages.size());
      if (room <= 0) {
        more = true;
        break;
      }
      auto from = after.value(stream, std::int64_t{0});
      auto rows = detail::feedAfter(sql, platform.id, stream, from, room + 1);
      if (static_cast<int>(rows.size()) > room) {
        more = true;
        rows.resize(room);
      }
      for (const auto& m : rows) {
        Envelope out{platform.id,
                     m.message_id,
                     m.stream,
                     m.seq,
                     m.kind,
                     formatIso8601(fromEpochMs(m.created_at_ms)),
                     json::parse(m.body_json)};
        messages.push_back(signMessage(envelopeToJson(out), key_));
      }
    }
  });
  return signMessage({{"protocol", kProtocol},
                      {"platform_id", platform.id},
                      {"messages", messages},
                      {"more", more}},
                     key_);
}

Result<json> LinkHub::whoami(const json& message) {
  if (!message.is_object()) return Error::badRequest("a link message is a JSON object");
  if (message.value("protocol", "") != kProtocol) {
    return Error::invalid("protocol", std::string("must be ") + kProtocol);
  }
  std::string key = message.value("public_key", "");
  if (!isPublicKeyHex(key)) return Error::invalid("public_key", "must be an Ed25519 public key");
  if (!verifyMessage(message, key)) {
    return Error::unauthenticated("the message is not signed by its public key");
  }
  auto platform = db_.read([&](soci::session& sql) -> std::optional<LinkedPlatform> {
    for (auto& p : detail::listPlatforms(sql)) {
      if (p.public_key_hex == key) return p;
    }
    return std::nullopt;
  });
  if (!platform) return Error::unauthenticated("no platform is registered with this key");
  return signMessage({{"protocol", kProtocol},
                      {"platform_id", platform->id},
                      {"region", platform->region_code},
                      {"status", platform->status},
                      {"public_key", key_.public_key_hex}},
                     key_);
}

}  // namespace tph::link
