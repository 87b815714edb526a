#pragma once
// The roles a user may hold. Region roles carry a GB/T 2260 code and cover that region's
// descendants; a user may hold several roles, and the same role in several regions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tph::auth {

enum class Role {
  kResident,
  kHouseholdAdmin,
  kEnterprise,
  kMerchant,
  kProvider,
  kVerifier,
  kRegionAdmin,
  kProvinceAdmin,
  kEtsEnterprise,
  kExchangeMember,
  kAuditor,
  kEditor,  //!< content editor, province-wide (440000) or for a city or county
};

inline constexpr Role kAllRoles[] = {
    Role::kResident,      Role::kHouseholdAdmin, Role::kEnterprise,  Role::kMerchant,
    Role::kProvider,      Role::kVerifier,       Role::kRegionAdmin, Role::kProvinceAdmin,
    Role::kEtsEnterprise, Role::kExchangeMember, Role::kAuditor,     Role::kEditor,
};

//! "region_admin" etc.
std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

//! True for roles that must name the region they act in.
bool roleRequiresRegion(Role role);

struct RoleGrant {
  Role role;
  std::string region_code;  //!< "" when the grant names no region
  bool operator==(const RoleGrant&) const = default;
};

//! Who is making a request: a signed-in user or a provider's API key, with the user's grants.
struct Principal {
  std::int64_t user_id = 0;
  std::string username;
  std::string display_name;
  std::vector<RoleGrant> grants;
  std::string api_key_id;  //!< set when the request was signed with an API key

  bool hasRole(Role role) const;
  bool hasAnyRole(const std::vector<Role>& roles) const;
  //! True when some grant of `role` covers `region_code` (a grant without a region covers none).
  bool actsInRegion(Role role, std::string_view region_code) const;
  //! True for a province admin anywhere, and for a region admin within its region.
  bool administersRegion(std::string_view region_code) const;
  //! "user:12" — how the audit chain names this actor.
  std::string auditActor() const;
};

}  // namespace tph::auth
