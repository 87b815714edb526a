#pragma once
// SQL of the programme module. Internal to src/programme.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "programme/programme_service.h"

namespace tph::programme::detail {

int nextCriteriaVersion(soci::session& sql, const std::string& programme_type);
std::int64_t insertCriteria(soci::session& sql, const CriteriaContent& content, int version,
                            const std::string& actor, std::int64_t now_ms);
void updateCriteria(soci::session& sql, std::int64_t id, const CriteriaContent& content);
//! With for_update, locks the row on PostgreSQL.
std::optional<Criteria> findCriteria(soci::session& sql, std::int64_t id, bool for_update);
std::optional<std::int64_t> publishedCriteriaId(soci::session& sql,
                                                const std::string& programme_type);
void setPublished(soci::session& sql, std::int64_t id, const std::string& actor,
                  std::int64_t now_ms);
void setSuperseded(soci::session& sql, std::int64_t id, std::int64_t now_ms);
//! Every set of a type ("" for all), newest first; drafts only with include_drafts.
std::vector<Criteria> listCriteria(soci::session& sql, const std::string& programme_type,
                                   bool include_drafts);

struct ApplicationRow {
  std::int64_t id = 0;
  std::int64_t criteria_id = 0;
  std::string programme_type;
  std::string state;
  EntityDetails details;
  std::int64_t applicant_user_id = 0;
  std::optional<std::int64_t> submitted_at_ms;
  std::optional<Assessment> assessment;
  std::string decision_reason;
};
std::int64_t insertApplication(soci::session& sql, std::int64_t criteria_id,
                               const std::string& programme_type, const EntityDetails& details,
                               std::int64_t applicant_user_id, std::int64_t now_ms);
std::optional<ApplicationRow> findApplication(soci::session& sql, std::int64_t id, bool for_update);
void updateDetails(soci::session& sql, std::int64_t id, const EntityDetails& details,
                   std::int64_t now_ms);
void setSubmitted(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void setAssessment(soci::session& sql, std::int64_t id, const Assessment& assessment);
void setDecision(soci::session& sql, std::int64_t id, const std::string& state,
                 const std::string& reason, const std::string& actor, std::int64_t now_ms);
//! Ids of applications matching the filter that the user applied for or that lie under one of
//! the region prefixes (every one with all_regions), newest first, at most `limit`.
std::vector<std::int64_t> applicationIds(soci::session& sql, const ApplicationFilter& filter,
                                         std::int64_t user_id,
                                         const std::vector<std::string>& region_prefixes,
                                         bool all_regions, int limit);

std::int64_t insertAttachment(soci::session& sql, std::int64_t application_id,
                              const Attachment& info, const std::string& content_base64,
                              const std::string& actor, std::int64_t now_ms);
std::vector<Attachment> attachments(soci::session& sql, std::int64_t application_id);
//! The base64 content of an application's attachment.
std::optional<std::pair<std::string, std::string>> attachmentContent(soci::session& sql,
                                                                     std::int64_t application_id,
                                                                     std::int64_t attachment_id);

//! "county", "city", "province" with whether the region has child regions; nullopt if unknown.
struct RegionFacts {
  std::string level;
  bool has_children = false;
};
std::optional<RegionFacts> regionFacts(soci::session& sql, const std::string& code);

std::int64_t insertTitle(soci::session& sql, const Title& title, const std::string& actor,
                         std::int64_t now_ms);
std::optional<std::int64_t> titleIdOfApplication(soci::session& sql, std::int64_t application_id);
//! `today` (YYYY-MM-DD) decides which titles are expired.
std::optional<Title> findTitle(soci::session& sql, std::int64_t id, const std::string& today,
                               bool for_update);
TitlePage listTitles(soci::session& sql, const TitleFilter& filter, const std::string& today);
void setRevoked(soci::session& sql, std::int64_t id, const std::string& reason,
                const std::string& actor, std::int64_t now_ms);

}  // namespace tph::programme::detail
