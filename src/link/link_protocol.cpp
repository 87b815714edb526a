#include "link/link_protocol.h"

#include <algorithm>

#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"

namespace tph::link {

using nlohmann::json;

namespace {

bool isToken(const std::string& s) {
  return !s.empty() && s.size() <= kMaxMessageIdChars &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

}  // namespace

json envelopeToJson(const Envelope& e) {
  return {{"protocol", kProtocol},
          {"platform_id", e.platform_id},
          {"message_id", e.message_id},
          {"stream", e.stream},
          {"seq", e.seq},
          {"kind", e.kind},
          {"sent_at", e.sent_at},
          {"body", e.body}};
}

Result<Envelope> envelopeFromJson(const json& j) {
  if (!j.is_object()) return Error::badRequest("a link message is a JSON object");
  if (j.value("protocol", "") != kProtocol) {
    return Error::invalid("protocol", std::string("must be ") + kProtocol);
  }
  Envelope e;
  auto platform = j.find("platform_id");
  if (platform == j.end() || !platform->is_number_integer() || *platform < 1) {
    return Error::invalid("platform_id", "must be the platform's id");
  }
  e.platform_id = *platform;
  e.message_id = j.value("message_id", "");
  if (!isToken(e.message_id)) {
    return Error::invalid("message_id", "must be 1 to 64 letters, digits, dashes or underscores");
  }
  e.stream = j.value("stream", "");
  if (!isToken(e.stream)) return Error::invalid("stream", "must name a stream");
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || *seq < 0) {
    return Error::invalid("seq", "must be a whole number");
  }
  e.seq = *seq;
  e.kind = j.value("kind", "");
  if (!isToken(e.kind)) return Error::invalid("kind", "must name a message kind");
  e.sent_at = j.value("sent_at", "");
  auto body = j.find("body");
  if (body == j.end() || !body->is_object()) return Error::invalid("body", "must be an object");
  e.body = *body;
  return e;
}

json aggregateToJson(const ingest::DailyReductionAggregate& a) {
  return {{"region", a.region_code},
          {"methodology_id", a.methodology_id},
          {"methodology_version", a.methodology_version},
          {"records", a.records},
          {"subjects", a.subjects},
          {"grams", a.grams.value()},
          {"records_digest", a.records_digest}};
}

Result<ingest::DailyReductionAggregate> aggregateFromJson(const json& j, const std::string& day,
                                                          const std::string& where) {
  if (!j.is_object()) return Error::invalid(where, "must be an object");
  ingest::DailyReductionAggregate a;
  a.day = day;
  a.region_code = j.value("region", "");
  if (!isRegionCode(a.region_code)) return Error::invalid(where + ".region", "must be a code");
  a.methodology_id = j.value("methodology_id", "");
  if (a.methodology_id.empty() || a.methodology_id.size() > 100) {
    return Error::invalid(where + ".methodology_id", "is required");
  }
  for (auto [key, out] : {std::pair{"records", &a.records}, std::pair{"subjects", &a.subjects}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || *it < 0) {
      return Error::invalid(where + "." + key, "must be a whole number, 0 or more");
    }
    *out = *it;
  }
  auto version = j.find("methodology_version");
  if (version == j.end() || !version->is_number_integer() || *version < 1) {
    return Error::invalid(where + ".methodology_version", "must be a version number");
  }
  a.methodology_version = *version;
  auto grams = j.find("grams");
  if (grams == j.end() || !grams->is_number_integer() || *grams < 0) {
    return Error::invalid(where + ".grams", "must be whole grams, 0 or more");
  }
  a.grams = Grams(grams->get<std::int64_t>());
  a.records_digest = j.value("records_digest", "");
  if (a.records_digest.size() != 64) {
    return Error::invalid(where + ".records_digest", "must be a SHA-256 hex digest");
  }
  return a;
}

std::string dayDigest(std::vector<ingest::DailyReductionAggregate> rows) {
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.region_code, a.methodology_id, a.methodology_version) <
           std::tie(b.region_code, b.methodology_id, b.methodology_version);
  });
  json list = json::array();
  for (const auto& r : rows) list.push_back(aggregateToJson(r));
  return sha256Hex(canonicalJson(list));
}

