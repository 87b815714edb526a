#include "programme/programme_service.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "programme/programme_store.h"
#include "store/data_key.h"
#include "store/database.h"

namespace tph::programme {

namespace {

using nlohmann::json;

Result<std::string> text(const json& object, const std::string& key, const std::string& where,
                         std::size_t max_bytes, bool required = true) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return Error::invalid(where + key, "is required");
    return std::string();
  }
  if (!it->is_string()) return Error::invalid(where + key, "must be text");
  const auto& value = it->get_ref<const std::string&>();
  if (required && value.empty()) return Error::invalid(where + key, "is required");
  if (value.size() > max_bytes) {
    return Error::invalid(where + key, "is longer than " + std::to_string(max_bytes) + " bytes");
  }
  return value;
}

Result<int> integer(const json& object, const std::string& key, const std::string& where, int min,
                    int max) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer() || it->get<std::int64_t>() < min ||
      it->get<std::int64_t>() > max) {
    return Error::invalid(where + key, "must be a whole number from " + std::to_string(min) +
                                           " to " + std::to_string(max));
  }
  return it->get<int>();
}

bool isKey(const std::string& key) {
  if (key.empty() || key.size() > 40) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Status checkContent(const CriteriaContent& c) {
  if (!isProgrammeType(c.programme_type)) {
    return Error::invalid("type",
                          "must be community, park, transport, campus, hotel or scenic_area");
  }
  if (c.name.empty() || c.name.size() > kMaxNameBytes) {
    return Error::invalid("name", "must be 1 to " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (c.indicators.empty() || c.indicators.size() > kMaxIndicators) {
    return Error::invalid("indicators",
                          "must have 1 to " + std::to_string(kMaxIndicators) + " indicators");
  }
  if (c.pass_mark < 0 || c.pass_mark > 100) return Error::invalid("pass_mark", "must be 0 to 100");
  if (c.validity_months < 1 || c.validity_months > kMaxValidityMonths) {
    return Error::invalid("validity_months", "must be 1 to " + std::to_string(kMaxValidityMonths));
  }
  std::set<std::string> keys;
  int weights = 0;
  for (std::size_t i = 0; i < c.indicators.size(); ++i) {
    const auto& d = c.indicators[i];
    std::string where = "indicators[" + std::to_string(i) + "].";
    if (!isKey(d.key)) {
      return Error::invalid(where + "key", "must be 1 to 40 of a-z, 0-9 and _");
    }
    if (!keys.insert(d.key).second) return Error::invalid(where + "key", "is used twice");
    if (d.name.empty() || d.name.size() > kMaxNameBytes) {
      return Error::invalid(where + "name", "must be 1 to 200 bytes");
    }
    if (d.description.size() > kMaxTextBytes) {
      return Error::invalid(where + "description", "is too long");
    }
    if (d.weight_percent < 1 || d.weight_percent > 100) {
      return Error::invalid(where + "weight_percent", "must be 1 to 100");
    }
    if (d.max_score < 1 || d.max_score > kMaxIndicatorScore) {
      return Error::invalid(where + "max_score", "must be 1 to 1000");
    }
    if (d.min_score < 0 || d.min_score > d.max_score) {
      return Error::invalid(where + "min_score", "must be 0 to the indicator's max_score");
    }
    weights += d.weight_percent;
  }
  if (weights != 100) {
    return Error::invalid("indicators", "weights must sum to 100, not " + std::to_string(weights));
  }
  return {};
}

json contentDigestJson(const CriteriaContent& c) {
  json indicators = json::array();
  for (const auto& i : c.indicators) {
    indicators.push_back({{"key", i.key},
                          {"weight_percent", i.weight_percent},
                          {"max_score", i.max_score},
                          {"min_score", i.min_score}});
  }
  return {{"type", c.programme_type},
          {"name", c.name},
          {"indicators", indicators},
          {"pass_mark", c.pass_mark},
          {"validity_months", c.validity_months}};
}

const Indicator* findIndicator(const CriteriaContent& c, const std::string& key) {
  for (const auto& i : c.indicators) {
    if (i.key == key) return &i;
  }
  return nullptr;
}

//! The region must be a known county-level division, or a city with none under it.
Status checkEntityRegion(soci::session& sql, const std::string& code) {
  auto facts = detail::regionFacts(sql, code);
  if (!facts) return Error::invalid("region", "no region " + code);
  if (facts->level == "province" || (facts->level == "city" && facts->has_children)) {
    return Error::invalid("region", "must be the county-level division the entity lies in");
  }
  return {};
}

Status checkEvidenceKeys(const CriteriaContent& c, const EntityDetails& d) {
  for (const auto& [key, value] : d.evidence) {
    if (!findIndicator(c, key)) {
      return Error::invalid("evidence." + key, "is not an indicator of the criteria");
    }
  }
  return {};
}

Error applicationNotFound(std::int64_t id) {
  return Error::notFound("no programme application " + std::to_string(id), "id");
}

Error titleNotFound(std::int64_t id) {
  return Error::notFound("no programme title " + std::to_string(id), "id");
}

Error criteriaNotFound(std::int64_t id) {
  return Error::notFound("no programme criteria " + std::to_string(id), "id");
}

bool mayRead(const auth::Principal& caller, const detail::ApplicationRow& row) {
  return row.applicant_user_id == caller.user_id ||
         caller.administersRegion(row.details.region_code);
}

constexpr const char* kApplicationContact = "programme_applications.contact";

Application load(soci::session& sql, const FieldCipher& cipher, const detail::ApplicationRow& row) {
  Application a;
  a.id = row.id;
  a.criteria_id = row.criteria_id;
  a.criteria_version = detail::findCriteria(sql, row.criteria_id, false)->version;
  a.programme_type = row.programme_type;
  a.state = row.state;
  a.details = row.details;
  a.details.contact = cipher.reveal(row.details.contact, kApplicationContact);
  a.applicant_user_id = row.applicant_user_id;
  if (row.submitted_at_ms) a.submitted_at = fromEpochMs(*row.submitted_at_ms);
  a.assessment = row.assessment;
  a.decision_reason = row.decision_reason;
  a.title_id = detail::titleIdOfApplication(sql, row.id);
  a.attachments = detail::attachments(sql, row.id);
  return a;
}

//! `d` as it is stored: the contact sealed.
EntityDetails sealedDetails(const FieldCipher& cipher, EntityDetails d) {
  d.contact = cipher.seal(d.contact, kApplicationContact);
  return d;
}

json detailsAuditJson(const EntityDetails& d) {
  json evidence_digest = json::object();
  for (const auto& [key, value] : d.evidence) evidence_digest[key] = sha256Hex(value);
  return {{"entity_name", d.entity_name},
          {"entity_type", d.entity_type},
          {"region", d.region_code},
          {"address", d.address},
          {"coordinates", d.coordinates ? json{d.coordinates->lon_micro, d.coordinates->lat_micro}
                                        : json(nullptr)},
          {"evidence_sha256", evidence_digest}};
}

Result<std::string> decodePdf(const std::string& name, const std::string& content_base64) {
  if (name.size() < 5 || name.size() > kMaxNameBytes || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos || name.substr(name.size() - 4) != ".pdf") {
    return Error::invalid("name", "must be a file name ending in .pdf, at most 200 bytes");
  }
  if (content_base64.size() > static_cast<std::size_t>(kMaxAttachmentBytes / 3 * 4 + 8)) {
    return Error::invalid("content_base64", "the file is larger than 5 MiB");
  }
  ensureSodium();
  std::string bytes(content_base64.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(),
                        content_base64.data(), content_base64.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Error::invalid("content_base64", "is not base64");
  }
  bytes.resize(length);
  if (bytes.empty()) return Error::invalid("content_base64", "the file is empty");
  if (static_cast<std::int64_t>(bytes.size()) > kMaxAttachmentBytes) {
    return Error::invalid("content_base64", "the file is larger than 5 MiB");
  }
  // A PDF opens with its header and closes with an end-of-file marker in its last kilobyte.
  auto tail = bytes.substr(bytes.size() > 1024 ? bytes.size() - 1024 : 0);
  if (bytes.rfind("%PDF-", 0) != 0 || tail.find("%%EOF") == std::string::npos) {
    return Error::invalid("content_base64", "is not a PDF file");
  }
  return bytes;
}

}  // namespace

const std::vector<std::string>& programmeTypes() {
  static const std::vector<std::string> types = {"community", "park",  "transport",
                                                 "campus",    "hotel", "scenic_area"};
  return types;
}

bool isProgrammeType(std::string_view type) {
  const auto& types = programmeTypes();
  return std::find(types.begin(), types.end(), type) != types.end();
}

Result<CriteriaContent> criteriaFromJson(const json& j) {
  if (!j.is_object()) return Error::invalid("criteria", "must be an object");
  CriteriaContent c;
  TPH_TRY_ASSIGN(type, text(j, "type", "", 40));
  c.programme_type = type;
  TPH_TRY_ASSIGN(name, text(j, "name", "", kMaxNameBytes));
  c.name = name;
  TPH_TRY_ASSIGN(pass_mark, integer(j, "pass_mark", "", 0, 100));
  c.pass_mark = pass_mark;
  TPH_TRY_ASSIGN(validity, integer(j, "validity_months", "", 1, kMaxValidityMonths));
  c.validity_months = validity;
  auto list = j.find("indicators");
  if (list == j.end() || !list->is_array()) {
    return Error::invalid("indicators", "must be a list of indicators");
  }
  if (list->size() > kMaxIndicators) {
    return Error::invalid("indicators", "has more than " + std::to_string(kMaxIndicators));
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& d = (*list)[i];
    std::string where = "indicators[" + std::to_string(i) + "].";
    if (!d.is_object()) return Error::invalid(where.substr(0, where.size() - 1), "is no object");
    Indicator indicator;
    TPH_TRY_ASSIGN(key, text(d, "key", where, 40));
    indicator.key = key;
    TPH_TRY_ASSIGN(iname, text(d, "name", where, kMaxNameBytes));
    indicator.name = iname;
    TPH_TRY_ASSIGN(description, text(d, "description", where, kMaxTextBytes, false));
    indicator.description = description;
    TPH_TRY_ASSIGN(weight, integer(d, "weight_percent", where, 1, 100));
    indicator.weight_percent = weight;
    TPH_TRY_ASSIGN(max_score, integer(d, "max_score", where, 1, kMaxIndicatorScore));
    indicator.max_score = max_score;
    TPH_TRY_ASSIGN(min_score, integer(d, "min_score", where, 0, kMaxIndicatorScore));
    indicator.min_score = min_score;
    c.indicators.push_back(std::move(indicator));
  }
  TPH_TRY(checkContent(c));
  return c;
}

Result<EntityDetails> entityFromJson(const json& j) {
  if (!j.is_object()) return Error::invalid("entity", "must be an object");
  EntityDetails d;
  TPH_TRY_ASSIGN(name, text(j, "entity_name", "", kMaxNameBytes));
  d.entity_name = name;
  TPH_TRY_ASSIGN(type, text(j, "entity_type", "", 100));
  d.entity_type = type;
  TPH_TRY_ASSIGN(region, text(j, "region", "", 6));
  if (!isRegionCode(region)) return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  d.region_code = region;
  TPH_TRY_ASSIGN(address, text(j, "address", "", 500));
  d.address = address;
  TPH_TRY_ASSIGN(contact, text(j, "contact", "", 500));
  d.contact = contact;
  auto lon = j.find("lon"), lat = j.find("lat");
  bool has_lon = lon != j.end() && !lon->is_null(), has_lat = lat != j.end() && !lat->is_null();
  if (has_lon != has_lat) {
    return Error::invalid(has_lon ? "lat" : "lon", "lon and lat are given together or not at all");
  }
  if (has_lon) {
    if (!lon->is_number()) return Error::invalid("lon", "must be a longitude in degrees");
    if (!lat->is_number()) return Error::invalid("lat", "must be a latitude in degrees");
    double x = lon->get<double>(), y = lat->get<double>();
    if (!std::isfinite(x) || std::llround(x * 1e6) < kMinLonMicro ||
        std::llround(x * 1e6) > kMaxLonMicro) {
      return Error::invalid("lon", "must lie within Guangdong (109.6 to 117.4 degrees east)");
    }
    if (!std::isfinite(y) || std::llround(y * 1e6) < kMinLatMicro ||
        std::llround(y * 1e6) > kMaxLatMicro) {
      return Error::invalid("lat", "must lie within Guangdong (20.1 to 25.6 degrees north)");
    }
    d.coordinates = Coordinates{std::llround(x * 1e6), std::llround(y * 1e6)};
  }
  auto evidence = j.find("evidence");
  if (evidence != j.end() && !evidence->is_null()) {
    if (!evidence->is_object()) {
      return Error::invalid("evidence", "must map indicator keys to text");
    }
    for (const auto& [key, value] : evidence->items()) {
      if (!value.is_string()) return Error::invalid("evidence." + key, "must be text");
      if (value.get_ref<const std::string&>().size() > kMaxTextBytes) {
        return Error::invalid("evidence." + key, "is longer than 20000 bytes");
      }
      if (!value.get_ref<const std::string&>().empty()) d.evidence[key] = value;
    }
  }
  return d;
}

Evaluation evaluate(const CriteriaContent& criteria, const std::map<std::string, int>& scores) {
  Evaluation e;
  for (const auto& i : criteria.indicators) {
    int score = scores.at(i.key);
    e.total_milli += static_cast<std::int64_t>(score) * i.weight_percent * 1000 / i.max_score;
    if (score < i.min_score) e.below_minimum.push_back(i.key);
  }
  e.passed = e.below_minimum.empty() &&
             e.total_milli >= static_cast<std::int64_t>(criteria.pass_mark) * 1000;
  return e;
}

std::string validUntil(const std::string& awarded_on, int months) {
  using namespace std::chrono;
  year_month_day day{year(std::stoi(awarded_on.substr(0, 4))),
                     month(static_cast<unsigned>(std::stoi(awarded_on.substr(5, 2)))),
                     std::chrono::day(static_cast<unsigned>(std::stoi(awarded_on.substr(8, 2))))};
  year_month_day anniversary = day + std::chrono::months(months);
  sys_days end =
      anniversary.ok()
          ? sys_days(anniversary) - days(1)
          : sys_days(year_month_day_last(anniversary.year(), month_day_last(anniversary.month())));
  year_month_day last{end};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(last.year()),
                static_cast<unsigned>(last.month()), static_cast<unsigned>(last.day()));
  return buf;
}

Result<Criteria> ProgrammeService::draftCriteria(const auth::Principal& caller,
                                                 const CriteriaContent& content) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province drafts programme criteria");
  }
  TPH_TRY(checkContent(content));
  try {
    return draftCriteriaOnce(caller, content);
  } catch (const std::exception& e) {
    // Two drafts of a type at once: the (type, version) key lets one through.
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict("another version of " + content.programme_type +
                           " was drafted at the same moment; save again");
  }
}

