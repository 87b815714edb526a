#pragma once
// SQL of provenance: batches' Merkle commitments, their leaves, and what residents and the public
// may see of where reductions went. Internal to src/certify.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certify/merkle.h"

namespace tph::certify::detail {

struct MerkleRow {
  std::string salt, opened_root, root;
  std::int64_t opened_leaves = 0, leaves = 0, grams = 0, updated_at_ms = 0;
};

std::optional<MerkleRow> findMerkle(soci::session& sql, std::int64_t batch_id);
//! The leaves of the reductions locked in the batch now, in ascending reduction id.
std::vector<MerkleLeaf> batchLeaves(soci::session& sql, std::int64_t batch_id,
                                    const std::string& salt);
void insertMerkle(soci::session& sql, std::int64_t batch_id, const MerkleRow& row);
void updateMerkle(soci::session& sql, std::int64_t batch_id, const std::string& root,
                  std::int64_t leaves, std::int64_t grams, std::int64_t now_ms);

//! A reduction of one of the resident's carbon accounts and where it went.
struct ResidentReductionRow {
  std::int64_t reduction_id = 0, account_id = 0;
  std::string methodology;
  int methodology_version = 0;
  std::string day;
  std::int64_t grams = 0;
  std::optional<std::int64_t> batch_id;  //!< locked in this batch now
  std::optional<std::int64_t> released_batch_id;
  std::string released_kind, released_reason;
};
//! The reductions of the carbon accounts `user_id` is a member of, newest first.
std::vector<ResidentReductionRow> residentReductions(soci::session& sql, std::int64_t user_id,
                                                     int limit, int offset);
std::optional<ResidentReductionRow> residentReduction(soci::session& sql, std::int64_t user_id,
                                                      std::int64_t reduction_id);

//! Records of the resident's accounts that earned nothing: held, quarantined or rejected.
struct LeftOutRecordRow {
  std::string provider_record_id, methodology, status, reason;
  std::int64_t occurred_at_ms = 0;
};
std::vector<LeftOutRecordRow> residentLeftOut(soci::session& sql, std::int64_t user_id, int limit);

//! Grams and records by month of a batch's locked reductions, and by region.
struct GroupTotal {
  std::string key;
  std::int64_t records = 0, grams = 0;
};
std::vector<GroupTotal> totalsByMonth(soci::session& sql, std::int64_t batch_id);
std::vector<GroupTotal> totalsByRegion(soci::session& sql, std::int64_t batch_id);
std::vector<int> methodologyVersions(soci::session& sql, std::int64_t batch_id);

}  // namespace tph::certify::detail
