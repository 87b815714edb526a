#include "auth/role.h"

#include <algorithm>

#include "core/region_code.h"

namespace tph::auth {

std::string_view roleName(Role role) {
  switch (role) {
    case Role::kResident:
      return "resident";
    case Role::kHouseholdAdmin:
      return "household_admin";
    case Role::kEnterprise:
      return "enterprise";
    case Role::kMerchant:
      return "merchant";
    case Role::kProvider:
      return "provider";
    case Role::kVerifier:
      return "verifier";
    case Role::kRegionAdmin:
      return "region_admin";
    case Role::kProvinceAdmin:
      return "province_admin";
    case Role::kEtsEnterprise:
      return "ets_enterprise";
    case Role::kExchangeMember:
      return "exchange_member";
    case Role::kAuditor:
      return "auditor";
    case Role::kEditor:
      return "editor";
  }
  return "unknown";
}

std::optional<Role> parseRole(std::string_view name) {
  for (Role role : kAllRoles) {
    if (roleName(role) == name) return role;
  }
  return std::nullopt;
}

bool roleRequiresRegion(Role role) {
  return role == Role::kRegionAdmin || role == Role::kEditor;
}

bool Principal::hasRole(Role role) const {
  return std::any_of(grants.begin(), grants.end(),
                     [&](const RoleGrant& g) { return g.role == role; });
}

bool Principal::hasAnyRole(const std::vector<Role>& roles) const {
  return std::any_of(roles.begin(), roles.end(), [&](Role r) { return hasRole(r); });
}

bool Principal::actsInRegion(Role role, std::string_view region_code) const {
  return std::any_of(grants.begin(), grants.end(), [&](const RoleGrant& g) {
    return g.role == role && !g.region_code.empty() && regionCovers(g.region_code, region_code);
  });
}

bool Principal::administersRegion(std::string_view region_code) const {
  return hasRole(Role::kProvinceAdmin) || actsInRegion(Role::kRegionAdmin, region_code);
}

std::string Principal::auditActor() const {
  if (!api_key_id.empty()) return "api_key:" + api_key_id;
  return "user:" + std::to_string(user_id);
}

}  // namespace tph::auth