Result<Criteria> ProgrammeService::draftCriteriaOnce(const auth::Principal& caller,
                                                     const CriteriaContent& content) {
  return db_.transaction([&](soci::session& sql) -> Result<Criteria> {
    int version = detail::nextCriteriaVersion(sql, content.programme_type);
    auto id =
        detail::insertCriteria(sql, content, version, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.criteria.draft",
                             "programme_criteria:" + std::to_string(id),
                             {{"version", version}, {"content", contentDigestJson(content)}}});
    return *detail::findCriteria(sql, id, false);
  });
}

Result<Criteria> ProgrammeService::reviseCriteria(const auth::Principal& caller, std::int64_t id,
                                                  const CriteriaContent& content) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province revises programme criteria");
  }
  TPH_TRY(checkContent(content));
  return db_.transaction([&](soci::session& sql) -> Result<Criteria> {
    auto found = detail::findCriteria(sql, id, true);
    if (!found) return criteriaNotFound(id);
    if (found->state != "draft") {
      return Error::conflict("a " + found->state +
                                 " criteria set is never changed; draft a new "
                                 "version",
                             "state");
    }
    if (found->content.programme_type != content.programme_type) {
      return Error::invalid("type", "a draft keeps its programme type");
    }
    detail::updateCriteria(sql, id, content);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.criteria.revise",
                             "programme_criteria:" + std::to_string(id),
                             {{"content", contentDigestJson(content)}}});
    return *detail::findCriteria(sql, id, false);
  });
}

