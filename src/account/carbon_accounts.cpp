#include "account/carbon_accounts.h"

#include <cctype>

#include "analytics/rollup_deltas.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::account {

namespace {

using auth::Principal;
using auth::Role;

std::optional<CarbonAccount> loadAccount(soci::session& sql, std::int64_t account_id) {
  long long id = account_id, ledger = 0, created = 0, balance = 0;
  std::string kind, name, region;
  sql << "SELECT c.kind, c.name, c.region_code, c.ledger_account_id, c.created_at_ms, l.balance "
         "FROM carbon_accounts c JOIN ledger_accounts l ON l.id = c.ledger_account_id WHERE c.id = "
         ":id",
      soci::use(id), soci::into(kind), soci::into(name), soci::into(region), soci::into(ledger),
      soci::into(created), soci::into(balance);
  if (!sql.got_data()) return std::nullopt;
  CarbonAccount a;
  a.id = account_id;
  a.kind = kind == "household"    ? AccountKind::kHousehold
           : kind == "enterprise" ? AccountKind::kEnterprise
                                  : AccountKind::kPerson;
  a.name = name;
  a.region_code = region;
  a.ledger_account = ledger;
  a.points = Points(balance);
  a.created_at = fromEpochMs(created);
  soci::indicator section_ind, division_ind;
  sql << "SELECT industry_section, industry_division FROM carbon_accounts WHERE id = :id",
      soci::use(id), soci::into(a.industry_section, section_ind),
      soci::into(a.industry_division, division_ind);
  if (section_ind != soci::i_ok) a.industry_section.clear();
  if (division_ind != soci::i_ok) a.industry_division.clear();
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT m.user_id, u.username, u.display_name, m.role FROM account_members m "
                      "JOIN users u ON u.id = m.user_id WHERE m.account_id = :id ORDER BY "
                      "m.joined_at_ms, m.user_id",
       soci::use(id));
  for (const auto& row : rows) {
    a.members.push_back({store::rowInt64(row, 0), row.get<std::string>(1), row.get<std::string>(2),
                         row.get<std::string>(3)});
  }
  return a;
}

std::int64_t insertAccount(soci::session& sql, AccountKind kind, const std::string& name,
                           const std::string& region, const Clock& clock) {
  long long now = toEpochMs(clock.now()), id = 0;
  // The ledger code names the carbon account once its id is known; until then a random one holds
  // the unique slot.
  std::string code = "pending:" + randomHex(12);
  long long ledger = 0;
  std::string kind_name = toString(kind);
  sql << "INSERT INTO ledger_accounts (code, kind, allow_negative, balance, created_at_ms) "
         "VALUES (:c, :k, 0, 0, :t) RETURNING id",
      soci::use(code), soci::use(kind_name), soci::use(now), soci::into(ledger);
  sql << "INSERT INTO carbon_accounts (kind, name, region_code, ledger_account_id, created_at_ms) "
         "VALUES (:k, :n, :r, :l, :t) RETURNING id",
      soci::use(kind_name), soci::use(name), soci::use(region), soci::use(ledger), soci::use(now),
      soci::into(id);
  std::string final_code = kind_name + ":" + std::to_string(id);
  sql << "UPDATE ledger_accounts SET code = :c WHERE id = :l", soci::use(final_code),
      soci::use(ledger);
  return id;
}

void addMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id,
               const std::string& role, const Clock& clock) {
  long long a = account_id, u = user_id, now = toEpochMs(clock.now());
  sql << "INSERT INTO account_members (account_id, user_id, role, joined_at_ms) VALUES (:a, :u, "
         ":r, :t)",
      soci::use(a), soci::use(u), soci::use(role), soci::use(now);
}

std::optional<std::int64_t> accountOfUser(soci::session& sql, std::int64_t user_id,
                                          const std::string& kind) {
  long long u = user_id, id = 0;
  sql << "SELECT c.id FROM carbon_accounts c JOIN account_members m ON m.account_id = c.id "
         "WHERE m.user_id = :u AND c.kind = :k",
      soci::use(u), soci::use(kind), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

const AccountMember* memberOf(const CarbonAccount& a, std::int64_t user_id) {
  for (const auto& m : a.members) {
    if (m.user_id == user_id) return &m;
  }
  return nullptr;
}

Status checkName(const std::string& name) {
  if (name.empty() || name.size() > kAccountNameMaxBytes)
    return Error::invalid("name", "a name is 1-120 bytes");
  return {};
}

Status checkRegion(soci::session& sql, const std::string& region) {
  if (!isRegionCode(region))
    return Error::invalid("region", "region must be a six-digit GB/T 2260 code");
  int n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(region), soci::into(n);
  if (n == 0) return Error::invalid("region", "unknown region " + region);
  return {};
}

}  // namespace

