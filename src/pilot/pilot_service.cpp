#include "pilot/pilot_service.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "incentive/merchant_stats.h"
#include "ingest/reduction_stats.h"
#include "pilot/pilot_store.h"
#include "store/database.h"

namespace tph::pilot {

namespace {

using nlohmann::json;

bool isIsoDay(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  std::chrono::year_month_day day{std::chrono::year(std::stoi(text.substr(0, 4))),
                                  std::chrono::month(std::stoi(text.substr(5, 2))),
                                  std::chrono::day(std::stoi(text.substr(8, 2)))};
  return day.ok();
}

Result<std::string> requiredText(const json& object, const std::string& key,
                                 const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Error::invalid(where + key, "is required text");
  }
  if (it->get<std::string>().size() > kMaxPlanTextChars) {
    return Error::invalid(where + key,
                          "is longer than " + std::to_string(kMaxPlanTextChars) + " bytes");
  }
  return it->get<std::string>();
}

Result<std::int64_t> nonNegative(const json& object, const std::string& key,
                                 const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
    return Error::invalid(where + key, "must be a whole number, 0 or more");
  }
  return it->get<std::int64_t>();
}

Result<const json*> list(const json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array() || it->empty()) {
    return Error::invalid("plan." + key, "must be a non-empty list");
  }
  if (it->size() > kMaxPlanListItems) {
    return Error::invalid("plan." + key,
                          "has more than " + std::to_string(kMaxPlanListItems) + " items");
  }
  return &*it;
}

std::string quarterStart(int year, int quarter) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-01", year, (quarter - 1) * 3 + 1);
  return buf;
}

std::string quarterEnd(int year, int quarter) {
  using namespace std::chrono;
  year_month_day_last last{std::chrono::year(year),
                           month_day_last(month(static_cast<unsigned>(quarter * 3)))};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, quarter * 3,
                static_cast<unsigned>(last.day()));
  return buf;
}

json figuresToJson(const ProgressFigures& f) {
  return {{"participants", f.participants}, {"records", f.records},
          {"grams", f.grams.value()},       {"methodologies", f.methodologies},
          {"merchants", f.merchants},       {"data_providers", f.data_providers}};
}

ProgressFigures figuresFromJson(const json& j) {
  // Reports filed before merchants and data providers were measured read them as 0.
  return {j.at("participants"),
          j.at("records"),
          Grams(j.at("grams").get<std::int64_t>()),
          j.at("methodologies"),
          j.value("merchants", std::int64_t{0}),
          j.value("data_providers", std::int64_t{0})};
}

json goalToJson(const YearGoal& g) {
  return {{"year", g.year},
          {"participants", g.participants},
          {"tonnes", g.tonnes},
          {"merchants", g.merchants},
          {"methodologies", g.methodologies}};
}

ProgressFigures measure(store::Database& db, const std::string& region, const std::string& from,
                        const std::string& until) {
  auto totals = ingest::ReductionStats(db).totals(region, from, until);
  auto end = shanghaiDayStart(until);
  std::int64_t merchants =
      end ? incentive::approvedMerchantsBefore(db, region, *end + std::chrono::hours(24)) : 0;
  return {totals.participants,  totals.records, totals.grams,
          totals.methodologies, merchants,      totals.providers};
}

bool isReviewer(const std::vector<Review>& reviews, std::int64_t user_id) {
  return std::any_of(reviews.begin(), reviews.end(),
                     [&](const Review& r) { return r.reviewer_user_id == user_id; });
}

PilotApplication loadApplication(soci::session& sql, const detail::ApplicationRow& row) {
  PilotApplication a;
  a.id = row.id;
  a.round_id = row.round_id;
  a.region_code = row.region_code;
  a.state = row.state;
  a.plan = *planFromJson(json::parse(row.plan_json));
  if (row.submitted_at_ms) a.submitted_at = fromEpochMs(*row.submitted_at_ms);
  a.decision_reason = row.decision_reason;
  a.pilot_from = row.pilot_from;
  a.reviews = detail::reviews(sql, row.id);
  a.attachments = detail::attachments(sql, row.id);
  if (!a.reviews.empty() && std::all_of(a.reviews.begin(), a.reviews.end(),
                                        [](const Review& r) { return r.total_milli; })) {
    std::int64_t sum = 0;
    for (const auto& r : a.reviews) sum += *r.total_milli;
    a.mean_total_milli = sum / static_cast<std::int64_t>(a.reviews.size());
  }
  return a;
}

