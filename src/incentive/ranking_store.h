#pragma once
// SQL of communities and leaderboards. Internal to src/incentive.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incentive/ranking_service.h"

namespace tph::incentive::detail {

bool communityNameTaken(soci::session& sql, const std::string& region_code,
                        const std::string& name);
std::int64_t insertCommunity(soci::session& sql, const std::string& region_code,
                             const std::string& name, const std::string& actor,
                             std::int64_t now_ms);
std::optional<Community> loadCommunity(soci::session& sql, std::int64_t id);
//! Communities in regions whose code starts with `prefix` ("" for all).
std::vector<Community> listCommunities(soci::session& sql, const std::string& prefix);

std::optional<RankingProfile> loadProfile(soci::session& sql, std::int64_t user_id);
//! The user holding a nickname, if any.
std::optional<std::int64_t> nicknameOwner(soci::session& sql, const std::string& nickname);
void saveProfile(soci::session& sql, const RankingProfile& p);

struct RankedRow {
  std::int64_t user_id = 0;
  std::string nickname;
  std::int64_t grams = 0;
  std::int64_t reductions = 0;
};
//! Listed residents' person-account reductions in [from, to) in regions starting with
//! `region_prefix`, optionally of one community; most grams first, then nickname.
std::vector<RankedRow> rankedResidents(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                                       const std::string& region_prefix,
                                       std::optional<std::int64_t> community_id);

}  // namespace tph::incentive::detail
