#include "certify/provenance_service.h"

#include <map>

#include "certify/certify_store.h"
#include "certify/provenance_store.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::certify {

using auth::Principal;

ProvenanceService::ProvenanceService(store::Database& db, const Clock& clock,
                                     methodology::MethodologyService& methodologies,
                                     CertifyService& certify)
    : db_(db), clock_(clock), methodologies_(methodologies), certify_(certify) {}

namespace {

std::vector<GroupTotal> groupTotals(const std::vector<detail::GroupTotal>& rows) {
  std::vector<GroupTotal> out;
  for (const auto& r : rows) out.push_back({r.key, r.records, Grams(r.grams)});
  return out;
}

}  // namespace

Result<SerialProvenance> ProvenanceService::serial(const std::string& serial) {
  registry::RegistryService registry(db_, clock_);
  auto lookup = registry.lookupSerial(serial);  // validates the serial and that it was issued
  if (!lookup) return lookup.error();
  SerialProvenance out;
  out.serial = lookup->asked;
  std::vector<int> versions;
  auto read = db_.read([&](soci::session& sql) -> Status {
    auto row = detail::findBatch(sql, out.serial.batch_no, false);
    if (!row) return Error::notFound("no batch behind this serial", "serial");
    auto merkle = detail::findMerkle(sql, row->id);
    if (merkle) {
      out.merkle_root = merkle->root;
      out.merkle_root_opened = merkle->opened_root;
      out.merkle_leaves = merkle->leaves;
    }
    out.by_month = groupTotals(detail::totalsByMonth(sql, row->id));
    out.by_region = groupTotals(detail::totalsByRegion(sql, row->id));
    for (const auto& t : out.by_month) {
      out.records += t.records;
      out.grams += t.grams;
    }
    out.subjects = detail::subjects(sql, row->id);
    out.verifier_name = row->verifier_name;
    out.decision = row->grams_approved
                       ? "approved " + std::to_string(*row->grams_approved) + " g" +
                             (row->decision_note.empty() ? "" : ": " + row->decision_note)
                       : row->state;
    versions = detail::methodologyVersions(sql, row->id);
    return {};
  });
  if (!read) return read.error();
  auto batch = certify_.get(out.serial.batch_no);
  if (!batch) return batch.error();
  out.batch = *batch;
  auto catalog = methodologies_.catalog();
  for (int v : versions) {
    const auto* m = catalog->find(out.batch.methodology, v);
    if (!m) continue;
    const auto& d = m->definition();
    AppliedMethodology applied{d.id, d.version, d.name_zh, d.name_en, d.formula, {}};
    for (const auto& f : m->factors())
      applied.factors.push_back({f.name, f.ref, f.unit, f.source, f.region, f.value, f.year});
    out.methodologies.push_back(std::move(applied));
  }
  auto history = registry.history(serial);
  if (!history) return history.error();
  out.history = std::move(*history);
  return out;
}

Result<ResidentProvenance> ProvenanceService::resident(const Principal& caller, int limit,
                                                       int offset) {
  if (limit < 1 || limit > kProvenanceMaxLimit)
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kProvenanceMaxLimit));
  if (offset < 0) return Error::invalid("offset", "offset must not be negative");
  ResidentProvenance out;
  std::map<std::int64_t, std::pair<std::string, std::string>> batches;  // state, root
  auto read = db_.read([&](soci::session& sql) -> Status {
    for (const auto& r : detail::residentReductions(sql, caller.user_id, limit, offset)) {
      ReductionFate f;
      f.reduction_id = r.reduction_id;
      f.methodology = r.methodology;
      f.methodology_version = r.methodology_version;
      f.day = r.day;
      f.grams = Grams(r.grams);
      f.batch_no = r.batch_id;
      if (r.batch_id) {
        if (!batches.count(*r.batch_id)) {
          auto row = detail::findBatch(sql, *r.batch_id, false);
          auto merkle = detail::findMerkle(sql, *r.batch_id);
          batches[*r.batch_id] = {row ? row->state : "", merkle ? merkle->root : ""};
        }
        const auto& [state, root] = batches[*r.batch_id];
        f.batch_state = state;
        f.merkle_root = root;
        f.status = state == "issued" ? "issued" : "locked";
      } else if (r.released_batch_id) {
        f.status = "released";
        f.released_from_batch = r.released_batch_id;
        f.released_reason = (r.released_kind == "deducted" ? "deducted by the verifier: "
                                                           : "the batch was rejected: ") +
                            r.released_reason;
      } else {
        f.status = "uncertified";
      }
      out.reductions.push_back(std::move(f));
    }
    for (const auto& l : detail::residentLeftOut(sql, caller.user_id, kLeftOutMax)) {
      out.left_out.push_back(
          {l.provider_record_id, l.methodology, l.status, l.reason, fromEpochMs(l.occurred_at_ms)});
    }
    return {};
  });
  if (!read) return read.error();
  // The units each issued batch became and what happened to them, once per batch.
  registry::RegistryService registry(db_, clock_);
  std::map<std::int64_t, std::pair<std::vector<std::string>, std::vector<registry::Operation>>>
      fates;
  for (auto& f : out.reductions) {
    if (f.status != "issued") continue;
    auto it = fates.find(*f.batch_no);
    if (it == fates.end()) {
      std::vector<std::string> serials;
      std::vector<registry::Operation> since;
      auto issuance = registry.issuance(*f.batch_no);
      if (issuance) {
        for (const auto& range : issuance->ranges) {
          auto serial = registry::formatSerial(range);
          serials.push_back(serial);
          auto history = registry.history(serial);
          if (!history) return history.error();
          for (auto& op : *history)
            if (op.kind != "issue") since.push_back(std::move(op));
        }
      }
      it = fates.emplace(*f.batch_no, std::make_pair(serials, since)).first;
    }
    f.serials = it->second.first;
    f.since_issuance = it->second.second;
  }
  return out;
}

Result<InclusionProof> ProvenanceService::proof(const Principal& caller,
                                                std::int64_t reduction_id) {
  return db_.read([&](soci::session& sql) -> Result<InclusionProof> {
    // Another person's reduction answers as if it did not exist, so ids cannot be probed.
    auto own = detail::residentReduction(sql, caller.user_id, reduction_id);
    if (!own) return Error::notFound("no such reduction of yours", "id");
    if (!own->batch_id) {
      return Error::conflict(
          "reduction " + std::to_string(reduction_id) + " is in no certification batch yet", "id");
    }
    auto merkle = detail::findMerkle(sql, *own->batch_id);
    if (!merkle) return Error::conflict("the batch predates Merkle commitments", "id");
    auto leaves = detail::batchLeaves(sql, *own->batch_id, merkle->salt);
    std::vector<std::string> hashes;
    hashes.reserve(leaves.size());
    std::int64_t index = -1;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      hashes.push_back(leafHash(leaves[i]));
      if (leaves[i].id == reduction_id) index = static_cast<std::int64_t>(i);
    }
    if (index < 0) throw std::logic_error("a locked reduction is missing from its batch's leaves");
    MerkleTree tree(std::move(hashes));
    if (tree.rootHex() != merkle->root)
      throw std::logic_error("batch " + std::to_string(*own->batch_id) +
                             " no longer matches its stored Merkle root");
    InclusionProof p;
    p.leaf = leaves[static_cast<std::size_t>(index)];
    p.index = index;
    p.leaf_count = tree.size();
    p.path = tree.path(index);
    p.root_hex = merkle->root;
    p.batch_no = *own->batch_id;
    return p;
  });
}

}  // namespace tph::certify