bool mayRead(const auth::Principal& caller, const PilotApplication& a) {
  return caller.administersRegion(a.region_code) || isReviewer(a.reviews, caller.user_id);
}

Error notFound(std::int64_t id) {
  return Error::notFound("no pilot application " + std::to_string(id), "id");
}

}  // namespace

const std::vector<std::string>& planTaskDomains() {
  static const std::vector<std::string> domains = {"electricity",
                                                   "water",
                                                   "gas",
                                                   "low_carbon_travel",
                                                   "nev",
                                                   "waste_recycling",
                                                   "carbon_sink",
                                                   "low_carbon_community",
                                                   "low_carbon_park",
                                                   "low_carbon_transport",
                                                   "low_carbon_campus",
                                                   "low_carbon_hotel",
                                                   "low_carbon_scenic_area"};
  return domains;
}

Result<PilotPlan> planFromJson(const json& j) {
  if (!j.is_object()) return Error::invalid("plan", "must be an object");
  PilotPlan plan;
  auto approach = requiredText(j, "approach", "plan.");
  if (!approach) return approach.error();
  plan.approach = *approach;
  auto safeguards = requiredText(j, "safeguards", "plan.");
  if (!safeguards) return safeguards.error();
  plan.safeguards = *safeguards;

  auto goals = list(j, "goals");
  if (!goals) return goals.error();
  std::set<int> years;
  for (std::size_t i = 0; i < (*goals)->size(); ++i) {
    const auto& g = (**goals)[i];
    std::string where = "plan.goals[" + std::to_string(i) + "].";
    if (!g.is_object())
      return Error::invalid(where.substr(0, where.size() - 1), "must be an object");
    auto year = g.find("year");
    if (year == g.end() || !year->is_number_integer() || *year < 2015 || *year > 2100) {
      return Error::invalid(where + "year", "must be a year between 2015 and 2100");
    }
    if (!years.insert(year->get<int>()).second) {
      return Error::invalid(where + "year", "has a goal already");
    }
    YearGoal goal;
    goal.year = *year;
    for (auto [key, out] :
         {std::pair{"participants", &goal.participants}, std::pair{"tonnes", &goal.tonnes},
          std::pair{"merchants", &goal.merchants},
          std::pair{"methodologies", &goal.methodologies}}) {
      auto v = nonNegative(g, key, where);
      if (!v) return v.error();
      *out = *v;
    }
    plan.goals.push_back(goal);
  }

  auto tasks = list(j, "tasks");
  if (!tasks) return tasks.error();
  const auto& domains = planTaskDomains();
  for (std::size_t i = 0; i < (*tasks)->size(); ++i) {
    const auto& t = (**tasks)[i];
    std::string where = "plan.tasks[" + std::to_string(i) + "]";
    if (!t.is_string() ||
        std::find(domains.begin(), domains.end(), t.get<std::string>()) == domains.end()) {
      return Error::invalid(where, "must be one of the task domains");
    }
    if (std::find(plan.tasks.begin(), plan.tasks.end(), t.get<std::string>()) != plan.tasks.end()) {
      return Error::invalid(where, "is listed twice");
    }
    plan.tasks.push_back(t);
  }

  auto schedule = list(j, "schedule");
  if (!schedule) return schedule.error();
  for (std::size_t i = 0; i < (*schedule)->size(); ++i) {
    const auto& m = (**schedule)[i];
    std::string where = "plan.schedule[" + std::to_string(i) + "].";
    if (!m.is_object())
      return Error::invalid(where.substr(0, where.size() - 1), "must be an object");
    auto date = m.find("date");
    if (date == m.end() || !date->is_string() || !isIsoDay(*date)) {
      return Error::invalid(where + "date", "must be a date YYYY-MM-DD");
    }
    auto title = requiredText(m, "title", where);
    if (!title) return title.error();
    plan.schedule.push_back({*date, *title});
  }
  return plan;
}

