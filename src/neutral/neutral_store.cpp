#include "neutral/neutral_store.h"

#include "store/database.h"

namespace tph::neutral::detail {

namespace {

using nlohmann::json;
using store::rowInt64;
using store::rowOptionalInt64;

constexpr const char* kEventSelect =
    "SELECT id, slug, kind, name, organiser_user_id, organiser_name, starts_on, ends_on, city, "
    "venue, inputs_json, footprint_grams, calculator, explanation_json, units_required, "
    "units_retired, created_at_ms, neutralised_at_ms, neutralised_with, points_paid "
    "FROM neutral_events ";

Event eventFrom(const soci::row& r) {
  Event e;
  e.id = rowInt64(r, 0);
  e.slug = r.get<std::string>(1);
  e.kind = r.get<std::string>(2);
  e.name = r.get<std::string>(3);
  e.organiser_user_id = rowInt64(r, 4);
  e.organiser_name = r.get<std::string>(5);
  e.starts_on = r.get<std::string>(6);
  e.ends_on = r.get<std::string>(7);
  e.city = r.get<std::string>(8);
  e.venue = r.get<std::string>(9);
  e.inputs = json::parse(r.get<std::string>(10));
  e.footprint = Grams(rowInt64(r, 11));
  e.calculator = r.get<std::string>(12);
  e.explanation = json::parse(r.get<std::string>(13));
  e.units_required = rowInt64(r, 14);
  e.units_retired = rowInt64(r, 15);
  e.created_at = fromEpochMs(rowInt64(r, 16));
  if (auto at = rowOptionalInt64(r, 17)) e.neutralised_at = fromEpochMs(*at);
  e.neutralised_with = store::rowText(r, 18);
  e.points_paid = rowInt64(r, 19);
  return e;
}

std::vector<std::int64_t> ids(soci::rowset<soci::row>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(rowInt64(r, 0));
  return out;
}

}  // namespace

std::int64_t insertEvent(soci::session& sql, const Event& e, std::int64_t now_ms) {
  long long id = 0, organiser = e.organiser_user_id, grams = e.footprint.value(),
            units = e.units_required, now = now_ms;
  std::string inputs = e.inputs.dump(), explanation = e.explanation.dump();
  sql << "INSERT INTO neutral_events (slug, name, organiser_user_id, starts_on, ends_on, city, "
         "inputs_json, footprint_grams, explanation_json, units_required, units_retired, "
         "created_at_ms, kind, organiser_name, venue, calculator) VALUES (:slug, :name, :o, :s, "
         ":e, :c, :i, :g, :x, :u, 0, :n, :k, :on, :v, :calc) RETURNING id",
      soci::use(e.slug), soci::use(e.name), soci::use(organiser), soci::use(e.starts_on),
      soci::use(e.ends_on), soci::use(e.city), soci::use(inputs), soci::use(grams),
      soci::use(explanation), soci::use(units), soci::use(now), soci::use(e.kind),
      soci::use(e.organiser_name), soci::use(e.venue), soci::use(e.calculator), soci::into(id);
  return id;
}

std::optional<Event> findEvent(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::row r;
  sql << std::string(kEventSelect) + "WHERE id = :i", soci::use(i), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return eventFrom(r);
}

std::vector<std::int64_t> eventIdsOfUser(soci::session& sql, std::int64_t user_id, int limit,
                                         int offset) {
  long long u = user_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM neutral_events WHERE organiser_user_id = :u "
                      "ORDER BY id DESC LIMIT :l OFFSET :o",
       soci::use(u), soci::use(limit), soci::use(offset));
  return ids(rows);
}

std::vector<std::int64_t> neutralisedEventIds(soci::session& sql, int limit, int offset) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id FROM neutral_events WHERE neutralised_at_ms IS NOT NULL "
                      "AND kind = 'event' ORDER BY neutralised_at_ms DESC, id DESC "
                      "LIMIT :l OFFSET :o",
       soci::use(limit), soci::use(offset));
  return ids(rows);
}

bool claimEvent(soci::session& sql, std::int64_t id, const std::string& key) {
  long long i = id;
  soci::statement st = (sql.prepare << "UPDATE neutral_events SET neutralise_key = :k "
                                       "WHERE id = :i AND neutralise_key IS NULL",
                        soci::use(key), soci::use(i));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::optional<std::string> neutraliseKey(soci::session& sql, std::int64_t id) {
  long long i = id;
  soci::row r;
  sql << "SELECT neutralise_key FROM neutral_events WHERE id = :i", soci::use(i), soci::into(r);
  if (!sql.got_data() || r.get_indicator(0) == soci::i_null) return std::nullopt;
  return r.get<std::string>(0);
}

void markNeutralised(soci::session& sql, std::int64_t id, const NeutralisedRow& row,
                     std::int64_t now_ms) {
  long long i = id, units = row.units_retired, points = row.points_paid, now = now_ms;
  soci::indicator entry_ind = row.points_entry_id ? soci::i_ok : soci::i_null;
  long long entry = row.points_entry_id.value_or(0);
  sql << "UPDATE neutral_events SET units_retired = :u, neutralised_at_ms = :n, "
         "neutralised_with = :w, points_paid = :p, points_entry_id = :e WHERE id = :i",
      soci::use(units), soci::use(now), soci::use(row.with), soci::use(points),
      soci::use(entry, entry_ind), soci::use(i);
}

void insertRetirement(soci::session& sql, std::int64_t event_id, std::int64_t operation_id,
                      std::int64_t units) {
  long long e = event_id, op = operation_id, u = units;
  sql << "INSERT INTO neutral_event_retirements (event_id, registry_operation_id, units) "
         "VALUES (:e, :o, :u)",
      soci::use(e), soci::use(op), soci::use(u);
}

std::vector<std::int64_t> retirementOperations(soci::session& sql, std::int64_t event_id) {
  long long e = event_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT registry_operation_id FROM neutral_event_retirements "
                      "WHERE event_id = :e ORDER BY registry_operation_id",
       soci::use(e));
  return ids(rows);
}

bool regionExists(soci::session& sql, const std::string& code) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

std::optional<RateRow> currentRate(soci::session& sql) {
  soci::row r;
  sql << "SELECT points_per_unit, inventory_account_id, set_at_ms FROM neutral_points_rates "
         "ORDER BY id DESC LIMIT 1",
      soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return RateRow{rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2)};
}

void insertRate(soci::session& sql, const RateRow& row, const std::string& actor) {
  long long p = row.points_per_unit, a = row.inventory_account_id, at = row.set_at_ms;
  sql << "INSERT INTO neutral_points_rates (points_per_unit, inventory_account_id, set_by, "
         "set_at_ms) VALUES (:p, :a, :s, :t)",
      soci::use(p), soci::use(a), soci::use(actor), soci::use(at);
}

}  // namespace tph::neutral::detail
