#include "programme/programme_store.h"

#include <algorithm>
#include <set>

#include "core/region_code.h"
#include "store/database.h"

namespace tph::programme::detail {

namespace {

using nlohmann::json;

bool isPostgres(soci::session& sql) {
  return store::backendOf(sql) == store::Backend::kPostgresql;
}

std::string forUpdate(soci::session& sql, bool for_update) {
  return for_update && isPostgres(sql) ? " FOR UPDATE" : "";
}

json indicatorsToJson(const std::vector<Indicator>& indicators) {
  json out = json::array();
  for (const auto& i : indicators) {
    out.push_back({{"key", i.key},
                   {"name", i.name},
                   {"description", i.description},
                   {"weight_percent", i.weight_percent},
                   {"max_score", i.max_score},
                   {"min_score", i.min_score}});
  }
  return out;
}

std::vector<Indicator> indicatorsFromJson(const std::string& text) {
  std::vector<Indicator> out;
  for (const auto& i : json::parse(text)) {
    out.push_back({i.at("key"), i.at("name"), i.at("description"), i.at("weight_percent"),
                   i.at("max_score"), i.at("min_score")});
  }
  return out;
}

std::optional<Instant> optionalInstant(const soci::row& row, std::size_t column) {
  auto ms = store::rowOptionalInt64(row, column);
  if (!ms) return std::nullopt;
  return fromEpochMs(*ms);
}

std::optional<Coordinates> coordinatesOf(const soci::row& row, std::size_t lon, std::size_t lat) {
  auto x = store::rowOptionalInt64(row, lon), y = store::rowOptionalInt64(row, lat);
  if (!x || !y) return std::nullopt;
  return Coordinates{*x, *y};
}

const char* kCriteriaColumns =
    "SELECT id, programme_type, version, name, state, indicators_json, pass_mark, "
    "validity_months, drafted_at_ms, published_at_ms, superseded_at_ms FROM programme_criteria ";

Criteria criteriaFromRow(const soci::row& row) {
  Criteria c;
  c.id = store::rowInt64(row, 0);
  c.content.programme_type = row.get<std::string>(1);
  c.version = static_cast<int>(store::rowInt64(row, 2));
  c.content.name = row.get<std::string>(3);
  c.state = row.get<std::string>(4);
  c.content.indicators = indicatorsFromJson(row.get<std::string>(5));
  c.content.pass_mark = static_cast<int>(store::rowInt64(row, 6));
  c.content.validity_months = static_cast<int>(store::rowInt64(row, 7));
  c.drafted_at = fromEpochMs(store::rowInt64(row, 8));
  c.published_at = optionalInstant(row, 9);
  c.superseded_at = optionalInstant(row, 10);
  return c;
}

const char* kApplicationColumns =
    "SELECT id, criteria_id, programme_type, state, entity_name, entity_type, region_code, "
    "address, lon_micro, lat_micro, contact, evidence_json, applicant_user_id, submitted_at_ms, "
    "scores_json, total_milli, passed, score_comment, scored_by, scored_at_ms, decision_reason "
    "FROM programme_applications WHERE id = :id";

ApplicationRow applicationFromRow(const soci::row& row) {
  ApplicationRow a;
  a.id = store::rowInt64(row, 0);
  a.criteria_id = store::rowInt64(row, 1);
  a.programme_type = row.get<std::string>(2);
  a.state = row.get<std::string>(3);
  a.details.entity_name = row.get<std::string>(4);
  a.details.entity_type = row.get<std::string>(5);
  a.details.region_code = row.get<std::string>(6);
  a.details.address = row.get<std::string>(7);
  a.details.coordinates = coordinatesOf(row, 8, 9);
  a.details.contact = row.get<std::string>(10);
  a.details.evidence =
      json::parse(row.get<std::string>(11)).get<std::map<std::string, std::string>>();
  a.applicant_user_id = store::rowInt64(row, 12);
  a.submitted_at_ms = store::rowOptionalInt64(row, 13);
  if (row.get_indicator(14) == soci::i_ok) {
    Assessment s;
    auto scores = json::parse(row.get<std::string>(14));
    s.scores = scores.at("scores").get<std::map<std::string, int>>();
    s.evaluation.below_minimum = scores.at("below_minimum").get<std::vector<std::string>>();
    s.evaluation.total_milli = store::rowInt64(row, 15);
    s.evaluation.passed = store::rowInt64(row, 16) != 0;
    s.comment = row.get<std::string>(17);
    s.scored_by = row.get<std::string>(18);
    s.scored_at = fromEpochMs(store::rowInt64(row, 19));
    a.assessment = std::move(s);
  }
  a.decision_reason = row.get<std::string>(20);
  return a;
}

const char* kTitleColumns =
    "SELECT t.id, t.application_id, t.criteria_id, c.version, t.programme_type, t.entity_name, "
    "t.region_code, t.address, t.lon_micro, t.lat_micro, t.total_milli, t.awarded_on, "
    "t.valid_until, t.revoked_reason, t.revoked_at_ms FROM programme_titles t "
    "JOIN programme_criteria c ON c.id = t.criteria_id ";

Title titleFromRow(const soci::row& row, const std::string& today) {
  Title t;
  t.id = store::rowInt64(row, 0);
  t.application_id = store::rowInt64(row, 1);
  t.criteria_id = store::rowInt64(row, 2);
  t.criteria_version = static_cast<int>(store::rowInt64(row, 3));
  t.programme_type = row.get<std::string>(4);
  t.entity_name = row.get<std::string>(5);
  t.region_code = row.get<std::string>(6);
  t.address = row.get<std::string>(7);
  t.coordinates = coordinatesOf(row, 8, 9);
  t.total_milli = store::rowInt64(row, 10);
  t.awarded_on = row.get<std::string>(11);
  t.valid_until = row.get<std::string>(12);
  t.revoked_reason = row.get<std::string>(13);
  t.revoked_at = optionalInstant(row, 14);
  t.status = t.revoked_at ? "revoked" : (t.valid_until < today ? "expired" : "valid");
  return t;
}

// The title filter's conditions; every parameter is bound even when it filters nothing.
const char* kTitleWhere =
    "WHERE (:type1 = '' OR t.programme_type = :type2) AND t.region_code LIKE :prefix "
    "AND (:status1 = '' "
    "OR (:status2 = 'revoked' AND t.revoked_at_ms IS NOT NULL) "
    "OR (:status3 = 'valid' AND t.revoked_at_ms IS NULL AND t.valid_until >= :today1) "
    "OR (:status4 = 'expired' AND t.revoked_at_ms IS NULL AND t.valid_until < :today2)) ";

}  // namespace

int nextCriteriaVersion(soci::session& sql, const std::string& programme_type) {
  int version = 0;
  soci::indicator ind = soci::i_ok;
  sql << "SELECT MAX(version) FROM programme_criteria WHERE programme_type = :t",
      soci::use(programme_type), soci::into(version, ind);
  return ind == soci::i_ok ? version + 1 : 1;
}

std::int64_t insertCriteria(soci::session& sql, const CriteriaContent& content, int version,
                            const std::string& actor, std::int64_t now_ms) {
  long long id = 0, now = now_ms;
  std::string indicators = indicatorsToJson(content.indicators).dump();
  sql << "INSERT INTO programme_criteria (programme_type, version, name, state, indicators_json, "
         "pass_mark, validity_months, drafted_by, drafted_at_ms) VALUES (:t, :v, :n, 'draft', "
         ":i, :p, :m, :a, :at) RETURNING id",
      soci::use(content.programme_type), soci::use(version), soci::use(content.name),
      soci::use(indicators), soci::use(content.pass_mark), soci::use(content.validity_months),
      soci::use(actor), soci::use(now), soci::into(id);
  return id;
}

void updateCriteria(soci::session& sql, std::int64_t id, const CriteriaContent& content) {
  long long key = id;
  std::string indicators = indicatorsToJson(content.indicators).dump();
  sql << "UPDATE programme_criteria SET name = :n, indicators_json = :i, pass_mark = :p, "
         "validity_months = :m WHERE id = :id AND state = 'draft'",
      soci::use(content.name), soci::use(indicators), soci::use(content.pass_mark),
      soci::use(content.validity_months), soci::use(key);
}

std::optional<Criteria> findCriteria(soci::session& sql, std::int64_t id, bool for_update) {
  long long key = id;
  std::string query = std::string(kCriteriaColumns) + "WHERE id = :id" + forUpdate(sql, for_update);
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return criteriaFromRow(row);
  return std::nullopt;
}

std::optional<std::int64_t> publishedCriteriaId(soci::session& sql,
                                                const std::string& programme_type) {
  long long id = 0;
  sql << "SELECT id FROM programme_criteria WHERE programme_type = :t AND state = 'published'",
      soci::use(programme_type), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

void setPublished(soci::session& sql, std::int64_t id, const std::string& actor,
                  std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE programme_criteria SET state = 'published', published_by = :a, "
         "published_at_ms = :t WHERE id = :id",
      soci::use(actor), soci::use(now), soci::use(key);
}

void setSuperseded(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE programme_criteria SET state = 'superseded', superseded_at_ms = :t WHERE id = :id",
      soci::use(now), soci::use(key);
}

std::vector<Criteria> listCriteria(soci::session& sql, const std::string& programme_type,
                                   bool include_drafts) {
  std::string type = programme_type;
  int drafts = include_drafts ? 1 : 0;
  std::string query = std::string(kCriteriaColumns) +
                      "WHERE (:t1 = '' OR programme_type = :t2) AND (:d = 1 OR state <> 'draft') "
                      "ORDER BY programme_type, version DESC";
  soci::rowset<soci::row> rows =
      (sql.prepare << query, soci::use(type), soci::use(type), soci::use(drafts));
  std::vector<Criteria> out;
  for (const auto& row : rows) out.push_back(criteriaFromRow(row));
  return out;
}

std::int64_t insertApplication(soci::session& sql, std::int64_t criteria_id,
                               const std::string& programme_type, const EntityDetails& d,
                               std::int64_t applicant_user_id, std::int64_t now_ms) {
  long long id = 0, criteria = criteria_id, user = applicant_user_id, now = now_ms;
  long long lon = d.coordinates ? d.coordinates->lon_micro : 0;
  long long lat = d.coordinates ? d.coordinates->lat_micro : 0;
  soci::indicator has = d.coordinates ? soci::i_ok : soci::i_null;
  soci::indicator has2 = has;
  std::string evidence = json(d.evidence).dump();
  sql << "INSERT INTO programme_applications (criteria_id, programme_type, state, entity_name, "
         "entity_type, region_code, address, lon_micro, lat_micro, contact, evidence_json, "
         "applicant_user_id, created_at_ms, updated_at_ms) VALUES (:c, :t, 'draft', :n, :et, :r, "
         ":ad, :lon, :lat, :ct, :ev, :u, :at, :at2) RETURNING id",
      soci::use(criteria), soci::use(programme_type), soci::use(d.entity_name),
      soci::use(d.entity_type), soci::use(d.region_code), soci::use(d.address), soci::use(lon, has),
      soci::use(lat, has2), soci::use(d.contact), soci::use(evidence), soci::use(user),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<ApplicationRow> findApplication(soci::session& sql, std::int64_t id,
                                              bool for_update) {
  long long key = id;
  std::string query = std::string(kApplicationColumns) + forUpdate(sql, for_update);
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return applicationFromRow(row);
  return std::nullopt;
}

void updateDetails(soci::session& sql, std::int64_t id, const EntityDetails& d,
                   std::int64_t now_ms) {
  long long key = id, now = now_ms;
  long long lon = d.coordinates ? d.coordinates->lon_micro : 0;
  long long lat = d.coordinates ? d.coordinates->lat_micro : 0;
  soci::indicator has = d.coordinates ? soci::i_ok : soci::i_null;
  soci::indicator has2 = has;
  std::string evidence = json(d.evidence).dump();
  sql << "UPDATE programme_applications SET entity_name = :n, entity_type = :et, "
         "region_code = :r, address = :ad, lon_micro = :lon, lat_micro = :lat, contact = :ct, "
         "evidence_json = :ev, updated_at_ms = :at WHERE id = :id",
      soci::use(d.entity_name), soci::use(d.entity_type), soci::use(d.region_code),
      soci::use(d.address), soci::use(lon, has), soci::use(lat, has2), soci::use(d.contact),
      soci::use(evidence), soci::use(now), soci::use(key);
}

void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE programme_applications SET state = 'submitted', submitted_at_ms = :t, "
         "updated_at_ms = :t2 WHERE id = :id",
      soci::use(now), soci::use(now), soci::use(key);
}

void setAssessment(soci::session& sql, std::int64_t id, const Assessment& s) {
  long long key = id, total = s.evaluation.total_milli, now = toEpochMs(s.scored_at);
  int passed = s.evaluation.passed ? 1 : 0;
  std::string scores =
      json{{"scores", s.scores}, {"below_minimum", s.evaluation.below_minimum}}.dump();
  sql << "UPDATE programme_applications SET state = 'scored', scores_json = :s, "
         "total_milli = :m, passed = :p, score_comment = :c, scored_by = :b, scored_at_ms = :t, "
         "updated_at_ms = :t2 WHERE id = :id",
      soci::use(scores), soci::use(total), soci::use(passed), soci::use(s.comment),
      soci::use(s.scored_by), soci::use(now), soci::use(now), soci::use(key);
}

void setDecision(soci::session& sql, std::int64_t id, const std::string& state,
                 const std::string& reason, const std::string& actor, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE programme_applications SET state = :s, decision_reason = :r, decided_by = :a, "
         "decided_at_ms = :t, updated_at_ms = :t2 WHERE id = :id",
      soci::use(state), soci::use(reason), soci::use(actor), soci::use(now), soci::use(now),
      soci::use(key);
}

std::vector<std::int64_t> applicationIds(soci::session& sql, const ApplicationFilter& filter,
                                         std::int64_t user_id,
                                         const std::vector<std::string>& region_prefixes,
                                         bool all_regions, int limit) {
  // One bound query per scope (the applicant's own, each administered region), merged newest first.
  const std::string select =
      "SELECT id FROM programme_applications WHERE (:s1 = '' OR state = :s2) "
      "AND (:t1 = '' OR programme_type = :t2) AND (:all = 1 OR applicant_user_id = :u OR "
      "region_code LIKE :p) ORDER BY id DESC LIMIT :n";
  std::vector<std::string> patterns;
  for (const auto& prefix : region_prefixes) patterns.push_back(prefix + "%");
  if (patterns.empty()) patterns.push_back("-");  // matches no region code
  int all = all_regions ? 1 : 0;
  long long user = user_id;
  std::set<std::int64_t, std::greater<>> ids;
  for (const auto& pattern : patterns) {
    soci::rowset<soci::row> rows =
        (sql.prepare << select, soci::use(filter.state), soci::use(filter.state),
         soci::use(filter.programme_type), soci::use(filter.programme_type), soci::use(all),
         soci::use(user), soci::use(pattern), soci::use(limit));
    for (const auto& row : rows) ids.insert(store::rowInt64(row, 0));
    if (all_regions) break;
  }
  std::vector<std::int64_t> out(ids.begin(), ids.end());
  if (out.size() > static_cast<std::size_t>(limit)) out.resize(limit);
  return out;
}

std::int64_t insertAttachment(soci::session& sql, std::int64_t application_id,
                              const Attachment& info, const std::string& content_base64,
                              const std::string& actor, std::int64_t now_ms) {
  long long id = 0, app = application_id, bytes = info.bytes, now = now_ms;
  sql << "INSERT INTO programme_attachments (application_id, indicator_key, name, sha256, bytes, "
         "content_base64, added_by, added_at_ms) VALUES (:a, :k, :n, :h, :b, :c, :by, :t) "
         "RETURNING id",
      soci::use(app), soci::use(info.indicator_key), soci::use(info.name), soci::use(info.sha256),
      soci::use(bytes), soci::use(content_base64), soci::use(actor), soci::use(now), soci::into(id);
  return id;
}

std::vector<Attachment> attachments(soci::session& sql, std::int64_t application_id) {
  long long app = application_id;
  std::vector<Attachment> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, indicator_key, name, sha256, bytes FROM programme_attachments "
                      "WHERE application_id = :a ORDER BY id",
       soci::use(app));
  for (const auto& row : rows) {
    out.push_back({store::rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                   row.get<std::string>(3), store::rowInt64(row, 4)});
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> attachmentContent(soci::session& sql,
                                                                     std::int64_t application_id,
                                                                     std::int64_t attachment_id) {
  long long app = application_id, id = attachment_id;
  std::string name, content;
  sql << "SELECT name, content_base64 FROM programme_attachments WHERE id = :id AND "
         "application_id = :a",
      soci::use(id), soci::use(app), soci::into(name), soci::into(content);
  if (!sql.got_data()) return std::nullopt;
  return std::pair{name, content};
}

std::optional<RegionFacts> regionFacts(soci::session& sql, const std::string& code) {
  std::string level;
  sql << "SELECT level FROM regions WHERE code = :c", soci::use(code), soci::into(level);
  if (!sql.got_data()) return std::nullopt;
  int children = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE parent_code = :c", soci::use(code),
      soci::into(children);
  return RegionFacts{level, children > 0};
}

std::int64_t insertTitle(soci::session& sql, const Title& t, const std::string& actor,
                         std::int64_t now_ms) {
  long long id = 0, app = t.application_id, criteria = t.criteria_id, total = t.total_milli,
            now = now_ms;
  long long lon = t.coordinates ? t.coordinates->lon_micro : 0;
  long long lat = t.coordinates ? t.coordinates->lat_micro : 0;
  soci::indicator has = t.coordinates ? soci::i_ok : soci::i_null;
  soci::indicator has2 = has;
  sql << "INSERT INTO programme_titles (application_id, criteria_id, programme_type, entity_name, "
         "region_code, address, lon_micro, lat_micro, total_milli, awarded_on, valid_until, "
         "awarded_by, awarded_at_ms) VALUES (:a, :c, :t, :n, :r, :ad, :lon, :lat, :m, :on, :u, "
         ":by, :at) RETURNING id",
      soci::use(app), soci::use(criteria), soci::use(t.programme_type), soci::use(t.entity_name),
      soci::use(t.region_code), soci::use(t.address), soci::use(lon, has), soci::use(lat, has2),
      soci::use(total), soci::use(t.awarded_on), soci::use(t.valid_until), soci::use(actor),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<std::int64_t> titleIdOfApplication(soci::session& sql, std::int64_t application_id) {
  long long app = application_id, id = 0;
  sql << "SELECT id FROM programme_titles WHERE application_id = :a", soci::use(app),
      soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::optional<Title> findTitle(soci::session& sql, std::int64_t id, const std::string& today,
                               bool for_update) {
  long long key = id;
  std::string query = std::string(kTitleColumns) + "WHERE t.id = :id" +
                      (for_update && isPostgres(sql) ? " FOR UPDATE OF t" : "");
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return titleFromRow(row, today);
  return std::nullopt;
}

TitlePage listTitles(soci::session& sql, const TitleFilter& f, const std::string& today) {
  std::string prefix = (f.region_code.empty() ? "" : regionPrefix(f.region_code)) + "%";
  TitlePage page;
  long long total = 0;
  sql << std::string("SELECT COUNT(*) FROM programme_titles t ") + kTitleWhere,
      soci::use(f.programme_type), soci::use(f.programme_type), soci::use(prefix),
      soci::use(f.status), soci::use(f.status), soci::use(f.status), soci::use(today),
      soci::use(f.status), soci::use(today), soci::into(total);
  page.total = total;
  int limit = f.limit, offset = f.offset;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kTitleColumns) + kTitleWhere +
                          "ORDER BY t.awarded_on DESC, t.id DESC LIMIT :n OFFSET :o",
       soci::use(f.programme_type), soci::use(f.programme_type), soci::use(prefix),
       soci::use(f.status), soci::use(f.status), soci::use(f.status), soci::use(today),
       soci::use(f.status), soci::use(today), soci::use(limit), soci::use(offset));
  for (const auto& row : rows) page.titles.push_back(titleFromRow(row, today));
  return page;
}

void setRevoked(soci::session& sql, std::int64_t id, const std::string& reason,
                const std::string& actor, std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE programme_titles SET revoked_reason = :r, revoked_by = :a, revoked_at_ms = :t "
         "WHERE id = :id",
      soci::use(reason), soci::use(actor), soci::use(now), soci::use(key);
}

}  // namespace tph::programme::detail