Result<Criteria> ProgrammeService::publishCriteria(const auth::Principal& caller, std::int64_t id) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province publishes programme criteria");
  }
  try {
    return publishCriteriaOnce(caller, id);
  } catch (const std::exception& e) {
    // Two drafts of a type published at once: the one-published index lets one through.
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict("another version was published at the same moment", "state");
  }
}

Result<Criteria> ProgrammeService::publishCriteriaOnce(const auth::Principal& caller,
                                                       std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<Criteria> {
    auto found = detail::findCriteria(sql, id, true);
    if (!found) return criteriaNotFound(id);
    if (found->state != "draft") {
      return Error::conflict("the criteria set is " + found->state + " already", "state");
    }
    auto now_ms = toEpochMs(clock_.now());
    auto previous = detail::publishedCriteriaId(sql, found->content.programme_type);
    if (previous) {
      auto prior = detail::findCriteria(sql, *previous, true);
      if (prior->version > found->version) {
        return Error::conflict("version " + std::to_string(prior->version) +
                                   " is published already; draft a newer version",
                               "version");
      }
      detail::setSuperseded(sql, *previous, now_ms);
    }
    detail::setPublished(sql, id, caller.auditActor(), now_ms);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "programme.criteria.publish",
         "programme_criteria:" + std::to_string(id),
         {{"type", found->content.programme_type},
          {"version", found->version},
          {"supersedes", previous ? json(*previous) : json(nullptr)},
          {"content_sha256", sha256Hex(contentDigestJson(found->content).dump())}}});
    return *detail::findCriteria(sql, id, false);
  });
}

