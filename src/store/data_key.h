#pragma once
// The deployment's data key (core/field_cipher.h) attached to a database, and the sealing of
// personal columns written before sealing began.

#include <filesystem>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/field_cipher.h"
#include "core/result.h"
#include "store/database.h"

namespace tph::store {

//! The data key personal columns are sealed with in this process: the deployment's, once
//! attachDataKey has run (the CLI does so before anything is read or written); until then a random
//! key of the process's own — fine for tests and throwaway databases. Like the audit signing key,
//! one per process: a process serves one deployment.
const FieldCipher& dataCipher();

//! Loads the data key from `file`, checks it against `db`, and makes it this process's
//! dataCipher(). When the database has registered no key yet, a missing file is created with a new
//! key and its id registered; when it has, the file must hold a registered key — otherwise an error
//! naming both ids, and nothing changes.
Status attachDataKey(Database& db, const std::filesystem::path& file, const Clock& clock);

//! Seals, in place, every value of `table`.`column` still stored in clear (written before sealing
//! began), keyed by the integer column `id_column`; returns how many it sealed. Table and column
//! names come from the module that owns the table, never from input.
std::int64_t sealPlainColumn(soci::session& sql, const FieldCipher& cipher,
                             const std::string& table, const std::string& id_column,
                             const std::string& column);

}  // namespace tph::store