const char* toString(AccountKind kind) {
  switch (kind) {
    case AccountKind::kPerson:
      return "person";
    case AccountKind::kHousehold:
      return "household";
    case AccountKind::kEnterprise:
      return "enterprise";
  }
  return "person";
}

std::string issuanceLedgerCode(const std::string& region_code) {
  return "issuance:" + region_code;
}

Result<CarbonAccount> CarbonAccountService::personAccount(const Principal& caller,
                                                          const std::string& region_code) {
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    if (auto existing = accountOfUser(sql, caller.user_id, "person"))
      return *loadAccount(sql, *existing);
    TPH_TRY(checkRegion(sql, region_code));
    auto id = insertAccount(sql, AccountKind::kPerson, caller.display_name, region_code, clock_);
    addMember(sql, id, caller.user_id, "owner", clock_);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.open",
                             "carbon_account:" + std::to_string(id),
                             {{"kind", "person"}, {"region", region_code}}});
    return *loadAccount(sql, id);
  });
}

Result<std::vector<CarbonAccount>> CarbonAccountService::accountsOf(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<CarbonAccount>> {
    long long u = caller.user_id, id = 0;
    std::vector<std::int64_t> ids;
    soci::statement st =
        (sql.prepare
             << "SELECT account_id FROM account_members WHERE user_id = :u ORDER BY account_id",
         soci::use(u), soci::into(id));
    st.execute();
    while (st.fetch()) ids.push_back(id);
    std::vector<CarbonAccount> out;
    for (auto account_id : ids) out.push_back(*loadAccount(sql, account_id));
    return out;
  });
}

Result<CarbonAccount> CarbonAccountService::account(const Principal& caller,
                                                    std::int64_t account_id) {
  return db_.read([&](soci::session& sql) -> Result<CarbonAccount> {
    auto a = loadAccount(sql, account_id);
    if (!a || !memberOf(*a, caller.user_id)) {
      return Error::notFound("no such account", "account_id");
    }
    return *a;
  });
}

Result<CarbonAccount> CarbonAccountService::createHousehold(const Principal& caller,
                                                            const std::string& name,
                                                            const std::string& region_code) {
  TPH_TRY(checkName(name));
  if (!caller.hasRole(Role::kResident) && !caller.hasRole(Role::kHouseholdAdmin)) {
    return Error::forbidden("residents open households");
  }
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    TPH_TRY(checkRegion(sql, region_code));
    if (accountOfUser(sql, caller.user_id, "household")) {
      return Error::conflict("you already belong to a household; leave it first", "household");
    }
    auto id = insertAccount(sql, AccountKind::kHousehold, name, region_code, clock_);
    addMember(sql, id, caller.user_id, "admin", clock_);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.open",
                             "carbon_account:" + std::to_string(id),
                             {{"kind", "household"}, {"region", region_code}}});
    return *loadAccount(sql, id);
  });
}

Result<CarbonAccount> CarbonAccountService::addHouseholdMember(const Principal& caller,
                                                               std::int64_t account_id,
                                                               const std::string& username) {
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    auto a = loadAccount(sql, account_id);
    const AccountMember* me = a ? memberOf(*a, caller.user_id) : nullptr;
    if (!a || a->kind != AccountKind::kHousehold || !me)
      return Error::notFound("no such household", "account_id");
    if (me->role != "admin") return Error::forbidden("only the household's admin adds members");
    if (a->members.size() >= kHouseholdMaxMembers) {
      return Error::conflict("a household has at most " + std::to_string(kHouseholdMaxMembers) +
                             " members");
    }
    long long user_id = 0;
    sql << "SELECT id FROM users WHERE username = :u AND status = 'active'", soci::use(username),
        soci::into(user_id);
    if (!sql.got_data()) return Error::notFound("no such user", "username");
    if (accountOfUser(sql, user_id, "household")) {
      return Error::conflict(username + " already belongs to a household", "username");
    }
    addMember(sql, account_id, user_id, "member", clock_);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.member_add",
                             "carbon_account:" + std::to_string(account_id),
                             {{"user_id", user_id}}});
    return *loadAccount(sql, account_id);
  });
}

