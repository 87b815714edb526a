#include "methodology/catalog.h"

#include "core/region_code.h"

namespace tph::methodology {

Catalog::Catalog(std::vector<std::shared_ptr<const CompiledMethodology>> versions)
    : versions_(std::move(versions)) {
  for (const auto& v : versions_) by_id_[v->definition().id].push_back(v.get());
}

namespace {

int scopeDepth(std::string_view scope) {
  switch (regionLevel(scope)) {
    case RegionLevel::kProvince:
      return 1;
    case RegionLevel::kCity:
      return 2;
    case RegionLevel::kCounty:
      return 3;
  }
  return 0;
}

}  // namespace

const CompiledMethodology* Catalog::select(std::string_view id, std::string_view day,
                                           std::string_view region) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  const CompiledMethodology* best = nullptr;
  for (const CompiledMethodology* v : it->second) {
    if (v->state != "active" && v->state != "retired") continue;
    if (day < std::string_view(v->effective_from)) continue;
    if (!v->effective_until.empty() && day > std::string_view(v->effective_until)) continue;
    if (!regionCovers(v->definition().scope, region)) continue;
    if (!best) {
      best = v;
      continue;
    }
    int depth = scopeDepth(v->definition().scope),
        best_depth = scopeDepth(best->definition().scope);
    if (depth != best_depth) {
      if (depth > best_depth) best = v;
    } else if (v->effective_from != best->effective_from) {
      if (v->effective_from > best->effective_from) best = v;
    } else if (v->definition().version > best->definition().version) {
      best = v;
    }
  }
  return best;
}

const CompiledMethodology* Catalog::find(std::string_view id, int version) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  for (const CompiledMethodology* v : it->second) {
    if (v->definition().version == version) return v;
  }
  return nullptr;
}

}  // namespace tph::methodology