std::string recordsDigest(const std::vector<std::pair<std::int64_t, std::int64_t>>& id_grams) {
  std::string text;
  for (const auto& [id, grams] : id_grams) {
    text += std::to_string(id) + ":" + std::to_string(grams) + "\n";
  }
  return sha256Hex(text);
}

DaySummary summarise(const std::string& day,
                     const std::vector<ingest::DailyReductionAggregate>& rows) {
  DaySummary s{day, 0, 0, dayDigest(rows)};
  for (const auto& r : rows) {
    s.records += r.records;
    s.grams += r.grams.value();
  }
  return s;
}

json protocolSchema() {
  const json signature = {{"type", "string"}, {"pattern", "^[0-9a-f]{128}$"}};
  const json aggregate = {
      {"type", "object"},
      {"required",
       {"region", "methodology_id", "methodology_version", "records", "subjects", "grams",
        "records_digest"}},
      {"properties",
       {{"region", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}},
        {"methodology_id", {{"type", "string"}}},
        {"methodology_version", {{"type", "integer"}, {"minimum", 1}}},
        {"records", {{"type", "integer"}, {"minimum", 0}}},
        {"subjects", {{"type", "integer"}, {"minimum", 0}}},
        {"grams", {{"type", "integer"}, {"minimum", 0}}},
        {"records_digest", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}}}}};
  auto envelope = [&](const std::string& kind, json body) {
    return json{{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                {"type", "object"},
                {"required",
                 {"protocol", "platform_id", "message_id", "stream", "seq", "kind", "sent_at",
                  "body", "signature"}},
                {"properties",
                 {{"protocol", {{"const", kProtocol}}},
                  {"platform_id", {{"type", "integer"}, {"minimum", 1}}},
                  {"message_id", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{1,64}$"}}},
                  {"stream", {{"type", "string"}}},
                  {"seq", {{"type", "integer"}, {"minimum", 0}}},
                  {"kind", {{"const", kind}}},
                  {"sent_at", {{"type", "string"}, {"format", "date-time"}}},
                  {"body", body},
                  {"signature", signature}}}};
  };
  const json hex64 = {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}};
  const json integer = {{"type", "integer"}};
  const json string = {{"type", "string"}};
  const json date = {{"type", "string"}, {"format", "date"}};
  auto object = [](std::vector<std::string> required, json properties) {
    return json{{"type", "object"}, {"required", required}, {"properties", properties}};
  };
  // Province → city snapshot messages: everything when "full", else the changed items by key
  // and the keys removed.
  auto snapshot = [&](json item) {
    item["required"].push_back("key");
    item["properties"]["key"] = string;
    return object({"full", "items", "removed"},
                  {{"full", {{"type", "boolean"}}},
                   {"items", {{"type", "array"}, {"items", item}, {"maxItems", kMaxFeedItems}}},
                   {"removed", {{"type", "array"}, {"items", string}}}});
  };
  json messages = {
      {kDailyAggregates,
       envelope(
           kDailyAggregates,
           {{"type", "object"},
            {"required", {"day", "rows", "day_digest"}},
            {"properties",
             {{"day", {{"type", "string"}, {"format", "date"}}},
              {"rows", {{"type", "array"}, {"items", aggregate}, {"maxItems", kMaxRowsPerMessage}}},
              {"day_digest", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}}}}})},
      {kMethodologySubmission,
       envelope(kMethodologySubmission,
                object({"methodology_id", "version", "definition_toml", "definition_sha256"},
                       {{"methodology_id", string},
                        {"version", {{"type", "integer"}, {"minimum", 1}}},
                        {"scope", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}},
                        {"local_state", {{"enum", {"approved", "active"}}}},
                        {"definition_toml", {{"type", "string"}, {"maxLength", 65536}}},
                        {"definition_sha256", hex64}}))},
      {kCertificationBatch,
       envelope(kCertificationBatch,
                object({"batch_id", "methodology_id", "region", "vintage_from", "vintage_until",
                        "carbon_sink", "records_digest", "monitoring_report"},
                       {{"batch_id", {{"type", "integer"}, {"minimum", 1}}},
                        {"methodology_id", string},
                        {"region", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}},
                        {"vintage_from", date},
                        {"vintage_until", date},
                        {"carbon_sink", {{"type", "boolean"}}},
                        {"records_digest", hex64},
                        {"monitoring_report",
                         object({"totals", "records", "subjects", "grams", "period_records", "held",
                                 "quarantined", "held_or_quarantined_share_bp", "reoffered",
                                 "sample_seed", "sample"},
                                {{"totals", {{"type", "array"}}},
                                 {"records", integer},
                                 {"subjects", integer},
                                 {"grams", integer},
                                 {"sample", {{"type", "array"}}}})}}))},
      {kSpotCheckAnswer,
       envelope(
           kSpotCheckAnswer,
           {{"type", "object"},
            {"required", {"spot_check_id"}},
            {"properties",
             {{"spot_check_id", {{"type", "integer"}, {"minimum", 1}}},
              {"records",
               {{"type", "array"},
                {"maxItems", kMaxSpotCheckRecords},
                {"items", object({"record_id", "subject_ref", "occurred_at", "grams"},
                                 {{"record_id", integer},
                                  {"subject_ref", {{"type", "string"}, {"maxLength", 128}}},
                                  {"occurred_at", {{"type", "string"}, {"format", "date-time"}}},
                                  {"grams", {{"type", "integer"}, {"minimum", 0}}}})}}},
              {"unavailable", string}}},
            {"oneOf", {{{"required", {"records"}}}, {{"required", {"unavailable"}}}}}})},
      {kReconcile, envelope(kReconcile, {{"type", "object"},
                                         {"required", {"days"}},
                                         {"properties",
                                          {{"days",
                                            {{"type", "array"},
                                             {"maxItems", kMaxReconcileDays},
                                             {"items",
                                              {{"type", "object"},
                                               {"required", {"day", "records", "grams", "digest"}},
                                               {"properties",
                                                {{"day", {{"type", "string"}, {"format", "date"}}},
                                                 {"records", {{"type", "integer"}}},
                                                 {"grams", {{"type", "integer"}}},
                                                 {"digest", {{"type", "string"}}}}}}}}}}}})},
      {kPull,
       envelope(kPull,
                object({}, {{"after",
                             {{"type", "object"},
                              {"additionalProperties", {{"type", "integer"}, {"minimum", 0}}}}}}))},
      {kMethodologyCatalogue,
       envelope(
           kMethodologyCatalogue,
           snapshot(object({"methodology_id", "version", "state", "scope", "definition_sha256"},
                           {{"methodology_id", string},
                            {"version", integer},
                            {"state",
                             {{"enum",
                               {"submitted", "under_review", "approved", "rejected", "active",
                                "retired", "draft"}}}},
                            {"scope", string},
                            {"domain", string},
                            {"name_zh", string},
                            {"name_en", string},
                            {"effective_from", string},
                            {"effective_until", string},
                            {"decision_reason", string},
                            {"definition_sha256", hex64},
                            {"definition_toml", string}})))},
      {kMerchantOffers,
       envelope(kMerchantOffers,
                snapshot(object({"offer_id", "merchant", "title_zh", "points_cost", "status"},
                                {{"offer_id", integer},
                                 {"merchant", string},
                                 {"title_zh", string},
                                 {"title_en", string},
                                 {"description", string},
                                 {"image_url", string},
                                 {"points_cost", integer},
                                 {"stock", integer},
                                 {"remaining", integer},
                                 {"per_user_limit", integer},
                                 {"valid_from", {{"type", "string"}, {"format", "date-time"}}},
                                 {"valid_until", {{"type", "string"}, {"format", "date-time"}}},
                                 {"regions", {{"type", "array"}, {"items", string}}},
                                 {"status", {{"enum", {"active", "paused", "ended"}}}}})))},
      {kRegistryStatus,
       envelope(
           kRegistryStatus,
           snapshot(object(
               {"batch_id", "batch_no", "state", "serials", "held", "retired", "cancelled"},
               {{"batch_id", integer},
                {"batch_no", integer},
                {"state",
                 {{"enum", {"open", "corrections_requested", "approved", "rejected", "issued"}}}},
                {"grams_submitted", integer},
                {"grams_approved", {{"type", {"integer", "null"}}}},
                {"decision_note", string},
                {"units_issued", {{"type", {"integer", "null"}}}},
                {"buffer_units", {{"type", {"integer", "null"}}}},
                {"serials", {{"type", "array"}, {"items", string}}},
                {"held", integer},
                {"retired", integer},
                {"cancelled", integer}})))},
      {kSpotCheckRequest,
       envelope(kSpotCheckRequest,
                object({"spot_check_id", "day", "region", "methodology_id", "methodology_version"},
                       {{"spot_check_id", integer},
                        {"day", date},
                        {"region", {{"type", "string"}, {"pattern", "^[0-9]{6}$"}}},
                        {"methodology_id", string},
                        {"methodology_version", {{"type", "integer"}, {"minimum", 1}}}}))},
      {"receipt",
       {{"type", "object"},
        {"required", {"protocol", "message_id", "status", "seq", "received_at", "signature"}},
        {"properties",
         {{"protocol", {{"const", kProtocol}}},
          {"message_id", {{"type", "string"}}},
          {"status", {{"enum", {"accepted", "duplicate"}}}},
          {"seq", {{"type", "integer"}}},
          {"received_at", {{"type", "string"}, {"format", "date-time"}}},
          {"outcome",
           object({"outcome"},
                  {{"outcome", {{"enum", {"submitted", "refused", "matched", "mismatched"}}}},
                   {"reason", string},
                   {"methodology_version_id", integer},
                   {"batch_no", integer},
                   {"findings", {{"type", "array"}}}})},
          {"signature", signature}}}}},
      {"reconciliation",
       {{"type", "object"},
        {"required", {"protocol", "platform_id", "differences", "signature"}},
        {"properties",
         {{"protocol", {{"const", kProtocol}}},
          {"platform_id", {{"type", "integer"}}},
          {"differences", {{"type", "array"}}},
          {"signature", signature}}}}},
      {"feed",
       {{"type", "object"},
        {"required", {"protocol", "platform_id", "messages", "more", "signature"}},
        {"properties",
         {{"protocol", {{"const", kProtocol}}},
          {"platform_id", {{"type", "integer"}}},
          {"messages", {{"type", "array"}, {"maxItems", kMaxPullMessages}}},
          {"more", {{"type", "boolean"}}},
          {"signature", signature}}}}},
      {"whoami", object({"protocol", "public_key", "sent_at", "signature"},
                        {{"protocol", {{"const", kProtocol}}},
                         {"public_key", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}},
                         {"sent_at", {{"type", "string"}, {"format", "date-time"}}},
                         {"signature", signature}})},
      {"whoami_reply",
       object({"protocol", "platform_id", "region", "status", "public_key", "signature"},
              {{"protocol", {{"const", kProtocol}}},
               {"platform_id", integer},
               {"region", string},
               {"status", {{"enum", {"active", "suspended"}}}},
               {"public_key", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}},
               {"signature", signature}})}};
  json directions = {{"city_to_province",
                      {{kAggregatesStream, kDailyAggregates},
                       {kMethodologiesStream, kMethodologySubmission},
                       {kBatchesStream, kCertificationBatch},
                       {kSpotChecksStream, kSpotCheckAnswer}}},
                     {"province_to_city",
                      {{kCatalogueStream, kMethodologyCatalogue},
                       {kOffersStream, kMerchantOffers},
                       {kRegistryStream, kRegistryStatus},
                       {kSpotChecksStream, kSpotCheckRequest}}},
                     {"control", {kReconcile, kPull}}};
  return {{"protocol", kProtocol}, {"streams", directions}, {"messages", messages}};
}

}  // namespace tph::link
