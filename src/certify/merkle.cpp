#include "certify/merkle.h"

#include <stdexcept>

#include "core/canonical_json.h"
#include "core/crypto.h"

namespace tph::certify {

using nlohmann::json;

json MerkleLeaf::toJson() const {
  return {{"id", id},
          {"subject", subject},
          {"methodology", methodology},
          {"methodology_version", methodology_version},
          {"day", day},
          {"grams", grams}};
}

std::optional<MerkleLeaf> MerkleLeaf::fromJson(const json& j) {
  if (!j.is_object() || j.size() != 6) return std::nullopt;
  try {
    MerkleLeaf l;
    l.id = j.at("id").get<std::int64_t>();
    l.subject = j.at("subject").get<std::string>();
    l.methodology = j.at("methodology").get<std::string>();
    l.methodology_version = j.at("methodology_version").get<int>();
    l.day = j.at("day").get<std::string>();
    l.grams = j.at("grams").get<std::int64_t>();
    return l;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string leafSubject(const std::string& salt, std::int64_t provider_id,
                        const std::string& subject_ref) {
  return sha256Hex(salt + ":" + std::to_string(provider_id) + ":" + subject_ref);
}

std::string leafHash(const MerkleLeaf& leaf) {
  return *fromHex(sha256Hex(std::string(1, '\x00') + canonicalJson(leaf.toJson())));
}

std::string nodeHash(const std::string& left, const std::string& right) {
  return *fromHex(sha256Hex(std::string(1, '\x01') + left + right));
}

MerkleTree::MerkleTree(std::vector<std::string> leaf_hashes) {
  levels_.push_back(std::move(leaf_hashes));
  while (levels_.back().size() > 1) {
    const auto& below = levels_.back();
    std::vector<std::string> up;
    up.reserve((below.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < below.size(); i += 2)
      up.push_back(nodeHash(below[i], below[i + 1]));
    if (below.size() % 2 == 1) up.push_back(below.back());  // promoted, not paired with itself
    levels_.push_back(std::move(up));
  }
}

std::string MerkleTree::rootHex() const {
  if (levels_.front().empty()) return sha256Hex("");
  return toHex(levels_.back().front());
}

std::vector<ProofStep> MerkleTree::path(std::int64_t index) const {
  if (index < 0 || index >= size()) throw std::out_of_range("MerkleTree::path: no such leaf");
  std::vector<ProofStep> steps;
  auto i = static_cast<std::size_t>(index);
  for (std::size_t level = 0; level + 1 < levels_.size(); ++level) {
    const auto& nodes = levels_[level];
    std::size_t sibling = i ^ 1U;
    if (sibling < nodes.size()) steps.push_back({toHex(nodes[sibling]), sibling < i});
    i /= 2;
  }
  return steps;
}

std::string merkleRootHex(const std::vector<MerkleLeaf>& leaves) {
  std::vector<std::string> hashes;
  hashes.reserve(leaves.size());
  for (const auto& l : leaves) hashes.push_back(leafHash(l));
  return MerkleTree(std::move(hashes)).rootHex();
}

json InclusionProof::toJson() const {
  json steps = json::array();
  for (const auto& s : path)
    steps.push_back({{"hash", s.sibling_hex}, {"side", s.sibling_on_left ? "left" : "right"}});
  return {{"batch_no", batch_no},     {"leaf", leaf.toJson()}, {"index", index},
          {"leaf_count", leaf_count}, {"path", steps},         {"root", root_hex}};
}

std::optional<InclusionProof> InclusionProof::fromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  try {
    InclusionProof p;
    auto leaf = MerkleLeaf::fromJson(j.at("leaf"));
    if (!leaf) return std::nullopt;
    p.leaf = *leaf;
    p.index = j.at("index").get<std::int64_t>();
    p.leaf_count = j.at("leaf_count").get<std::int64_t>();
    p.root_hex = j.value("root", std::string());
    p.batch_no = j.value("batch_no", std::int64_t{0});
    for (const auto& s : j.at("path")) {
      auto side = s.at("side").get<std::string>();
      if (side != "left" && side != "right") return std::nullopt;
      p.path.push_back({s.at("hash").get<std::string>(), side == "left"});
    }
    return p;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::string verifyInclusion(const InclusionProof& proof, const std::string& root_hex) {
  if (proof.leaf_count < 1 || proof.index < 0 || proof.index >= proof.leaf_count)
    return "index is outside the tree";
  // Walk the levels as the tree was built, so a path of the wrong shape cannot verify.
  std::string hash = leafHash(proof.leaf);
  std::uint64_t i = static_cast<std::uint64_t>(proof.index);
  std::uint64_t width = static_cast<std::uint64_t>(proof.leaf_count);
  std::size_t step = 0;
  while (width > 1) {
    std::uint64_t sibling = i ^ 1U;
    if (sibling < width) {
      if (step >= proof.path.size()) return "the path is too short for the tree";
      const auto& s = proof.path[step++];
      auto sibling_hash = fromHex(s.sibling_hex);
      if (!sibling_hash || sibling_hash->size() != 32) return "a path hash is not 64 hex digits";
      if (s.sibling_on_left != (sibling < i)) return "a path step sits on the wrong side";
      hash = s.sibling_on_left ? nodeHash(*sibling_hash, hash) : nodeHash(hash, *sibling_hash);
    }
    i /= 2;
    width = (width + 1) / 2;
  }
  if (step != proof.path.size()) return "the path is too long for the tree";
  if (!constantTimeEquals(toHex(hash), root_hex))
    return "the leaf and path lead to " + toHex(hash) + ", not to the root " + root_hex;
  return "";
}

}  // namespace tph::certify