Result<CarbonAccount> CarbonAccountService::removeHouseholdMember(const Principal& caller,
                                                                  std::int64_t account_id,
                                                                  std::int64_t user_id) {
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    auto a = loadAccount(sql, account_id);
    const AccountMember* me = a ? memberOf(*a, caller.user_id) : nullptr;
    if (!a || a->kind != AccountKind::kHousehold || !me)
      return Error::notFound("no such household", "account_id");
    const AccountMember* target = memberOf(*a, user_id);
    if (!target) return Error::notFound("not a member of this household", "user_id");
    if (me->role != "admin" && caller.user_id != user_id) {
      return Error::forbidden("only the admin removes others; members may leave");
    }
    if (target->role == "admin" && a->members.size() > 1) {
      return Error::conflict("the admin leaves last; remove the members first", "user_id");
    }
    long long acc = account_id, u = user_id;
    sql << "DELETE FROM account_members WHERE account_id = :a AND user_id = :u", soci::use(acc),
        soci::use(u);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.member_remove",
                             "carbon_account:" + std::to_string(account_id),
                             {{"user_id", user_id}}});
    return *loadAccount(sql, account_id);
  });
}

Result<CarbonAccount> CarbonAccountService::createEnterprise(const Principal& caller,
                                                             const std::string& name,
                                                             const std::string& region_code) {
  TPH_TRY(checkName(name));
  if (!caller.hasRole(Role::kEnterprise))
    return Error::forbidden("enterprise accounts are for enterprise users");
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    TPH_TRY(checkRegion(sql, region_code));
    if (accountOfUser(sql, caller.user_id, "enterprise")) {
      return Error::conflict("you already hold an enterprise account", "account");
    }
    auto id = insertAccount(sql, AccountKind::kEnterprise, name, region_code, clock_);
    addMember(sql, id, caller.user_id, "owner", clock_);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.open",
                             "carbon_account:" + std::to_string(id),
                             {{"kind", "enterprise"}, {"region", region_code}, {"name", name}}});
    return *loadAccount(sql, id);
  });
}

bool validIndustry(const std::string& section, const std::string& division) {
  // GB/T 4754-2017: the divisions of each section A-T.
  struct Range {
    char section;
    int first, last;
  };
  static constexpr Range kSections[] = {{'A', 1, 5},   {'B', 6, 12},  {'C', 13, 43}, {'D', 44, 46},
                                        {'E', 47, 50}, {'F', 51, 52}, {'G', 53, 60}, {'H', 61, 62},
                                        {'I', 63, 65}, {'J', 66, 69}, {'K', 70, 70}, {'L', 71, 72},
                                        {'M', 73, 75}, {'N', 76, 79}, {'O', 80, 82}, {'P', 83, 83},
                                        {'Q', 84, 85}, {'R', 86, 90}, {'S', 91, 96}, {'T', 97, 97}};
  if (section.size() != 1 || division.size() != 2 || !std::isdigit(division[0]) ||
      !std::isdigit(division[1]))
    return false;
  int number = (division[0] - '0') * 10 + (division[1] - '0');
  for (const auto& r : kSections) {
    if (r.section == section[0]) return number >= r.first && number <= r.last;
  }
  return false;
}

Result<CarbonAccount> CarbonAccountService::setIndustry(const Principal& caller,
                                                        std::int64_t account_id,
                                                        const std::string& section,
                                                        const std::string& division) {
  if (!validIndustry(section, division)) {
    return Error::invalid("industry",
                          "industry must be a GB/T 4754-2017 section letter A-T and one of its "
                          "two-digit divisions, e.g. C and 26");
  }
  return db_.transaction([&](soci::session& sql) -> Result<CarbonAccount> {
    auto a = loadAccount(sql, account_id);
    bool member = false;
    if (a) {
      for (const auto& m : a->members)
        member |= m.user_id == caller.user_id && (m.role == "owner" || m.role == "admin");
    }
    if (!a || (!member && !caller.administersRegion(a->region_code)))
      return Error::notFound("no such account", "id");
    if (a->kind != AccountKind::kEnterprise)
      return Error::conflict("only enterprise accounts have an industry", "id");
    long long id = account_id;
    std::string s = section, d = division;
    sql << "UPDATE carbon_accounts SET industry_section = :s, industry_division = :d "
           "WHERE id = :id",
        soci::use(s), soci::use(d), soci::use(id);
    analytics::moveIndustryCells(sql, account_id, a->industry_section, a->industry_division, s, d);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "account.set_industry",
                             "carbon_account:" + std::to_string(account_id),
                             {{"section", section},
                              {"division", division},
                              {"previous", a->industry_section + a->industry_division}}});
    return *loadAccount(sql, account_id);
  });
}

}  // namespace tph::account