Result<Criteria> ProgrammeService::criteria(const auth::Principal* caller, std::int64_t id) {
  auto found = db_.read([&](soci::session& sql) { return detail::findCriteria(sql, id, false); });
  bool province = caller && caller->hasRole(auth::Role::kProvinceAdmin);
  if (!found || (found->state == "draft" && !province)) return criteriaNotFound(id);
  return *found;
}

Result<std::vector<Criteria>> ProgrammeService::criteriaList(const auth::Principal* caller,
                                                             const std::string& programme_type) {
  if (!programme_type.empty() && !isProgrammeType(programme_type)) {
    return Error::invalid("type", "is not a programme type");
  }
  bool province = caller && caller->hasRole(auth::Role::kProvinceAdmin);
  return db_.read(
      [&](soci::session& sql) { return detail::listCriteria(sql, programme_type, province); });
}

Result<Application> ProgrammeService::draftApplication(const auth::Principal& caller,
                                                       const std::string& programme_type,
                                                       const EntityDetails& details) {
  if (!isProgrammeType(programme_type)) return Error::invalid("type", "is not a programme type");
  if (caller.user_id <= 0 || !caller.api_key_id.empty()) {
    return Error::forbidden("a signed-in user applies on an entity's behalf");
  }
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto criteria_id = detail::publishedCriteriaId(sql, programme_type);
    if (!criteria_id) {
      return Error::conflict("the province has published no criteria for " + programme_type,
                             "type");
    }
    auto criteria = detail::findCriteria(sql, *criteria_id, false);
    TPH_TRY(checkEntityRegion(sql, details.region_code));
    TPH_TRY(checkEvidenceKeys(criteria->content, details));
    auto now_ms = toEpochMs(clock_.now());
    auto id = detail::insertApplication(sql, *criteria_id, programme_type,
                                        sealedDetails(store::dataCipher(), details), caller.user_id,
                                        now_ms);
    auto payload = detailsAuditJson(details);
    payload["type"] = programme_type;
    payload["criteria_id"] = *criteria_id;
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "programme.application.draft",
                             "programme_application:" + std::to_string(id), payload});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<Application> ProgrammeService::reviseApplication(const auth::Principal& caller,
                                                        std::int64_t id,
                                                        const EntityDetails& details) {
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (row->applicant_user_id != caller.user_id) {
      return Error::forbidden("only the applicant revises the application");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    auto criteria = detail::findCriteria(sql, row->criteria_id, false);
    TPH_TRY(checkEntityRegion(sql, details.region_code));
    TPH_TRY(checkEvidenceKeys(criteria->content, details));
    detail::updateDetails(sql, id, sealedDetails(store::dataCipher(), details),
                          toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "programme.application.revise",
         "programme_application:" + std::to_string(id), detailsAuditJson(details)});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<Attachment> ProgrammeService::attach(const auth::Principal& caller, std::int64_t id,
                                            const std::string& indicator_key,
                                            const std::string& name,
                                            const std::string& content_base64) {
  TPH_TRY_ASSIGN(bytes, decodePdf(name, content_base64));
  return db_.transaction([&](soci::session& sql) -> Result<Attachment> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (row->applicant_user_id != caller.user_id) {
      return Error::forbidden("only the applicant attaches evidence");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    auto criteria = detail::findCriteria(sql, row->criteria_id, false);
    if (!findIndicator(criteria->content, indicator_key)) {
      return Error::invalid("indicator", "is not an indicator of the criteria");
    }
    if (detail::attachments(sql, id).size() >= kMaxAttachments) {
      return Error::conflict("an application holds at most " + std::to_string(kMaxAttachments) +
                             " files");
    }
    Attachment info{0, indicator_key, name, sha256Hex(bytes),
                    static_cast<std::int64_t>(bytes.size())};
    info.id = detail::insertAttachment(sql, id, info, content_base64, caller.auditActor(),
                                       toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.application.attach",
                             "programme_application:" + std::to_string(id),
                             {{"indicator", indicator_key},
                              {"name", name},
                              {"sha256", info.sha256},
                              {"bytes", info.bytes}}});
    return info;
  });
}

