#pragma once
// SQL of the assessment module. Internal to src/assessment.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "assessment/assessment_service.h"

namespace tph::assessment::detail {

std::optional<Scheme> findScheme(soci::session& sql, int year);
void upsertScheme(soci::session& sql, int year, const std::vector<SchemeIndicator>& indicators,
                  const std::string& actor, std::int64_t now_ms);

std::vector<Population> findPopulations(soci::session& sql, int year);
void upsertPopulation(soci::session& sql, int year, const Population& p);

//! The id of the year's published run, if any.
std::optional<std::int64_t> publishedRunId(soci::session& sql, int year);
std::int64_t insertRun(soci::session& sql, const Run& run, std::int64_t computed_at_ms);
void insertCity(soci::session& sql, std::int64_t run_id, const CityAssessment& city);
//! Without its cities unless with_cities; with for_update, locks the row on PostgreSQL.
std::optional<Run> findRun(soci::session& sql, std::int64_t id, bool with_cities, bool for_update);
std::vector<Run> listRuns(soci::session& sql, int year, int limit);
void setPublished(soci::session& sql, std::int64_t id, const std::string& actor,
                  std::int64_t now_ms);

}  // namespace tph::assessment::detail
