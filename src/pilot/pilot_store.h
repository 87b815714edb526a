#pragma once
// SQL of the pilot module. Internal to src/pilot.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pilot/pilot_service.h"

namespace tph::pilot::detail {

std::int64_t insertRound(soci::session& sql, const std::string& name, std::int64_t deadline_ms,
                         const std::string& rubric_json, const std::string& actor,
                         std::int64_t now_ms);
std::optional<PilotRound> findRound(soci::session& sql, std::int64_t id);
std::vector<PilotRound> listRounds(soci::session& sql);

struct ApplicationRow {
  std::int64_t id = 0;
  std::int64_t round_id = 0;
  std::string region_code;
  std::string state;
  std::string plan_json;
  std::optional<std::int64_t> submitted_at_ms;
  std::string decision_reason;
  std::string pilot_from;
};
std::optional<std::int64_t> findApplicationId(soci::session& sql, std::int64_t round_id,
                                              const std::string& region_code);
std::int64_t insertApplication(soci::session& sql, std::int64_t round_id,
                               const std::string& region_code, const std::string& plan_json,
                               const std::string& actor, std::int64_t now_ms);
//! Locks the row on PostgreSQL, so two deciders cannot both act on one state.
std::optional<ApplicationRow> findApplicationForUpdate(soci::session& sql, std::int64_t id);
std::optional<ApplicationRow> findApplication(soci::session& sql, std::int64_t id);
std::vector<std::int64_t> applicationIdsOfRound(soci::session& sql, std::int64_t round_id);
void updatePlan(soci::session& sql, std::int64_t id, const std::string& plan_json,
                std::int64_t now_ms);
void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void setState(soci::session& sql, std::int64_t id, const std::string& state, std::int64_t now_ms);
void setDecision(soci::session& sql, std::int64_t id, const std::string& state,
                 const std::string& reason, const std::string& pilot_from, const std::string& actor,
                 std::int64_t now_ms);

bool userExists(soci::session& sql, std::int64_t user_id);
bool regionExists(soci::session& sql, const std::string& code);
//! Inserts the assignment unless it exists; returns whether it was new.
bool insertReviewer(soci::session& sql, std::int64_t application_id, std::int64_t user_id,
                    const std::string& actor, std::int64_t now_ms);
std::vector<Review> reviews(soci::session& sql, std::int64_t application_id);
void setScores(soci::session& sql, std::int64_t application_id, std::int64_t user_id,
               const std::string& scores_json, std::int64_t total_milli, const std::string& comment,
               std::int64_t now_ms);

std::int64_t insertAttachment(soci::session& sql, std::int64_t application_id,
                              const AttachmentInfo& info, const std::string& content_base64,
                              const std::string& actor, std::int64_t now_ms);
std::vector<AttachmentInfo> attachments(soci::session& sql, std::int64_t application_id);

void insertPilot(soci::session& sql, const std::string& region_code, std::int64_t application_id,
                 const std::string& pilot_from, std::int64_t now_ms);
std::optional<Pilot> findPilot(soci::session& sql, const std::string& region_code);
std::vector<Pilot> listPilots(soci::session& sql);

struct ProgressRow {
  std::int64_t id = 0;
  std::string region_code;
  int year = 0, quarter = 0;
  std::string measured_json, targets_json, narrative;
  std::int64_t filed_at_ms = 0;
};
bool progressExists(soci::session& sql, const std::string& region_code, int year, int quarter);
std::int64_t insertProgress(soci::session& sql, const ProgressRow& row, const std::string& actor);
std::vector<ProgressRow> listProgress(soci::session& sql, const std::string& region_code);

}  // namespace tph::pilot::detail