Result<ProgrammeService::AttachmentFile> ProgrammeService::attachmentFile(
    const auth::Principal& caller, std::int64_t id, std::int64_t attachment_id) {
  return db_.read([&](soci::session& sql) -> Result<AttachmentFile> {
    auto row = detail::findApplication(sql, id, false);
    if (!row || !mayRead(caller, *row)) return applicationNotFound(id);
    auto content = detail::attachmentContent(sql, id, attachment_id);
    if (!content) return Error::notFound("no such attachment", "attachment_id");
    ensureSodium();
    std::string bytes(content->second.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(),
                          content->second.data(), content->second.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      throw std::runtime_error("programme_attachments holds invalid base64");
    }
    bytes.resize(length);
    return AttachmentFile{content->first, std::move(bytes)};
  });
}

Result<Application> ProgrammeService::submit(const auth::Principal& caller, std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (row->applicant_user_id != caller.user_id) {
      return Error::forbidden("only the applicant submits the application");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    auto criteria = detail::findCriteria(sql, row->criteria_id, false);
    auto files = detail::attachments(sql, id);
    for (const auto& indicator : criteria->content.indicators) {
      bool has_file = std::any_of(files.begin(), files.end(), [&](const Attachment& f) {
        return f.indicator_key == indicator.key;
      });
      if (!row->details.evidence.count(indicator.key) && !has_file) {
        return Error::invalid("evidence." + indicator.key,
                              "needs evidence: a text or a PDF for " + indicator.name);
      }
    }
    detail::setSubmitted(sql, id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.application.submit",
                             "programme_application:" + std::to_string(id),
                             {{"region", row->details.region_code},
                              {"type", row->programme_type},
                              {"criteria_id", row->criteria_id}}});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<Application> ProgrammeService::application(const auth::Principal& caller, std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, false);
    if (!row || !mayRead(caller, *row)) return applicationNotFound(id);
    return load(sql, store::dataCipher(), *row);
  });
}

