#include "store/data_key.h"

#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace tph::store {

namespace {

std::mutex cipher_mutex;
std::shared_ptr<const FieldCipher> current_cipher;
// Keys replaced stay alive, so a reference handed out before never dangles.
std::vector<std::shared_ptr<const FieldCipher>> replaced_ciphers;

void setDataCipher(std::shared_ptr<const FieldCipher> cipher) {
  std::lock_guard lock(cipher_mutex);
  if (current_cipher) replaced_ciphers.push_back(std::move(current_cipher));
  current_cipher = std::move(cipher);
}

}  // namespace

const FieldCipher& dataCipher() {
  std::lock_guard lock(cipher_mutex);
  if (!current_cipher)
    current_cipher = std::make_shared<const FieldCipher>(FieldCipher::generate());
  return *current_cipher;
}

Status attachDataKey(Database& db, const std::filesystem::path& file, const Clock& clock) {
  std::set<std::string> registered;
  db.read([&](soci::session& sql) {
    soci::rowset<std::string> rows = (sql.prepare << "SELECT key_id FROM data_keys");
    registered.insert(rows.begin(), rows.end());
  });
  auto cipher = registered.empty() ? FieldCipher::loadOrCreate(file) : FieldCipher::load(file);
  if (!cipher) {
    if (registered.empty()) return cipher.error();
    return Error::invalid("data_key", cipher.error().message + "; this database's personal data " +
                                          "is sealed under data key " + *registered.begin());
  }
  if (!registered.empty() && !registered.contains(cipher->keyId())) {
    return Error::invalid("data_key", file.string() + " holds data key " + cipher->keyId() +
                                          ", but this database is sealed under " +
                                          *registered.begin());
  }
  if (registered.empty()) {
    auto now = toEpochMs(clock.now());
    auto key_id = cipher->keyId();
    auto stored = db.transaction([&](soci::session& sql) -> Status {
      int known = 0;
      sql << "SELECT COUNT(*) FROM data_keys", soci::into(known);
      // Another process registered its key first: ours must be the same one.
      if (known > 0) {
        int same = 0;
        sql << "SELECT COUNT(*) FROM data_keys WHERE key_id = :k", soci::use(key_id),
            soci::into(same);
        if (same == 0) {
          return Error::invalid(
              "data_key", "another data key was registered for this database at the same time");
        }
        return {};
      }
      sql << "INSERT INTO data_keys (key_id, registered_at_ms) VALUES (:k, :t)", soci::use(key_id),
          soci::use(now);
      return {};
    });
    if (!stored) return stored.error();
  }
  setDataCipher(std::make_shared<const FieldCipher>(std::move(*cipher)));
  return {};
}

std::int64_t sealPlainColumn(soci::session& sql, const FieldCipher& cipher,
                             const std::string& table, const std::string& id_column,
                             const std::string& column) {
  std::vector<std::pair<std::int64_t, std::string>> plain;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT " + id_column + ", " + column + " FROM " + table + " WHERE " +
                          column + " <> '' AND " + column + " NOT LIKE 'sealed:%'");
  for (const auto& row : rows) plain.emplace_back(rowInt64(row, 0), rowText(row, 1));
  const std::string context = table + "." + column;
  for (const auto& [id, value] : plain) {
    std::string sealed = cipher.seal(value, context);
    sql << "UPDATE " + table + " SET " + column + " = :v WHERE " + id_column + " = :id",
        soci::use(sealed), soci::use(id);
  }
  return static_cast<std::int64_t>(plain.size());
}

}  // namespace tph::store
