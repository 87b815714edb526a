#pragma once
// SQL of the content catalogue. Internal to src/content.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "content/catalogue_service.h"

namespace tph::content::detail {

std::int64_t insertEntry(soci::session& sql, const CatalogueInput& in, const std::string& actor,
                         std::int64_t now_ms);
void updateEntry(soci::session& sql, std::int64_t id, const CatalogueInput& in,
                 std::int64_t now_ms);
void withdrawEntry(soci::session& sql, std::int64_t id, const std::string& reason,
                   std::int64_t now_ms);
//! `today` decides whether a certificate still holds; FOR UPDATE on PostgreSQL when `lock`.
std::optional<CatalogueEntry> findEntry(soci::session& sql, std::int64_t id,
                                        const std::string& today, bool lock = false);
std::vector<CatalogueEntry> findEntries(soci::session& sql, const CatalogueFilter& filter,
                                        const std::string& today);
//! The id of a listed entry with this certificate, other than `except_id`.
std::optional<std::int64_t> entryWithCertificate(soci::session& sql, const std::string& body,
                                                 const std::string& number, std::int64_t except_id);
//! The state and kind of an article, when it exists.
std::optional<std::pair<std::string, std::string>> articleStateAndKind(soci::session& sql,
                                                                       std::int64_t id);

}  // namespace tph::content::detail