std::vector<Application> ProgrammeService::applications(const auth::Principal& caller,
                                                        const ApplicationFilter& filter) {
  std::vector<std::string> prefixes;
  bool all = caller.hasRole(auth::Role::kProvinceAdmin);
  for (const auto& grant : caller.grants) {
    if (grant.role == auth::Role::kRegionAdmin && isRegionCode(grant.region_code)) {
      prefixes.push_back(regionPrefix(grant.region_code));
    }
  }
  return db_.read([&](soci::session& sql) {
    std::vector<Application> out;
    for (auto id :
         detail::applicationIds(sql, filter, caller.user_id, prefixes, all, kMaxPageSize)) {
      out.push_back(load(sql, store::dataCipher(), *detail::findApplication(sql, id, false)));
    }
    return out;
  });
}

Result<Application> ProgrammeService::score(const auth::Principal& caller, std::int64_t id,
                                            const std::map<std::string, int>& scores,
                                            const std::string& comment) {
  if (comment.size() > kMaxTextBytes) return Error::invalid("comment", "is too long");
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (!caller.administersRegion(row->details.region_code)) {
      return Error::forbidden("only an admin of " + row->details.region_code + " scores it");
    }
    if (row->applicant_user_id == caller.user_id) {
      return Error::forbidden("the applicant does not score its own application");
    }
    if (row->state != "submitted" && row->state != "scored") {
      return Error::conflict("the application is " + row->state, "state");
    }
    auto criteria = detail::findCriteria(sql, row->criteria_id, false);
    for (const auto& [key, value] : scores) {
      auto indicator = findIndicator(criteria->content, key);
      if (!indicator) return Error::invalid("scores." + key, "is not an indicator of the criteria");
      if (value < 0 || value > indicator->max_score) {
        return Error::invalid("scores." + key,
                              "must be 0 to " + std::to_string(indicator->max_score));
      }
    }
    for (const auto& indicator : criteria->content.indicators) {
      if (!scores.count(indicator.key)) {
        return Error::invalid("scores." + indicator.key, "is required");
      }
    }
    Assessment assessment{scores, evaluate(criteria->content, scores), comment, caller.auditActor(),
                          clock_.now()};
    detail::setAssessment(sql, id, assessment);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.application.score",
                             "programme_application:" + std::to_string(id),
                             {{"scores", scores},
                              {"total_milli", assessment.evaluation.total_milli},
                              {"passed", assessment.evaluation.passed},
                              {"below_minimum", assessment.evaluation.below_minimum}}});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<Application> ProgrammeService::award(const auth::Principal& caller, std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (!caller.administersRegion(row->details.region_code)) {
      return Error::forbidden("only an admin of " + row->details.region_code + " awards it");
    }
    if (row->applicant_user_id == caller.user_id) {
      return Error::forbidden("the applicant does not decide its own application");
    }
    if (row->state != "scored") {
      return Error::conflict(row->state == "submitted" ? "score every indicator before the award"
                                                       : "the application is " + row->state,
                             "state");
    }
    const auto& evaluation = row->assessment->evaluation;
    auto criteria = detail::findCriteria(sql, row->criteria_id, false);
    if (!evaluation.passed) {
      std::string why =
          evaluation.below_minimum.empty()
              ? "the total is below the pass mark of " + std::to_string(criteria->content.pass_mark)
              : "below the minimum: " + evaluation.below_minimum.front();
      return Error::conflict("the scores do not meet the criteria (" + why + "); reject instead",
                             "scores");
    }
    auto now = clock_.now();
    Title t;
    t.application_id = id;
    t.criteria_id = row->criteria_id;
    t.programme_type = row->programme_type;
    t.entity_name = row->details.entity_name;
    t.region_code = row->details.region_code;
    t.address = row->details.address;
    t.coordinates = row->details.coordinates;
    t.total_milli = evaluation.total_milli;
    t.awarded_on = shanghaiDay(now);
    t.valid_until = validUntil(t.awarded_on, criteria->content.validity_months);
    t.id = detail::insertTitle(sql, t, caller.auditActor(), toEpochMs(now));
    detail::setDecision(sql, id, "awarded", "", caller.auditActor(), toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.application.award",
                             "programme_application:" + std::to_string(id),
                             {{"title_id", t.id},
                              {"type", t.programme_type},
                              {"entity_name", t.entity_name},
                              {"region", t.region_code},
                              {"total_milli", t.total_milli},
                              {"awarded_on", t.awarded_on},
                              {"valid_until", t.valid_until}}});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<Application> ProgrammeService::reject(const auth::Principal& caller, std::int64_t id,
                                             const std::string& reason) {
  if (reason.empty()) return Error::invalid("reason", "a rejection states its reasons");
  if (reason.size() > kMaxTextBytes) return Error::invalid("reason", "is too long");
  return db_.transaction([&](soci::session& sql) -> Result<Application> {
    auto row = detail::findApplication(sql, id, true);
    if (!row) return applicationNotFound(id);
    if (!caller.administersRegion(row->details.region_code)) {
      return Error::forbidden("only an admin of " + row->details.region_code + " rejects it");
    }
    if (row->applicant_user_id == caller.user_id) {
      return Error::forbidden("the applicant does not decide its own application");
    }
    if (row->state != "submitted" && row->state != "scored") {
      return Error::conflict("the application is " + row->state, "state");
    }
    detail::setDecision(sql, id, "rejected", reason, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.application.reject",
                             "programme_application:" + std::to_string(id),
                             {{"region", row->details.region_code}, {"reason", reason}}});
    return load(sql, store::dataCipher(), *detail::findApplication(sql, id, false));
  });
}

