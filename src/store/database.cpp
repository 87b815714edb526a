#include "store/database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string_view>
#include <vector>

namespace tph::store {

namespace {

std::string decodePercent(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string quoteKeywordValue(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

//! Turns the part of a postgresql:// URL after the scheme into libpq keyword=value pairs. SOCI
//! passes its connection string through its own parser first, which mangles URIs.
Result<std::string> postgresKeywords(std::string_view rest) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest, dbname;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    dbname = rest.substr(slash + 1);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    pairs.emplace_back("user", decodePercent(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos)
      pairs.emplace_back("password", decodePercent(userinfo.substr(colon + 1)));
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Error::invalid("db", "unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!host.empty()) pairs.emplace_back("host", decodePercent(host));
  if (!port.empty()) {
    if (!std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return Error::invalid("db", "the port must be a number");
    }
    pairs.emplace_back("port", std::string(port));
  }
  if (!dbname.empty()) pairs.emplace_back("dbname", decodePercent(dbname));
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      return Error::invalid("db", "URL parameters must be key=value");
    pairs.emplace_back(decodePercent(pair.substr(0, eq)), decodePercent(pair.substr(eq + 1)));
  }
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += ' ';
    out += key + "=" + quoteKeywordValue(value);
  }
  return out;
}

}  // namespace

Backend backendOf(soci::session& sql) {
  return sql.get_backend_name() == "postgresql" ? Backend::kPostgresql : Backend::kSqlite;
}

Result<ConnectionTarget> parseDatabaseUrl(const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // accept sqlite://PATH too
    std::string synchronous = "NORMAL";
    if (auto q = path.find('?'); q != std::string::npos) {
      std::string query = path.substr(q + 1);
      path.resize(q);
      if (query == "synchronous=full") {
        synchronous = "FULL";
      } else if (query != "synchronous=normal") {
        return Error::invalid("db", "the only SQLite URL parameter is synchronous=normal|full");
      }
    }
    if (path.empty()) return Error::invalid("db", "sqlite URL needs a file path: sqlite:PATH");
    // SOCI splits its connection string on spaces unless the value is quoted.
    if (path.find('"') != std::string::npos) {
      return Error::invalid("db", "the SQLite path may not contain a double quote");
    }
    return ConnectionTarget{Backend::kSqlite, "db=\"" + path + "\"", path, synchronous};
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    auto keywords = postgresKeywords(url.substr(url.find("://") + 3));
    if (!keywords) return keywords.error();
    return ConnectionTarget{Backend::kPostgresql, *keywords, {}};
  }
  return Error::invalid("db", "database URL must start with sqlite: or postgresql://");
}

Result<std::unique_ptr<Database>> Database::open(const std::string& url, DatabaseOptions options) {
  auto target = parseDatabaseUrl(url);
  if (!target) return target.error();
  if (options.pool_size == 0) return Error::invalid("db", "pool size must be at least 1");
  if (target->backend == Backend::kSqlite) {
    auto path = std::filesystem::path(target->sqlite_path);
    if (path.has_parent_path() && !std::filesystem::exists(path.parent_path())) {
      return Error::invalid("db", "directory does not exist: " + path.parent_path().string());
    }
  }
  std::unique_ptr<Database> db(new Database(target->backend, url, options.pool_size));
  try {
    for (std::size_t i = 0; i < options.pool_size; ++i) {
      soci::session& sql = db->pool_.at(i);
      if (target->backend == Backend::kSqlite) {
        sql.open(soci::sqlite3, target->connect_string);
        sql << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms);
        sql << "PRAGMA journal_mode = WAL";
        sql << "PRAGMA synchronous = " + target->sqlite_synchronous;
        // 64 MiB of page cache per connection (the default is 2 MiB): a large write transaction
        // otherwise spills pages to the WAL and writes them again and again.
        sql << "PRAGMA cache_size = -65536";
        sql << "PRAGMA temp_store = MEMORY";
        sql << "PRAGMA foreign_keys = ON";
      } else {
        sql.open(soci::postgresql, target->connect_string);
        sql << "SET TIME ZONE 'UTC'";
        // Notices ("relation already exists, skipping") would reach stderr through libpq.
        sql << "SET client_min_messages = warning";
      }
    }
  } catch (const std::exception& e) {
    return Error{ErrorCode::kUnavailable, "db", std::string("cannot open database: ") + e.what()};
  }
  return db;
}

Database::Database(Backend backend, std::string url, std::size_t pool_size)
    : backend_(backend), url_(std::move(url)), pool_(pool_size), pool_size_(pool_size) {}

Database::~Database() = default;

PoolStats Database::stats() const {
  return PoolStats{pool_size_, in_use_.load(), leases_total_.load()};
}

Database::Lease::Lease(Database& db) : db_(db) {
  session_ = std::make_unique<soci::session>(db.pool_);
  db_.in_use_.fetch_add(1);
  db_.leases_total_.fetch_add(1);
}

Database::Lease::~Lease() {
  session_.reset();
  db_.in_use_.fetch_sub(1);
}

void Database::begin(soci::session& sql) {
  sql << (backend_ == Backend::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void Database::commit(soci::session& sql) {
  sql << "COMMIT";
}

void Database::rollback(soci::session& sql) noexcept {
  try {
    sql << "ROLLBACK";
  } catch (...) {
    // The transaction may already be gone (a failed COMMIT); nothing is left to undo.
  }
}

std::int64_t rowInt64(const soci::row& row, std::size_t column) {
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<std::int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double:
      return static_cast<std::int64_t>(row.get<double>(column));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(column));
    default:
      throw std::logic_error("column " + std::to_string(column) + " is not an integer");
  }
}

std::optional<std::int64_t> rowOptionalInt64(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  return rowInt64(row, column);
}

std::string rowText(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return {};
  return row.get<std::string>(column);
}

double rowDouble(const soci::row& row, std::size_t column) {
  if (row.get_properties(column).get_data_type() == soci::dt_double) return row.get<double>(column);
  return static_cast<double>(rowInt64(row, column));
}

bool isUniqueViolation(const std::exception& e) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    return pg->sqlstate() == "23505";
  }
  std::string what = e.what();
  return what.find("UNIQUE constraint failed") != std::string::npos ||
         what.find("duplicate key value") != std::string::npos;
}

}  // namespace tph::store