json planToJson(const PilotPlan& plan) {
  json goals = json::array(), schedule = json::array();
  for (const auto& g : plan.goals) goals.push_back(goalToJson(g));
  for (const auto& m : plan.schedule) schedule.push_back({{"date", m.date}, {"title", m.title}});
  return {{"approach", plan.approach},
          {"goals", goals},
          {"tasks", plan.tasks},
          {"safeguards", plan.safeguards},
          {"schedule", schedule}};
}

std::int64_t weightedTotalMilli(const std::vector<RubricCriterion>& rubric,
                                const std::map<std::string, int>& scores) {
  std::int64_t total = 0;
  for (const auto& c : rubric) {
    total += static_cast<std::int64_t>(scores.at(c.key)) * c.weight_percent * 1000 / c.max_score;
  }
  return total;
}

Result<PilotRound> PilotService::openRound(const auth::Principal& caller, const std::string& name,
                                           Instant deadline,
                                           const std::vector<RubricCriterion>& rubric) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province opens a pilot application round");
  }
  if (name.empty() || name.size() > 200) return Error::invalid("name", "must be 1 to 200 bytes");
  if (deadline <= clock_.now()) return Error::invalid("deadline", "must be in the future");
  if (rubric.empty() || rubric.size() > kMaxRubricCriteria) {
    return Error::invalid("rubric",
                          "must have 1 to " + std::to_string(kMaxRubricCriteria) + " criteria");
  }
  int weights = 0;
  std::set<std::string> keys;
  json rubric_json = json::array();
  for (std::size_t i = 0; i < rubric.size(); ++i) {
    const auto& c = rubric[i];
    std::string where = "rubric[" + std::to_string(i) + "].";
    if (c.key.empty() || !keys.insert(c.key).second) {
      return Error::invalid(where + "key", "must be present and unique");
    }
    if (c.name.empty()) return Error::invalid(where + "name", "is required");
    if (c.max_score < 1 || c.max_score > 1000) {
      return Error::invalid(where + "max_score", "must be 1 to 1000");
    }
    if (c.weight_percent < 1 || c.weight_percent > 100) {
      return Error::invalid(where + "weight_percent", "must be 1 to 100");
    }
    weights += c.weight_percent;
    rubric_json.push_back({{"key", c.key},
                           {"name", c.name},
                           {"max_score", c.max_score},
                           {"weight_percent", c.weight_percent}});
  }
  if (weights != 100) return Error::invalid("rubric", "weights must sum to 100");
  return db_.transaction([&](soci::session& sql) -> Result<PilotRound> {
    auto now_ms = toEpochMs(clock_.now());
    auto id = detail::insertRound(sql, name, toEpochMs(deadline), rubric_json.dump(),
                                  caller.auditActor(), now_ms);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "pilot.round.open",
         "pilot_round:" + std::to_string(id),
         {{"name", name}, {"deadline", formatIso8601(deadline)}, {"rubric", rubric_json}}});
    return *detail::findRound(sql, id);
  });
}

Result<PilotRound> PilotService::round(std::int64_t id) {
  auto r = db_.read([&](soci::session& sql) { return detail::findRound(sql, id); });
  if (!r) return Error::notFound("no pilot round " + std::to_string(id), "id");
  return *r;
}

std::vector<PilotRound> PilotService::rounds() {
  return db_.read([&](soci::session& sql) { return detail::listRounds(sql); });
}

