#include "content/catalogue_store.h"

#include "content/content_store.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::content::detail {

namespace {

const char* kEntryColumns =
    "SELECT id, kind, name_zh, name_en, maker, category, region_code, description_zh, cert_body, "
    "cert_number, cert_valid_until, footprint_grams, footprint_unit, footprint_source, "
    "article_id, state, withdraw_reason, listed_at_ms, updated_at_ms FROM content_catalogue ";

CatalogueEntry entryFromRow(const soci::row& row, const std::string& today) {
  CatalogueEntry e;
  auto& f = e.fields;
  e.id = store::rowInt64(row, 0);
  f.kind = store::rowText(row, 1);
  f.name_zh = store::rowText(row, 2);
  f.name_en = store::rowText(row, 3);
  f.maker = store::rowText(row, 4);
  f.category = store::rowText(row, 5);
  f.region_code = store::rowText(row, 6);
  f.description_zh = store::rowText(row, 7);
  if (!store::rowText(row, 9).empty()) {
    f.certification =
        Certification{store::rowText(row, 8), store::rowText(row, 9), store::rowText(row, 10)};
    e.certified_today = f.certification->valid_until >= today;
  }
  if (auto grams = store::rowOptionalInt64(row, 11)) {
    f.footprint = Footprint{Grams(*grams), store::rowText(row, 12), store::rowText(row, 13)};
  }
  f.article_id = store::rowOptionalInt64(row, 14);
  e.state = store::rowText(row, 15);
  e.withdraw_reason = store::rowText(row, 16);
  e.listed_at = fromEpochMs(store::rowInt64(row, 17));
  e.updated_at = fromEpochMs(store::rowInt64(row, 18));
  return e;
}

//! The bindable values of an entry's columns, in the order of the INSERT and UPDATE below.
struct Bound {
  std::string cert_body, cert_number, cert_valid_until, footprint_unit, footprint_source;
  long long footprint_grams = 0, article_id = 0;
  soci::indicator footprint_ind = soci::i_null, article_ind = soci::i_null;
  explicit Bound(const CatalogueInput& in) {
    if (in.certification) {
      cert_body = in.certification->body;
      cert_number = in.certification->certificate;
      cert_valid_until = in.certification->valid_until;
    }
    if (in.footprint) {
      footprint_grams = in.footprint->grams_per_unit.value();
      footprint_ind = soci::i_ok;
      footprint_unit = in.footprint->unit;
      footprint_source = in.footprint->source;
    }
    if (in.article_id) {
      article_id = *in.article_id;
      article_ind = soci::i_ok;
    }
  }
};

}  // namespace

