#include "region/region_service.h"

#include <toml++/toml.h>

#include <algorithm>

#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::region {

namespace {

const char* levelName(RegionLevel level) {
  switch (level) {
    case RegionLevel::kProvince:
      return "province";
    case RegionLevel::kCity:
      return "city";
    case RegionLevel::kCounty:
      return "county";
  }
  return "county";
}

std::string parentOf(const std::string& code) {
  switch (regionLevel(code)) {
    case RegionLevel::kProvince:
      return "";
    case RegionLevel::kCity:
      return code.substr(0, 2) + "0000";
    case RegionLevel::kCounty:
      return code.substr(0, 4) + "00";
  }
  return "";
}

}  // namespace

Result<std::vector<Region>> parseRegionsFile(const std::filesystem::path& file) {
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return Error::invalid("file", file.string() + ":" + std::to_string(e.source().begin.line) +
                                      ": " + std::string(e.description()));
  }
  auto* entries = table["region"].as_array();
  if (!entries) return Error::invalid("region", "the file has no [[region]] entries");
  std::vector<Region> regions;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    auto* entry = (*entries)[i].as_table();
    std::string where = "region[" + std::to_string(i) + "]";
    if (!entry) return Error::invalid(where, "must be a table");
    Region r;
    r.code = (*entry)["code"].value_or(std::string());
    r.name_zh = (*entry)["name_zh"].value_or(std::string());
    r.name_en = (*entry)["name_en"].value_or(std::string());
    if (!isRegionCode(r.code)) return Error::invalid(where + ".code", "must be six digits");
    if (r.name_zh.empty()) return Error::invalid(where + ".name_zh", "is required");
    if (r.name_en.empty()) return Error::invalid(where + ".name_en", "is required");
    r.level = levelName(regionLevel(r.code));
    r.parent_code = parentOf(r.code);
    regions.push_back(std::move(r));
  }
  // Parents before children, so the foreign key holds at every insert.
  std::stable_sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) {
    return regionLevel(a.code) < regionLevel(b.code);
  });
  return regions;
}

Result<RegionLoadReport> RegionService::load(const std::vector<Region>& regions,
                                             const std::string& actor) {
  return db_.transaction([&](soci::session& sql) -> Result<RegionLoadReport> {
    RegionLoadReport report;
    auto digest_input = nlohmann::json::array();
    for (const auto& r : regions) {
      std::string name_zh, name_en;
      sql << "SELECT name_zh, name_en FROM regions WHERE code = :c", soci::use(r.code),
          soci::into(name_zh), soci::into(name_en);
      if (!sql.got_data()) {
        if (!r.parent_code.empty()) {
          int parents = 0;
          sql << "SELECT COUNT(*) FROM regions WHERE code = :p", soci::use(r.parent_code),
              soci::into(parents);
          if (parents == 0) {
            return Error::invalid("region", "region " + r.code + " has no parent " + r.parent_code);
          }
        }
        soci::indicator parent_ind = r.parent_code.empty() ? soci::i_null : soci::i_ok;
        sql << "INSERT INTO regions (code, parent_code, level, name_zh, name_en) "
               "VALUES (:c, :p, :l, :z, :e)",
            soci::use(r.code), soci::use(r.parent_code, parent_ind), soci::use(r.level),
            soci::use(r.name_zh), soci::use(r.name_en);
        ++report.inserted;
      } else if (name_zh != r.name_zh || name_en != r.name_en) {
        sql << "UPDATE regions SET name_zh = :z, name_en = :e WHERE code = :c",
            soci::use(r.name_zh), soci::use(r.name_en), soci::use(r.code);
        ++report.updated;
      } else {
        ++report.unchanged;
        continue;
      }
      digest_input.push_back({{"code", r.code}, {"name_zh", r.name_zh}, {"name_en", r.name_en}});
    }
    if (report.inserted + report.updated > 0) {
      audit::appendAuditEvent(sql, clock_,
                              {actor,
                               "region.load",
                               "regions",
                               {{"inserted", report.inserted},
                                {"updated", report.updated},
                                {"digest", sha256Hex(canonicalJson(digest_input))}}});
    }
    return report;
  });
}

std::vector<Region> RegionService::list() {
  return db_.read([&](soci::session& sql) {
    std::vector<Region> regions;
    Region r;
    soci::indicator parent_ind;
    soci::statement st = (sql.prepare << "SELECT code, parent_code, level, name_zh, name_en "
                                         "FROM regions ORDER BY code",
                          soci::into(r.code), soci::into(r.parent_code, parent_ind),
                          soci::into(r.level), soci::into(r.name_zh), soci::into(r.name_en));
    st.execute();
    while (st.fetch()) {
      if (parent_ind == soci::i_null) r.parent_code.clear();
      regions.push_back(r);
    }
    return regions;
  });
}

}  // namespace tph::region