Result<TitlePage> ProgrammeService::titles(const TitleFilter& filter) {
  if (!filter.programme_type.empty() && !isProgrammeType(filter.programme_type)) {
    return Error::invalid("type", "is not a programme type");
  }
  if (!filter.region_code.empty() && !isRegionCode(filter.region_code)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (!filter.status.empty() && filter.status != "valid" && filter.status != "expired" &&
      filter.status != "revoked") {
    return Error::invalid("status", "must be valid, expired or revoked");
  }
  if (filter.limit < 1 || filter.limit > kMaxPageSize) {
    return Error::invalid("limit", "must be 1 to " + std::to_string(kMaxPageSize));
  }
  if (filter.offset < 0) return Error::invalid("offset", "must be 0 or more");
  auto today = shanghaiDay(clock_.now());
  return db_.read([&](soci::session& sql) { return detail::listTitles(sql, filter, today); });
}

Result<Title> ProgrammeService::title(std::int64_t id) {
  auto today = shanghaiDay(clock_.now());
  auto found =
      db_.read([&](soci::session& sql) { return detail::findTitle(sql, id, today, false); });
  if (!found) return titleNotFound(id);
  return *found;
}

Result<Title> ProgrammeService::revoke(const auth::Principal& caller, std::int64_t id,
                                       const std::string& reason) {
  if (reason.empty()) return Error::invalid("reason", "a revocation states its reason");
  if (reason.size() > kMaxTextBytes) return Error::invalid("reason", "is too long");
  auto today = shanghaiDay(clock_.now());
  return db_.transaction([&](soci::session& sql) -> Result<Title> {
    auto found = detail::findTitle(sql, id, today, true);
    if (!found) return titleNotFound(id);
    if (!caller.administersRegion(found->region_code)) {
      return Error::forbidden("only an admin of " + found->region_code + " revokes its titles");
    }
    if (found->status != "valid") {
      return Error::conflict("the title is " + found->status + " already", "state");
    }
    detail::setRevoked(sql, id, reason, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "programme.title.revoke",
                             "programme_title:" + std::to_string(id),
                             {{"application_id", found->application_id},
                              {"region", found->region_code},
                              {"reason", reason}}});
    return *detail::findTitle(sql, id, today, false);
  });
}

}  // namespace tph::programme
