#include "store/json_export.h"

#include <string_view>

#include "core/clock.h"
#include "store/database.h"

namespace tph::store {

namespace {

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

nlohmann::json columnValue(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) return nullptr;
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_integer:
    case soci::dt_long_long:
    case soci::dt_unsigned_long_long:
      return rowInt64(row, i);
    case soci::dt_double:
      return row.get<double>(i);
    default:
      return rowText(row, i);
  }
}

}  // namespace

nlohmann::json queryAsJson(soci::session& sql, const std::string& query, std::int64_t id) {
  nlohmann::json out = nlohmann::json::array();
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(id, "id"));
  for (const auto& row : rows) {
    nlohmann::json object = nlohmann::json::object();
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string name = row.get_properties(i).get_name();
      nlohmann::json value = columnValue(row, i);
      if (endsWith(name, "_at_ms")) {
        name.resize(name.size() - 3);
        if (!value.is_null()) value = formatIso8601(fromEpochMs(value.get<std::int64_t>()));
      } else if (endsWith(name, "_json")) {
        name.resize(name.size() - 5);
        if (value.is_string()) {
          value = nlohmann::json::parse(value.get<std::string>(), nullptr, false);
          if (value.is_discarded()) value = nullptr;
        }
      }
      object[name] = std::move(value);
    }
    out.push_back(std::move(object));
  }
  return out;
}

void revealSealed(nlohmann::json& rows, const FieldCipher& cipher, const std::string& key,
                  const std::string& column) {
  for (auto& row : rows) {
    auto it = row.find(key);
    if (it != row.end() && it->is_string()) *it = cipher.reveal(it->get<std::string>(), column);
  }
}

}  // namespace tph::store
