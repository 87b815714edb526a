#pragma once
// The low-carbon product and technology catalogue (低碳产品和技术目录): structured entries —
// maker, category, certification (body, certificate number, validity) for certified low-carbon
// products, carbon footprint per declared unit with its source — that regions filter and export
// as a priority procurement list. Editors of a region list, revise and withdraw its entries;
// every change is audited in its own transaction.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::content {

inline constexpr int kMaxCatalogueExport = 5000;

//! The categories entries are filed under, one list for products and technologies.
const std::vector<std::string>& catalogueCategories();

struct Certification {
  std::string body;         //!< the certification body, e.g. "中国质量认证中心"
  std::string certificate;  //!< the certificate number
  std::string valid_until;  //!< YYYY-MM-DD
};

struct Footprint {
  Grams grams_per_unit;  //!< CO2e per declared unit
  std::string unit;      //!< the declared unit: "台", "kg", "m²", "kWh"
  std::string source;    //!< where the figure comes from: EPD number, study, standard
};

//! What an editor submits; validated by catalogueInputFromJson.
struct CatalogueInput {
  std::string kind;  //!< "product" or "technology"
  std::string name_zh, name_en;
  std::string maker;
  std::string category;
  std::string region_code;
  std::string description_zh;
  std::optional<Certification> certification;  //!< present for certified products only
  std::optional<Footprint> footprint;
  std::optional<std::int64_t> article_id;  //!< a published article describing the entry
};

//! Validates a catalogue body; errors name the field ("certification.certificate").
Result<CatalogueInput> catalogueInputFromJson(const nlohmann::json& json);

struct CatalogueEntry {
  std::int64_t id = 0;
  CatalogueInput fields;
  std::string state;  //!< listed, withdrawn
  std::string withdraw_reason;
  bool certified_today = false;  //!< holds a certificate valid on the day it was read
  Instant listed_at, updated_at;
};

struct CatalogueFilter {
  std::string kind;
  std::string category;
  std::string region;  //!< includes what lies within
  //! true: a certificate valid today (Asia/Shanghai); false: none or lapsed; unset: all.
  std::optional<bool> certified;
  int limit = 50;
  int offset = 0;
};

//! Shared between threads: holds no state of its own beyond references.
class CatalogueService {
 public:
  CatalogueService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<CatalogueEntry> list(const auth::Principal& caller, const CatalogueInput& input);
  Result<CatalogueEntry> revise(const auth::Principal& caller, std::int64_t id,
                                const CatalogueInput& input);
  Result<CatalogueEntry> withdraw(const auth::Principal& caller, std::int64_t id,
                                  const std::string& reason);
  Result<CatalogueEntry> entry(std::int64_t id);
  //! Listed entries, certified first, then by name; `limit` up to kMaxCatalogueExport.
  Result<std::vector<CatalogueEntry>> find(const CatalogueFilter& filter);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::content
