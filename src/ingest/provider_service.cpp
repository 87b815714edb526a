#include "ingest/provider_service.h"

#include <algorithm>
#include <cctype>

#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "ingest/ingest_store.h"
#include "store/database.h"

namespace tph::ingest {

namespace {

using auth::Principal;
using auth::Role;

bool validKey(const std::string& key) {
  return !key.empty() && key.size() <= 40 && std::isalnum(static_cast<unsigned char>(key[0])) &&
         std::all_of(key.begin(), key.end(), [](unsigned char c) {
           return std::islower(c) || std::isdigit(c) || c == '-';
         });
}

bool seesProvider(const Principal& caller, const Provider& p) {
  if (caller.hasRole(Role::kProvinceAdmin) || caller.hasRole(Role::kAuditor)) return true;
  if (p.user_id && *p.user_id == caller.user_id) return true;
  return std::any_of(p.regions.begin(), p.regions.end(), [&](const std::string& r) {
    return caller.actsInRegion(Role::kRegionAdmin, r);
  });
}

}  // namespace

std::string pseudonymise(const std::string& pseudonym_key, const std::string& identifier) {
  auto begin = identifier.find_first_not_of(" \t\r\n");
  auto end = identifier.find_last_not_of(" \t\r\n");
  std::string trimmed =
      begin == std::string::npos ? std::string() : identifier.substr(begin, end - begin + 1);
  return hmacSha256Hex(pseudonym_key, trimmed);
}

Status ProviderService::validate(const NewProvider& r) const {
  if (!validKey(r.key)) return Error::invalid("key", "key is 1-40 characters of a-z, 0-9 and '-'");
  if (r.name.empty() || r.name.size() > 200) return Error::invalid("name", "name is 1-200 bytes");
  if (std::find(std::begin(kProviderKinds), std::end(kProviderKinds), r.kind) ==
      std::end(kProviderKinds)) {
    return Error::invalid(
        "kind",
        "kind is one of power_utility, water_utility, gas_utility, transit_operator, "
        "bike_share, nev_charging, recycler, forestry, other");
  }
  if (r.regions.empty())
    return Error::invalid("regions", "a provider reports in at least one region");
  for (const auto& region : r.regions) {
    if (!isRegionCode(region))
      return Error::invalid("regions", "regions are six-digit GB/T 2260 codes");
  }
  if (r.methodologies.empty())
    return Error::invalid("methodologies", "a provider reports at least one methodology");
  if (!r.pseudonym_key.empty() && (r.pseudonym_key.size() != 64 || !fromHex(r.pseudonym_key))) {
    return Error::invalid("pseudonym_key", "a pseudonym key is 64 hex characters");
  }
  return {};
}

Result<Provider> ProviderService::insertProvider(soci::session& sql, const NewProvider& request,
                                                 const std::string& actor) {
  TPH_TRY(detail::checkProviderReferences(sql, request));
  NewProvider stored = request;
  if (stored.pseudonym_key.empty()) stored.pseudonym_key = randomHex(32);
  auto id = detail::insertProvider(sql, stored, actor, toEpochMs(clock_.now()));
  audit::appendAuditEvent(sql, clock_,
                          {actor,
                           "provider.register",
                           "provider:" + std::to_string(id),
                           {{"key", stored.key},
                            {"kind", stored.kind},
                            {"regions", stored.regions},
                            {"methodologies", stored.methodologies}}});
  return *detail::findProvider(sql, id);
}

Result<Provider> ProviderService::registerProvider(const Principal& caller,
                                                   const NewProvider& request) {
  TPH_TRY(validate(request));
  if (!caller.hasRole(Role::kProvinceAdmin)) {
    for (const auto& region : request.regions) {
      if (!caller.actsInRegion(Role::kRegionAdmin, region)) {
        return Error::forbidden("region " + region + " is outside your region", "regions");
      }
    }
  }
  return db_.transaction([&](soci::session& sql) -> Result<Provider> {
    if (detail::findProviderByKey(sql, request.key))
      return Error::conflict("provider key is taken", "key");
    return insertProvider(sql, request, caller.auditActor());
  });
}

Result<Provider> ProviderService::ensureProvider(const std::string& actor,
                                                 const NewProvider& request) {
  TPH_TRY(validate(request));
  return db_.transaction([&](soci::session& sql) -> Result<Provider> {
    if (auto existing = detail::findProviderByKey(sql, request.key)) return *existing;
    return insertProvider(sql, request, actor);
  });
}

Result<std::vector<Provider>> ProviderService::list(const Principal& caller) {
  auto all = db_.read([](soci::session& sql) { return detail::listProviders(sql); });
  std::vector<Provider> out;
  for (auto& p : all) {
    if (seesProvider(caller, p)) out.push_back(std::move(p));
  }
  return out;
}

std::vector<Provider> ProviderService::directory() {
  auto all = db_.read([](soci::session& sql) { return detail::listProviders(sql); });
  std::erase_if(all, [](const Provider& p) { return p.status != "active"; });
  return all;
}

Result<Provider> ProviderService::get(const Principal& caller, std::int64_t id) {
  auto p = db_.read([&](soci::session& sql) { return detail::findProvider(sql, id); });
  if (!p || !seesProvider(caller, *p)) return Error::notFound("no such provider", "id");
  return *p;
}

Result<Provider> ProviderService::byKey(const std::string& key) {
  auto p = db_.read([&](soci::session& sql) { return detail::findProviderByKey(sql, key); });
  if (!p) return Error::notFound("no provider " + key, "provider");
  return *p;
}

Result<Provider> ProviderService::forPrincipal(const Principal& caller) {
  auto p =
      db_.read([&](soci::session& sql) { return detail::findProviderByUser(sql, caller.user_id); });
  if (!p) return Error::forbidden("this key's user is not registered as a data provider");
  if (p->status != "active") return Error::forbidden("this provider is suspended");
  return *p;
}

Result<Provider> ProviderService::setMethodologies(const Principal& caller, std::int64_t id,
                                                   const std::vector<std::string>& methodologies) {
  if (methodologies.empty())
    return Error::invalid("methodologies", "a provider reports at least one methodology");
  return db_.transaction([&](soci::session& sql) -> Result<Provider> {
    auto p = detail::findProvider(sql, id);
    if (!p || !seesProvider(caller, *p) ||
        (p->user_id && *p->user_id == caller.user_id && !caller.hasRole(Role::kProvinceAdmin) &&
         !caller.hasRole(Role::kRegionAdmin))) {
      return Error::notFound("no such provider", "id");
    }
    NewProvider check{p->key,     p->name,       p->kind,         p->user_id,
                      p->regions, methodologies, p->pseudonym_key};
    TPH_TRY(detail::checkProviderReferences(sql, check));
    detail::replaceProviderMethodologies(sql, id, methodologies);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "provider.methodologies",
                             "provider:" + std::to_string(id),
                             {{"methodologies", methodologies}}});
    return *detail::findProvider(sql, id);
  });
}

}  // namespace tph::ingest
