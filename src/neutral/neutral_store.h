#pragma once
// SQL of the neutral module. Internal to src/neutral.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "neutral/neutral_service.h"

namespace tph::neutral::detail {

std::int64_t insertEvent(soci::session& sql, const Event& e, std::int64_t now_ms);
//! The event without its retirements.
std::optional<Event> findEvent(soci::session& sql, std::int64_t id);
std::vector<std::int64_t> eventIdsOfUser(soci::session& sql, std::int64_t user_id, int limit,
                                         int offset);
std::vector<std::int64_t> neutralisedEventIds(soci::session& sql, int limit, int offset);

//! Claims the event for a neutralisation under `key`; false when one has claimed it already.
bool claimEvent(soci::session& sql, std::int64_t id, const std::string& key);
std::optional<std::string> neutraliseKey(soci::session& sql, std::int64_t id);

struct NeutralisedRow {
  std::int64_t units_retired = 0;
  std::string with;  //!< units, points
  std::int64_t points_paid = 0;
  std::optional<std::int64_t> points_entry_id;
};
void markNeutralised(soci::session& sql, std::int64_t id, const NeutralisedRow& row,
                     std::int64_t now_ms);
void insertRetirement(soci::session& sql, std::int64_t event_id, std::int64_t operation_id,
                      std::int64_t units);
//! The registry operations that neutralised the event, oldest first.
std::vector<std::int64_t> retirementOperations(soci::session& sql, std::int64_t event_id);

bool regionExists(soci::session& sql, const std::string& code);

struct RateRow {
  std::int64_t points_per_unit = 0;
  std::int64_t inventory_account_id = 0;
  std::int64_t set_at_ms = 0;
};
std::optional<RateRow> currentRate(soci::session& sql);
void insertRate(soci::session& sql, const RateRow& row, const std::string& actor);

}  // namespace tph::neutral::detail
