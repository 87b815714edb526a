#pragma once
// The Merkle tree a certification batch commits to its reductions with. SHA-256 throughout, with
// the leaf/node domain separation of RFC 6962 so a node can never pass for a leaf:
//   leaf hash = SHA-256(0x00 ‖ canonical JSON of the leaf)
//   node hash = SHA-256(0x01 ‖ left hash ‖ right hash)      (raw 32-byte hashes)
// Leaves are in ascending reduction id. A level with an odd number of nodes promotes its last node
// unchanged to the next level (it is never paired with itself), so no two leaf lists share a root.
// The root of no leaves is SHA-256 of the empty string. docs/provenance.md has a worked example.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tph::certify {

//! One locked reduction as the tree sees it. `subject` is SHA-256 hex of
//! "{batch salt}:{provider id}:{subject_ref}", so leaves name nobody.
struct MerkleLeaf {
  std::int64_t id = 0;  //!< the reduction id
  std::string subject;
  std::string methodology;
  int methodology_version = 0;
  std::string day;  //!< YYYY-MM-DD, Asia/Shanghai
  std::int64_t grams = 0;

  nlohmann::json toJson() const;
  static std::optional<MerkleLeaf> fromJson(const nlohmann::json& j);
};

//! The salted subject of a leaf.
std::string leafSubject(const std::string& salt, std::int64_t provider_id,
                        const std::string& subject_ref);

//! Raw 32-byte hashes.
std::string leafHash(const MerkleLeaf& leaf);
std::string nodeHash(const std::string& left, const std::string& right);

//! One step of an inclusion proof: the sibling's hash and on which side it sits.
struct ProofStep {
  std::string sibling_hex;
  bool sibling_on_left = false;
};

//! The proof that leaf `index` of `leaf_count` leaves is under `root_hex`.
struct InclusionProof {
  MerkleLeaf leaf;
  std::int64_t index = 0;
  std::int64_t leaf_count = 0;
  std::vector<ProofStep> path;  //!< from the leaf up; levels where the node was promoted add none
  std::string root_hex;
  std::int64_t batch_no = 0;  //!< informative; not part of what is verified

  //! {"batch_no", "leaf": {...}, "index", "leaf_count", "path": [{"hash", "side": "left"|"right"}],
  //! "root"}
  nlohmann::json toJson() const;
  static std::optional<InclusionProof> fromJson(const nlohmann::json& j);
};

//! A tree over leaf hashes, kept level by level (level 0 the leaves).
class MerkleTree {
 public:
  explicit MerkleTree(std::vector<std::string> leaf_hashes);
  std::string rootHex() const;
  std::int64_t size() const { return static_cast<std::int64_t>(levels_.front().size()); }
  //! The sibling path of leaf `index` (0-based, < size()).
  std::vector<ProofStep> path(std::int64_t index) const;

 private:
  std::vector<std::vector<std::string>> levels_;
};

//! The root of a leaf list, without keeping the levels.
std::string merkleRootHex(const std::vector<MerkleLeaf>& leaves);

//! Recomputes the root from the proof's leaf and path and compares it with `root_hex` (the
//! published root, not the proof's own claim). Checks that the path's shape fits index and
//! leaf_count. Returns an empty string when it verifies, otherwise why not.
std::string verifyInclusion(const InclusionProof& proof, const std::string& root_hex);

}  // namespace tph::certify