Result<PilotApplication> PilotService::draft(const auth::Principal& caller, std::int64_t round_id,
                                             const std::string& region_code,
                                             const PilotPlan& plan) {
  if (!isRegionCode(region_code) || regionLevel(region_code) == RegionLevel::kProvince) {
    return Error::invalid("region", "must be the code of a city or a county-level division");
  }
  if (!caller.actsInRegion(auth::Role::kRegionAdmin, region_code)) {
    return Error::forbidden("only an admin of " + region_code + " drafts its application",
                            "region");
  }
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto round = detail::findRound(sql, round_id);
    if (!round) return Error::notFound("no pilot round " + std::to_string(round_id), "round_id");
    if (clock_.now() > round->deadline) {
      return Error::conflict("the round closed at " + formatIso8601(round->deadline), "round_id");
    }
    if (!detail::regionExists(sql, region_code)) {
      return Error::invalid("region", "no region " + region_code);
    }
    if (detail::findApplicationId(sql, round_id, region_code)) {
      return Error::conflict(region_code + " has an application in this round already", "region");
    }
    auto now_ms = toEpochMs(clock_.now());
    auto plan_json = planToJson(plan);
    auto id = detail::insertApplication(sql, round_id, region_code, plan_json.dump(),
                                        caller.auditActor(), now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.draft",
                             "pilot_application:" + std::to_string(id),
                             {{"round_id", round_id},
                              {"region", region_code},
                              {"plan_digest", sha256Hex(plan_json.dump())}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<PilotApplication> PilotService::revise(const auth::Principal& caller, std::int64_t id,
                                              const PilotPlan& plan) {
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    if (!caller.actsInRegion(auth::Role::kRegionAdmin, row->region_code)) {
      return Error::forbidden("only an admin of " + row->region_code + " revises its plan");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    auto plan_json = planToJson(plan);
    detail::updatePlan(sql, id, plan_json.dump(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.revise",
                             "pilot_application:" + std::to_string(id),
                             {{"plan_digest", sha256Hex(plan_json.dump())}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<AttachmentInfo> PilotService::attach(const auth::Principal& caller, std::int64_t id,
                                            const std::string& name,
                                            const std::string& content_base64) {
  if (name.empty() || name.size() > 200 || name.find('/') != std::string::npos || name.size() < 5 ||
      name.substr(name.size() - 4) != ".pdf") {
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
  if (bytes.rfind("%PDF-", 0) != 0) return Error::invalid("content_base64", "is not a PDF file");
  if (static_cast<std::int64_t>(bytes.size()) > kMaxAttachmentBytes) {
    return Error::invalid("content_base64", "the file is larger than 5 MiB");
  }
  return db_.transaction([&](soci::session& sql) -> Result<AttachmentInfo> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    if (!caller.actsInRegion(auth::Role::kRegionAdmin, row->region_code)) {
      return Error::forbidden("only an admin of " + row->region_code + " attaches files");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    if (detail::attachments(sql, id).size() >= kMaxAttachments) {
      return Error::conflict("an application holds at most " + std::to_string(kMaxAttachments) +
                             " attachments");
    }
    AttachmentInfo info{0, name, sha256Hex(bytes), static_cast<std::int64_t>(bytes.size())};
    info.id = detail::insertAttachment(sql, id, info, content_base64, caller.auditActor(),
                                       toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.attach",
                             "pilot_application:" + std::to_string(id),
                             {{"name", name}, {"sha256", info.sha256}, {"bytes", info.bytes}}});
    return info;
  });
}

Result<PilotApplication> PilotService::submit(const auth::Principal& caller, std::int64_t id) {
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    if (!caller.actsInRegion(auth::Role::kRegionAdmin, row->region_code)) {
      return Error::forbidden("only an admin of " + row->region_code + " submits its application");
    }
    if (row->state != "draft") return Error::conflict("the application is " + row->state, "state");
    auto round = detail::findRound(sql, row->round_id);
    if (clock_.now() > round->deadline) {
      return Error::conflict("the application deadline was " + formatIso8601(round->deadline),
                             "deadline");
    }
    detail::setSubmitted(sql, id, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.submit",
                             "pilot_application:" + std::to_string(id),
                             {{"region", row->region_code}, {"round_id", row->round_id}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<PilotApplication> PilotService::assignReviewers(
    const auth::Principal& caller, std::int64_t id,
    const std::vector<std::int64_t>& reviewer_user_ids) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province assigns reviewers");
  }
  if (reviewer_user_ids.empty() || reviewer_user_ids.size() > 20) {
    return Error::invalid("reviewers", "must name 1 to 20 users");
  }
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    if (row->state != "submitted" && row->state != "in_review") {
      return Error::conflict("the application is " + row->state, "state");
    }
    auto now_ms = toEpochMs(clock_.now());
    json added = json::array();
    for (std::size_t i = 0; i < reviewer_user_ids.size(); ++i) {
      auto user = reviewer_user_ids[i];
      if (!detail::userExists(sql, user)) {
        return Error::invalid("reviewers[" + std::to_string(i) + "]",
                              "no user " + std::to_string(user));
      }
      if (detail::insertReviewer(sql, id, user, caller.auditActor(), now_ms)) added.push_back(user);
    }
    detail::setState(sql, id, "in_review", now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.assign_reviewers",
                             "pilot_application:" + std::to_string(id),
                             {{"reviewers", added}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<PilotApplication> PilotService::score(const auth::Principal& caller, std::int64_t id,
                                             const std::map<std::string, int>& scores,
                                             const std::string& comment) {
  if (comment.size() > kMaxPlanTextChars) return Error::invalid("comment", "is too long");
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    auto reviews = detail::reviews(sql, id);
    if (!isReviewer(reviews, caller.user_id)) {
      return Error::forbidden("only a reviewer assigned to this application scores it");
    }
    if (row->state != "in_review")
      return Error::conflict("the application is " + row->state, "state");
    auto round = detail::findRound(sql, row->round_id);
    for (const auto& [key, value] : scores) {
      auto c = std::find_if(round->rubric.begin(), round->rubric.end(),
                            [&](const RubricCriterion& r) { return r.key == key; });
      if (c == round->rubric.end()) {
        return Error::invalid("scores." + key, "is not a criterion of the rubric");
      }
      if (value < 0 || value > c->max_score) {
        return Error::invalid("scores." + key, "must be 0 to " + std::to_string(c->max_score));
      }
    }
    for (const auto& c : round->rubric) {
      if (!scores.count(c.key)) return Error::invalid("scores." + c.key, "is required");
    }
    auto total = weightedTotalMilli(round->rubric, scores);
    detail::setScores(sql, id, caller.user_id, json(scores).dump(), total, comment,
                      toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.application.score",
                             "pilot_application:" + std::to_string(id),
                             {{"scores", scores}, {"total_milli", total}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<PilotApplication> PilotService::decide(const auth::Principal& caller, std::int64_t id,
                                              bool approve, const std::string& reason,
                                              const std::string& pilot_from) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province decides on pilot applications");
  }
  if (!approve && reason.empty()) return Error::invalid("reason", "a rejection states its reasons");
  if (reason.size() > kMaxPlanTextChars) return Error::invalid("reason", "is too long");
  if (approve && !isIsoDay(pilot_from)) {
    return Error::invalid("pilot_from", "must be the day the region becomes a pilot, YYYY-MM-DD");
  }
  return db_.transaction([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplicationForUpdate(sql, id);
    if (!row) return notFound(id);
    if (row->state != "in_review")
      return Error::conflict("the application is " + row->state, "state");
    auto application = loadApplication(sql, *row);
    if (approve && !application.mean_total_milli) {
      return Error::conflict("every assigned reviewer must score before approval", "reviews");
    }
    if (approve && detail::findPilot(sql, row->region_code)) {
      return Error::conflict(row->region_code + " is a pilot already", "region");
    }
    auto now_ms = toEpochMs(clock_.now());
    detail::setDecision(sql, id, approve ? "approved" : "rejected", reason,
                        approve ? pilot_from : "", caller.auditActor(), now_ms);
    if (approve) detail::insertPilot(sql, row->region_code, id, pilot_from, now_ms);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         approve ? "pilot.application.approve" : "pilot.application.reject",
         "pilot_application:" + std::to_string(id),
         {{"region", row->region_code},
          {"reason", reason},
          {"pilot_from", approve ? pilot_from : ""},
          {"mean_total_milli",
           application.mean_total_milli ? json(*application.mean_total_milli) : json(nullptr)}}});
    return loadApplication(sql, *detail::findApplication(sql, id));
  });
}

Result<PilotApplication> PilotService::application(const auth::Principal& caller, std::int64_t id) {
  return db_.read([&](soci::session& sql) -> Result<PilotApplication> {
    auto row = detail::findApplication(sql, id);
    if (!row) return notFound(id);
    auto a = loadApplication(sql, *row);
    if (!mayRead(caller, a)) return notFound(id);
    return a;
  });
}

Result<std::vector<PilotApplication>> PilotService::applications(const auth::Principal& caller,
                                                                 std::int64_t round_id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<PilotApplication>> {
    if (!detail::findRound(sql, round_id)) {
      return Error::notFound("no pilot round " + std::to_string(round_id), "round_id");
    }
    std::vector<PilotApplication> out;
    for (auto id : detail::applicationIdsOfRound(sql, round_id)) {
      auto a = loadApplication(sql, *detail::findApplication(sql, id));
      if (mayRead(caller, a)) out.push_back(std::move(a));
    }
    return out;
  });
}

std::vector<Pilot> PilotService::pilots() {
  return db_.read([&](soci::session& sql) { return detail::listPilots(sql); });
}

Result<ProgressReport> PilotService::fileProgress(const auth::Principal& caller,
                                                  const std::string& region, int year, int quarter,
                                                  const std::string& narrative) {
  if (quarter < 1 || quarter > 4) return Error::invalid("quarter", "must be 1 to 4");
  if (year < 2015 || year > 2100) return Error::invalid("year", "must be 2015 to 2100");
  if (narrative.empty() || narrative.size() > kMaxPlanTextChars) {
    return Error::invalid("narrative", "is required, at most 20000 bytes");
  }
  if (!caller.actsInRegion(auth::Role::kRegionAdmin, region)) {
    return Error::forbidden("only an admin of " + region + " files its progress", "region");
  }
  std::string from = quarterStart(year, quarter), until = quarterEnd(year, quarter);
  if (shanghaiDay(clock_.now()) <= until) {
    return Error::conflict("the quarter ends on " + until + "; report after it", "quarter");
  }
  // Measured outside the write transaction: reading the reductions takes no lock.
  ProgressFigures measured = measure(db_, region, from, until);
  ProgressFigures year_to_date = measure(db_, region, quarterStart(year, 1), until);
  return db_.transaction([&](soci::session& sql) -> Result<ProgressReport> {
    auto pilot = detail::findPilot(sql, region);
    if (!pilot) return Error::notFound(region + " is not a pilot region", "region");
    if (pilot->pilot_from > until) {
      return Error::conflict(region + " is a pilot from " + pilot->pilot_from, "quarter");
    }
    if (detail::progressExists(sql, region, year, quarter)) {
      return Error::conflict("the report of " + std::to_string(year) + " Q" +
                                 std::to_string(quarter) + " is filed already",
                             "quarter");
    }
    auto application = loadApplication(sql, *detail::findApplication(sql, pilot->application_id));
    ProgressReport report;
    report.region_code = region;
    report.year = year;
    report.quarter = quarter;
    report.measured = measured;
    report.year_to_date = year_to_date;
    for (const auto& g : application.plan.goals) {
      if (g.year == year) report.target = g;
    }
    report.narrative = narrative;
    report.filed_at = clock_.now();
    detail::ProgressRow row;
    row.region_code = region;
    row.year = year;
    row.quarter = quarter;
    row.measured_json =
        json{{"quarter", figuresToJson(measured)}, {"year_to_date", figuresToJson(year_to_date)}}
            .dump();
    row.targets_json = report.target ? goalToJson(*report.target).dump() : "null";
    row.narrative = narrative;
    row.filed_at_ms = toEpochMs(report.filed_at);
    report.id = detail::insertProgress(sql, row, caller.auditActor());
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "pilot.progress.file",
                             "pilot_progress:" + std::to_string(report.id),
                             {{"region", region},
                              {"year", year},
                              {"quarter", quarter},
                              {"measured", json::parse(row.measured_json)}}});
    return report;
  });
}

std::vector<ProgressReport> PilotService::progressReports(const std::string& region) {
  return db_.read([&](soci::session& sql) {
    std::vector<ProgressReport> out;
    for (const auto& row : detail::listProgress(sql, region)) {
      ProgressReport r;
      r.id = row.id;
      r.region_code = row.region_code;
      r.year = row.year;
      r.quarter = row.quarter;
      auto measured = json::parse(row.measured_json);
      r.measured = figuresFromJson(measured.at("quarter"));
      r.year_to_date = figuresFromJson(measured.at("year_to_date"));
      auto target = json::parse(row.targets_json);
      if (!target.is_null()) {
        r.target = YearGoal{target.at("year"), target.at("participants"), target.at("tonnes"),
                            target.at("merchants"), target.at("methodologies")};
      }
      r.narrative = row.narrative;
      r.filed_at = fromEpochMs(row.filed_at_ms);
      out.push_back(std::move(r));
    }
    return out;
  });
}

}  // namespace tph::pilot
