#pragma once
// Pilot regions: the province opens an application round with a deadline and a rubric; a city or
// county admin drafts and submits an implementation plan; reviewers the province assigns score it;
// the province approves (the region is a pilot from a day) or rejects with reasons; pilots file
// quarterly progress beside figures the platform measures. Every step is audited.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::pilot {

inline constexpr std::size_t kMaxRubricCriteria = 20;
inline constexpr std::size_t kMaxPlanTextChars = 20'000;
inline constexpr std::size_t kMaxPlanListItems = 50;
inline constexpr std::int64_t kMaxAttachmentBytes = 5 * 1024 * 1024;
inline constexpr std::size_t kMaxAttachments = 10;

//! The task domains a plan may choose from (the seed's list plus the creation programmes).
const std::vector<std::string>& planTaskDomains();

struct RubricCriterion {
  std::string key;   //!< "goals", "feasibility", ...
  std::string name;  //!< shown to reviewers
  int max_score = 0;
  int weight_percent = 0;  //!< weights of a rubric sum to 100
  bool operator==(const RubricCriterion&) const = default;
};

struct PilotRound {
  std::int64_t id = 0;
  std::string name;
  Instant deadline;
  std::vector<RubricCriterion> rubric;
};

struct YearGoal {
  int year = 0;
  std::int64_t participants = 0;
  std::int64_t tonnes = 0;
  std::int64_t merchants = 0;
  std::int64_t methodologies = 0;
};

struct Milestone {
  std::string date;  //!< "YYYY-MM-DD"
  std::string title;
};

struct PilotPlan {
  std::string approach;
  std::vector<YearGoal> goals;
  std::vector<std::string> tasks;
  std::string safeguards;
  std::vector<Milestone> schedule;
};

//! Validates a plan given as JSON; errors name the field ("plan.goals[1].year").
Result<PilotPlan> planFromJson(const nlohmann::json& json);
nlohmann::json planToJson(const PilotPlan& plan);

struct AttachmentInfo {
  std::int64_t id = 0;
  std::string name;
  std::string sha256;
  std::int64_t bytes = 0;
};

struct Review {
  std::int64_t reviewer_user_id = 0;
  std::optional<std::map<std::string, int>> scores;  //!< absent until scored
  std::optional<std::int64_t> total_milli;           //!< weighted total out of 100, in thousandths
  std::string comment;
};

struct PilotApplication {
  std::int64_t id = 0;
  std::int64_t round_id = 0;
  std::string region_code;
  std::string state;  //!< draft, submitted, in_review, approved, rejected
  PilotPlan plan;
  std::optional<Instant> submitted_at;
  std::string decision_reason;
  std::string pilot_from;
  std::vector<Review> reviews;
  std::vector<AttachmentInfo> attachments;
  //! Mean of the reviewers' weighted totals, once every assigned reviewer has scored.
  std::optional<std::int64_t> mean_total_milli;
};

struct Pilot {
  std::string region_code;
  std::int64_t application_id = 0;
  std::string pilot_from;
};

struct ProgressFigures {
  std::int64_t participants = 0;
  std::int64_t records = 0;
  Grams grams;
  std::int64_t methodologies = 0;
  //! Approved alliance merchants in the region by the period's end (a count on that day).
  std::int64_t merchants = 0;
  //! Data linkage: the providers whose records were credited in the region in the period.
  std::int64_t data_providers = 0;
};

struct ProgressReport {
  std::int64_t id = 0;
  std::string region_code;
  int year = 0;
  int quarter = 0;
  ProgressFigures measured;        //!< in the quarter, by the platform
  ProgressFigures year_to_date;    //!< from 1 January to the quarter's end
  std::optional<YearGoal> target;  //!< the plan's goal for the year, if it set one
  std::string narrative;
  Instant filed_at;
};

//! Weighted total of one reviewer's scores, in thousandths of a point out of 100: each criterion
//! contributes score × weight / max, rounded down to a thousandth.
std::int64_t weightedTotalMilli(const std::vector<RubricCriterion>& rubric,
                                const std::map<std::string, int>& scores);

//! Shared between threads: holds no state of its own beyond references.
class PilotService {
 public:
  PilotService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<PilotRound> openRound(const auth::Principal& caller, const std::string& name,
                               Instant deadline, const std::vector<RubricCriterion>& rubric);
  Result<PilotRound> round(std::int64_t id);
  std::vector<PilotRound> rounds();

  Result<PilotApplication> draft(const auth::Principal& caller, std::int64_t round_id,
                                 const std::string& region_code, const PilotPlan& plan);
  Result<PilotApplication> revise(const auth::Principal& caller, std::int64_t id,
                                  const PilotPlan& plan);
  Result<AttachmentInfo> attach(const auth::Principal& caller, std::int64_t id,
                                const std::string& name, const std::string& content_base64);
  Result<PilotApplication> submit(const auth::Principal& caller, std::int64_t id);
  Result<PilotApplication> assignReviewers(const auth::Principal& caller, std::int64_t id,
                                           const std::vector<std::int64_t>& reviewer_user_ids);
  Result<PilotApplication> score(const auth::Principal& caller, std::int64_t id,
                                 const std::map<std::string, int>& scores,
                                 const std::string& comment);
  //! Approves (`pilot_from` a day) or rejects (a reason is required).
  Result<PilotApplication> decide(const auth::Principal& caller, std::int64_t id, bool approve,
                                  const std::string& reason, const std::string& pilot_from);
  //! The province, the region's admins and the assigned reviewers may read an application.
  Result<PilotApplication> application(const auth::Principal& caller, std::int64_t id);
  Result<std::vector<PilotApplication>> applications(const auth::Principal& caller,
                                                     std::int64_t round_id);

  std::vector<Pilot> pilots();

  //! A pilot's admin files the report of a quarter that has ended; the platform measures.
  Result<ProgressReport> fileProgress(const auth::Principal& caller, const std::string& region,
                                      int year, int quarter, const std::string& narrative);
  std::vector<ProgressReport> progressReports(const std::string& region);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::pilot