std::int64_t insertEntry(soci::session& sql, const CatalogueInput& in, const std::string& actor,
                         std::int64_t now_ms) {
  Bound b(in);
  long long id = 0, now = now_ms;
  sql << "INSERT INTO content_catalogue (kind, name_zh, name_en, maker, category, region_code, "
         "description_zh, cert_body, cert_number, cert_valid_until, footprint_grams, "
         "footprint_unit, footprint_source, article_id, state, listed_by, listed_at_ms, "
         "updated_at_ms) VALUES (:k, :nz, :ne, :m, :c, :r, :d, :cb, :cn, :cv, :fg, :fu, :fs, :a, "
         "'listed', :by, :t, :u) RETURNING id",
      soci::use(in.kind), soci::use(in.name_zh), soci::use(in.name_en), soci::use(in.maker),
      soci::use(in.category), soci::use(in.region_code), soci::use(in.description_zh),
      soci::use(b.cert_body), soci::use(b.cert_number), soci::use(b.cert_valid_until),
      soci::use(b.footprint_grams, b.footprint_ind), soci::use(b.footprint_unit),
      soci::use(b.footprint_source), soci::use(b.article_id, b.article_ind), soci::use(actor),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

void updateEntry(soci::session& sql, std::int64_t id, const CatalogueInput& in,
                 std::int64_t now_ms) {
  Bound b(in);
  long long key = id, now = now_ms;
  sql << "UPDATE content_catalogue SET kind = :k, name_zh = :nz, name_en = :ne, maker = :m, "
         "category = :c, region_code = :r, description_zh = :d, cert_body = :cb, cert_number = "
         ":cn, cert_valid_until = :cv, footprint_grams = :fg, footprint_unit = :fu, "
         "footprint_source = :fs, article_id = :a, updated_at_ms = :u WHERE id = :id",
      soci::use(in.kind), soci::use(in.name_zh), soci::use(in.name_en), soci::use(in.maker),
      soci::use(in.category), soci::use(in.region_code), soci::use(in.description_zh),
      soci::use(b.cert_body), soci::use(b.cert_number), soci::use(b.cert_valid_until),
      soci::use(b.footprint_grams, b.footprint_ind), soci::use(b.footprint_unit),
      soci::use(b.footprint_source), soci::use(b.article_id, b.article_ind), soci::use(now),
      soci::use(key);
}

void withdrawEntry(soci::session& sql, std::int64_t id, const std::string& reason,
                   std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE content_catalogue SET state = 'withdrawn', withdraw_reason = :r, "
         "updated_at_ms = :u WHERE id = :id",
      soci::use(reason), soci::use(now), soci::use(key);
}

std::optional<CatalogueEntry> findEntry(soci::session& sql, std::int64_t id,
                                        const std::string& today, bool lock) {
  long long key = id;
  std::string query = std::string(kEntryColumns) + "WHERE id = :id";
  if (lock && store::backendOf(sql) == store::Backend::kPostgresql) query += " FOR UPDATE";
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
  for (const auto& row : rows) return entryFromRow(row, today);
  return std::nullopt;
}

std::vector<CatalogueEntry> findEntries(soci::session& sql, const CatalogueFilter& f,
                                        const std::string& today) {
  std::string where = "WHERE state = 'listed'";
  std::vector<std::string> binds;
  if (!f.kind.empty()) {
    where += " AND kind = ?";
    binds.push_back(f.kind);
  }
  if (!f.category.empty()) {
    where += " AND category = ?";
    binds.push_back(f.category);
  }
  if (!f.region.empty()) {
    where += " AND region_code LIKE ?";
    binds.push_back(regionPrefix(f.region) + "%");
  }
  if (f.certified) {
    where += *f.certified ? " AND cert_number <> '' AND cert_valid_until >= ?"
                          : " AND (cert_number = '' OR cert_valid_until < ?)";
    binds.push_back(today);
  }
  std::string query = std::string(kEntryColumns) + where +
                      " ORDER BY CASE WHEN cert_number <> '' AND cert_valid_until >= ? THEN 0 "
                      "ELSE 1 END, name_zh, id LIMIT " +
                      std::to_string(f.limit) + " OFFSET " + std::to_string(f.offset);
  binds.push_back(today);
  std::string numbered;
  int n = 0;
  for (char c : query) numbered += c == '?' ? ":p" + std::to_string(n++) : std::string(1, c);
  soci::row row;
  soci::statement st(sql);
  st.exchange(soci::into(row));
  for (auto& value : binds) st.exchange(soci::use(value));
  st.alloc();
  st.prepare(numbered);
  st.define_and_bind();
  st.execute(false);
  std::vector<CatalogueEntry> out;
  while (st.fetch()) out.push_back(entryFromRow(row, today));
  return out;
}

std::optional<std::int64_t> entryWithCertificate(soci::session& sql, const std::string& body,
                                                 const std::string& number,
                                                 std::int64_t except_id) {
  long long id = 0, except = except_id;
  sql << "SELECT id FROM content_catalogue WHERE cert_body = :b AND cert_number = :n AND id <> :i",
      soci::use(body), soci::use(number), soci::use(except), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::optional<std::pair<std::string, std::string>> articleStateAndKind(soci::session& sql,
                                                                       std::int64_t id) {
  long long key = id;
  std::string state, kind;
  sql << "SELECT state, kind FROM content_articles WHERE id = :i", soci::use(key),
      soci::into(state), soci::into(kind);
  if (!sql.got_data()) return std::nullopt;
  return std::pair{state, kind};
}

}  // namespace tph::content::detail
