#pragma once
// Numbered schema migrations, shipped inside the binary from src/store/migrations/NNNN_name.sql.
// Each is applied once, in order, in one transaction with the others pending, and recorded with a
// checksum in schema_migrations; an applied migration whose text later changed is refused.

#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/database.h"

namespace tph::store {

struct Migration {
  int version;
  std::string name;
  std::string sql;  //!< with {{id}} placeholders, before dialect substitution
};

//! Every migration shipped in this binary, ordered by version.
const std::vector<Migration>& shippedMigrations();

//! The migration text for one backend: placeholders replaced, split into single statements.
std::vector<std::string> migrationStatements(const Migration& migration, Backend backend);

struct MigrationReport {
  int applied_now = 0;
  int current_version = 0;
};

//! Applies every pending migration. Concurrent callers serialise (advisory lock or write lock).
Result<MigrationReport> migrate(Database& db, const Clock& clock);

//! A column as both backends can agree on it: name, a type class (integer, text, real) and
//! whether it admits NULL.
struct ColumnShape {
  std::string name;
  std::string type_class;
  bool nullable;
  bool operator==(const ColumnShape&) const = default;
};

//! The tables of the current schema (our own, not the backend's catalogues) and their columns in
//! declaration order.
std::map<std::string, std::vector<ColumnShape>> describeSchema(Database& db);

}  // namespace tph::store
