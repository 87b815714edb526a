#pragma once
// Carbon accounts: a person's (one per user, made on first use), households (an admin, members,
// shared totals) and enterprises (SMEs). Each has a points account in the ledger; reductions are
// credited to them by ingest.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "account/points_ledger.h"
#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::account {

enum class AccountKind { kPerson, kHousehold, kEnterprise };
const char* toString(AccountKind kind);

struct AccountMember {
  std::int64_t user_id = 0;
  std::string username;
  std::string display_name;
  std::string role;  //!< owner, admin, member
};

struct CarbonAccount {
  std::int64_t id = 0;
  AccountKind kind = AccountKind::kPerson;
  std::string name;
  std::string region_code;
  LedgerAccountId ledger_account = 0;
  Points points{0};
  std::vector<AccountMember> members;
  Instant created_at;
  //! Enterprises: GB/T 4754-2017 industry, section letter ('C') and two-digit division ('26');
  //! empty until set.
  std::string industry_section;
  std::string industry_division;
};

//! Whether a GB/T 4754-2017 division belongs to a section ('C', '26': yes).
bool validIndustry(const std::string& section, const std::string& division);

//! The ledger code of the account points are issued from in a region.
std::string issuanceLedgerCode(const std::string& region_code);

inline constexpr std::size_t kHouseholdMaxMembers = 12;
inline constexpr std::size_t kAccountNameMaxBytes = 120;

//! Shared between threads; holds no mutable state.
class CarbonAccountService {
 public:
  CarbonAccountService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! The caller's person account, opened on first use in `region_code` (default 440000).
  Result<CarbonAccount> personAccount(const auth::Principal& caller,
                                      const std::string& region_code = "440000");
  //! Every account the caller belongs to.
  Result<std::vector<CarbonAccount>> accountsOf(const auth::Principal& caller);
  //! One account the caller belongs to. Admins see accounts only in aggregate, through analytics.
  Result<CarbonAccount> account(const auth::Principal& caller, std::int64_t account_id);

  //! A resident opens a household and becomes its admin; a user belongs to one household at a time.
  Result<CarbonAccount> createHousehold(const auth::Principal& caller, const std::string& name,
                                        const std::string& region_code);
  Result<CarbonAccount> addHouseholdMember(const auth::Principal& caller, std::int64_t account_id,
                                           const std::string& username);
  //! The admin removes a member, or a member leaves. The last admin cannot leave members behind.
  Result<CarbonAccount> removeHouseholdMember(const auth::Principal& caller,
                                              std::int64_t account_id, std::int64_t user_id);

  //! A user with the enterprise role opens its SME account.
  Result<CarbonAccount> createEnterprise(const auth::Principal& caller, const std::string& name,
                                         const std::string& region_code);
  //! An enterprise's owner or admin, or an admin of its region, sets its GB/T 4754 industry,
  //! which analytics breaks reductions down by.
  Result<CarbonAccount> setIndustry(const auth::Principal& caller, std::int64_t account_id,
                                    const std::string& section, const std::string& division);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::account
