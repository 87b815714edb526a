#pragma once
// SQL of the special funds. Internal to src/pilot.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "pilot/fund_service.h"

namespace tph::pilot::detail {

std::int64_t insertFundProject(soci::session& sql, const FundApplication& a,
                               const std::string& applied_by, std::int64_t now_ms);
//! With its disbursements; on PostgreSQL the row is locked for the transaction.
std::optional<FundProject> findFundProject(soci::session& sql, std::int64_t id, bool lock);
void decideFundProject(soci::session& sql, std::int64_t id, const std::string& state,
                       std::int64_t granted_fen, const std::string& reason,
                       const std::string& decided_by, std::int64_t now_ms);
void insertDisbursement(soci::session& sql, std::int64_t project_id, std::int64_t amount_fen,
                        const std::string& paid_on, const std::string& reference,
                        const std::string& recorded_by, std::int64_t now_ms);
std::vector<FundProject> listFundProjects(soci::session& sql, const std::string& region_prefix,
                                          int year);
std::vector<FundTotals> fundTotals(soci::session& sql, int year);

}  // namespace tph::pilot::detail
