#include "registry/registry_service.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "core/region_code.h"
#include "registry/registry_ledger.h"
#include "registry/registry_store.h"
#include "store/database.h"

namespace tph::registry {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::size_t kIdempotencyKeyMaxBytes = 200;
constexpr const char* kProvinceCode = "440000";

struct KindName {
  AccountKind kind;
  const char* name;
  const char* prefix;  //!< of the account number
};
constexpr KindName kKinds[] = {
    {AccountKind::kOperator, "operator", "OP"},
    {AccountKind::kEnterprise, "enterprise", "ENT"},
    {AccountKind::kExchangeMember, "exchange_member", "EXM"},
    {AccountKind::kIndividual, "individual", "IND"},
    {AccountKind::kBuffer, "buffer", "BUFFER"},
    {AccountKind::kProvince, "province", "PROVINCE"},
};

const char* prefixOf(AccountKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.prefix;
  throw std::logic_error("unknown account kind");
}

std::string padded(std::int64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

//! Operators, the buffer and the province have one account each (per region for operators), so
//! their numbers are fixed; other accounts are numbered by region and id.
std::string accountNumberFor(AccountKind kind, const std::string& region, std::int64_t id) {
  switch (kind) {
    case AccountKind::kOperator:
      return "GD-OP-" + region;
    case AccountKind::kBuffer:
      return "GD-BUFFER";
    case AccountKind::kProvince:
      return "GD-PROVINCE";
    default:
      return std::string("GD-") + prefixOf(kind) + "-" + region + "-" + padded(id, 6);
  }
}

std::int64_t ensureSystemAccount(soci::session& sql, const Clock& clock, AccountKind kind,
                                 const std::string& region, const std::string& name,
                                 const std::string& actor) {
  const char* kind_name = toString(kind);
  if (auto found = detail::findAccountOfKind(
          sql, kind_name, kind == AccountKind::kOperator ? region : std::string()))
    return found->id;
  auto row = detail::insertAccount(sql, kind_name, name, region, accountNumberFor(kind, region, 0),
                                   actor, toEpochMs(clock.now()));
  audit::appendAuditEvent(sql, clock,
                          {actor, "registry.account.open", "registry_account:" + row.account_no,
                           json{{"kind", kind_name}, {"name", name}, {"region", region}}});
  return row.id;
}

bool canActFor(soci::session& sql, const Principal& caller, const detail::AccountRow& account) {
  if (detail::isMember(sql, account.id, caller.user_id)) return true;
  if (account.kind == "operator") return caller.administersRegion(account.region_code);
  if (account.kind == "buffer" || account.kind == "province")
    return caller.hasRole(Role::kProvinceAdmin);
  return false;
}

RegistryAccount accountFrom(soci::session& sql, const detail::AccountRow& row) {
  RegistryAccount a;
  a.id = row.id;
  a.account_no = row.account_no;
  a.kind = *parseAccountKind(row.kind);
  a.name = row.name;
  a.region_code = row.region_code;
  a.member_user_ids = detail::members(sql, row.id);
  auto b = detail::balances(sql, row.id);
  a.held = Units(b.held);
  a.retired = Units(b.retired);
  a.cancelled = Units(b.cancelled);
  a.created_at = fromEpochMs(row.created_at_ms);
  return a;
}

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes,
                 bool required) {
  if (required && text.empty()) return Error::invalid(field, field + " is required");
  if (text.size() > max_bytes)
    return Error::invalid(field, field + " is at most " + std::to_string(max_bytes) + " bytes");
  return {};
}

Status checkLimit(int limit, int offset) {
  if (limit < 1 || limit > kListMaxLimit)
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kListMaxLimit));
  if (offset < 0) return Error::invalid("offset", "offset must not be negative");
  return {};
}

json rangesJson(const std::vector<SerialRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back(formatSerial(r));
  return out;
}

//! Moves held units of one account (lowest serials first) and records the operation: the part of
//! a transfer, retirement or cancellation after the caller's permission and request checks.
Result<Operation> moveBlocks(soci::session& sql, const Clock& clock, const std::string& actor,
                             const char* kind, const std::string& key, const std::string& digest,
                             const detail::AccountRow& source,
                             const std::optional<detail::AccountRow>& target, std::int64_t units,
                             std::optional<std::int64_t> batch_no, const UnitFilter* filter,
                             const std::string& reason, const std::string& beneficiary,
                             const std::string& note) {
  std::int64_t now = toEpochMs(clock.now());
  detail::OperationRow row{
      kind,  source.id, target ? std::optional<std::int64_t>(target->id) : std::nullopt,
      units, reason,    beneficiary,
      note,  digest,    actor,
      key};
  std::int64_t destination = target ? target->id : source.id;
  std::string status = std::string(kind) == "transfer" ? "held"
                       : std::string(kind) == "retire" ? "retired"
                                                       : "cancelled";
  std::int64_t remaining = units, available = 0;
  auto blocks = detail::heldBlocksForUpdate(sql, source.id, batch_no, filter);
  for (const auto& b : blocks) available += b.last - b.first + 1;
  if (available < remaining) {
    return Error::conflict(source.account_no + " holds " + std::to_string(available) +
                               " units that can move, not " + std::to_string(remaining),
                           "units");
  }
  auto op_id = detail::insertOperation(sql, row, now);
  for (const auto& b : blocks) {
    if (remaining == 0) break;
    std::int64_t size = b.last - b.first + 1, take = std::min(size, remaining);
    if (take == size) {
      detail::reassignBlock(sql, b, source.id, destination, status, op_id);
    } else {
      detail::splitBlock(sql, b, source.id, take, destination, status, op_id);
    }
    detail::insertOperationRange(sql, op_id, b.batch_id, b.first, b.first + take - 1);
    remaining -= take;
  }
  if (remaining != 0) throw std::logic_error("units left unmoved after counting them");
  auto op = detail::loadOperation(sql, op_id);
  json payload = {{"operation", op_id},
                  {"units", units},
                  {"serials", rangesJson(op.ranges)},
                  {"idempotency_key", key}};
  std::string subject = "registry_account:" + source.account_no;
  if (std::string(kind) == "transfer") {
    payload["to"] = target->account_no;
    payload["note"] = note;
    audit::appendAuditEvent(sql, clock, {actor, "registry.transfer.out", subject, payload});
    payload.erase("to");
    payload["from"] = source.account_no;
    audit::appendAuditEvent(
        sql, clock,
        {actor, "registry.transfer.in", "registry_account:" + target->account_no, payload});
  } else if (std::string(kind) == "retire") {
    payload["reason"] = reason;
    payload["beneficiary"] = beneficiary;
    payload["note"] = note;
    audit::appendAuditEvent(sql, clock, {actor, "registry.retire", subject, payload});
  } else {
    payload["reason"] = reason;
    audit::appendAuditEvent(sql, clock, {actor, "registry.cancel", subject, payload});
  }
  return op;
}

}  // namespace

const char* toString(AccountKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  throw std::logic_error("unknown account kind");
}

std::optional<AccountKind> parseAccountKind(std::string_view text) {
  for (const auto& k : kKinds)
    if (text == k.name) return k.kind;
  return std::nullopt;
}

const char* toString(BlockStatus status) {
  switch (status) {
    case BlockStatus::kHeld:
      return "held";
    case BlockStatus::kRetired:
      return "retired";
    case BlockStatus::kCancelled:
      return "cancelled";
  }
  throw std::logic_error("unknown block status");
}

// ------------------------------------------------------------------ in-transaction functions

std::int64_t ensureOperatorAccount(soci::session& sql, const Clock& clock,
                                   const std::string& region_code, const std::string& actor) {
  return ensureSystemAccount(sql, clock, AccountKind::kOperator, region_code,
                             "碳普惠运营机构 " + region_code, actor);
}

std::int64_t ensureBufferAccount(soci::session& sql, const Clock& clock, const std::string& actor) {
  return ensureSystemAccount(sql, clock, AccountKind::kBuffer, kProvinceCode, "碳汇缓冲池", actor);
}

std::string accountNumber(soci::session& sql, std::int64_t account_id) {
  auto row = detail::findAccountById(sql, account_id);
  if (!row) throw std::logic_error("no registry account " + std::to_string(account_id));
  return row->account_no;
}

bool isAccountMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id) {
  return detail::isMember(sql, account_id, user_id);
}

Issuance issueUnits(soci::session& sql, const Clock& clock, const IssueUnitsRequest& request) {
  if (request.units.value() < 1 || request.buffer_units.isNegative() ||
      request.buffer_units > request.units || !isSerialSafeMethodology(request.methodology)) {
    throw std::logic_error("issueUnits: batch " + std::to_string(request.batch_no) + " asks for " +
                           request.units.toString() + " with " + request.buffer_units.toString() +
                           " to the buffer");
  }
  std::int64_t now = toEpochMs(clock.now());
  detail::insertIssuance(
      sql, {request.batch_no, request.region, request.methodology, request.vintage_year,
            request.units.value(), request.buffer_units.value(), request.operator_account_id, now});
  Issuance issued{request.batch_no,
                  request.region,
                  request.methodology,
                  request.vintage_year,
                  request.units,
                  request.buffer_units,
                  accountNumber(sql, request.operator_account_id),
                  fromEpochMs(now),
                  {}};
  auto issueTo = [&](std::int64_t account, const std::string& part, std::int64_t first,
                     std::int64_t last) {
    SerialRange range{
        request.region, request.methodology, request.vintage_year, request.batch_no, first, last};
    json payload = {{"batch", request.batch_no},
                    {"serial", formatSerial(range)},
                    {"units", range.units()},
                    {"part", part}};
    detail::OperationRow op{"issue",
                            std::nullopt,
                            account,
                            range.units(),
                            "",
                            "",
                            part,
                            sha256Hex(canonicalJson(payload)),
                            request.actor,
                            "issue:batch:" + std::to_string(request.batch_no) + ":" + part};
    auto op_id = detail::insertOperation(sql, op, now);
    detail::insertBlock(sql, request.batch_no, first, last, account, "held", op_id);
    detail::insertOperationRange(sql, op_id, request.batch_no, first, last);
    audit::appendAuditEvent(sql, clock,
                            {request.actor, "registry.issue",
                             "registry_account:" + accountNumber(sql, account), payload});
    issued.ranges.push_back(range);
  };
  std::int64_t operator_units = (request.units - request.buffer_units).value();
  if (operator_units > 0) issueTo(request.operator_account_id, "operator", 1, operator_units);
  if (!request.buffer_units.isZero()) {
    issueTo(ensureBufferAccount(sql, clock, request.actor), "buffer", operator_units + 1,
            request.units.value());
  }
  return issued;
}

Units heldUnits(soci::session& sql, std::int64_t account_id, const UnitFilter& filter,
                std::optional<std::int64_t> batch_no) {
  std::int64_t units = 0;
  for (const auto& b : detail::heldBlocksForUpdate(sql, account_id, batch_no, &filter))
    units += b.last - b.first + 1;
  return Units(units);
}

std::optional<std::int64_t> findAccountId(soci::session& sql, const std::string& account_no) {
  auto row = detail::findAccountByNo(sql, account_no);
  if (!row) return std::nullopt;
  return row->id;
}

Operation operation(soci::session& sql, std::int64_t operation_id) {
  return detail::loadOperation(sql, operation_id);
}

Result<Operation> moveUnits(soci::session& sql, const Clock& clock,
                            const MoveUnitsRequest& request) {
  bool transfer = request.kind == "transfer";
  if (!transfer && request.kind != "retire")
    throw std::logic_error("moveUnits moves by transfer or retirement, not " + request.kind);
  if (request.units.value() < 1 || request.units.value() > kOperationMaxUnits)
    return Error::invalid("units", "units must be 1-" + std::to_string(kOperationMaxUnits));
  auto source = detail::findAccountById(sql, request.from_account_id);
  if (!source) throw std::logic_error("moveUnits from an unknown account");
  std::optional<detail::AccountRow> target;
  if (transfer) {
    target = detail::findAccountById(sql, request.to_account_id);
    if (!target || target->id == source->id || target->kind == "buffer")
      throw std::logic_error("moveUnits to an account that cannot receive");
  }
  json described = {{"kind", request.kind},
                    {"from", source->account_no},
                    {"to", target ? json(target->account_no) : json(nullptr)},
                    {"units", request.units.value()},
                    {"batch", request.batch_no ? json(*request.batch_no) : json(nullptr)},
                    {"methodology", request.filter.methodology},
                    {"region", request.filter.region},
                    {"vintage", {request.filter.vintage_from, request.filter.vintage_to}},
                    {"reason", request.reason},
                    {"beneficiary", request.beneficiary},
                    {"note", request.note}};
  std::string digest = sha256Hex(canonicalJson(described));
  if (auto existing = detail::findOperation(sql, request.idempotency_key)) {
    if (existing->digest != digest) {
      return Error::conflict(
          "idempotency key " + request.idempotency_key + " was used for a different request",
          "idempotency_key");
    }
    auto op = detail::loadOperation(sql, existing->id);
    op.duplicate = true;
    return op;
  }
  return moveBlocks(sql, clock, request.actor, transfer ? "transfer" : "retire",
                    request.idempotency_key, digest, *source, target, request.units.value(),
                    request.batch_no, &request.filter, request.reason, request.beneficiary,
                    request.note);
}

// --------------------------------------------------------------------------------- accounts

Result<RegistryAccount> RegistryService::openAccount(const Principal& caller,
                                                     const NewAccount& request) {
  NewAccount r = request;
  bool system = r.kind == AccountKind::kBuffer || r.kind == AccountKind::kProvince;
  if (system) r.region_code = kProvinceCode;
  TPH_TRY(checkText("name", r.name, kAccountNameMaxBytes, true));
  if (!isRegionCode(r.region_code))
    return Error::invalid("region", "region must be a six-digit GB/T 2260 code");
  if (r.member_user_ids.size() > kAccountMaxMembers) {
    return Error::invalid(
        "members", "an account has at most " + std::to_string(kAccountMaxMembers) + " members");
  }
  std::set<std::int64_t> members(r.member_user_ids.begin(), r.member_user_ids.end());
  if (system || r.kind == AccountKind::kOperator) {
    if (!caller.hasRole(Role::kProvinceAdmin) &&
        !(r.kind == AccountKind::kOperator && caller.administersRegion(r.region_code))) {
      return Error::forbidden("only the province opens this kind of account", "kind");
    }
  } else if (!caller.administersRegion(r.region_code)) {
    return Error::forbidden("you do not administer region " + r.region_code, "region");
  }
  return db_.transaction([&](soci::session& sql) -> Result<RegistryAccount> {
    if (!detail::regionExists(sql, r.region_code))
      return Error::invalid("region", "no region " + r.region_code);
    for (auto user : members) {
      if (!detail::userExists(sql, user))
        return Error::invalid("members", "no user " + std::to_string(user));
    }
    const char* kind = toString(r.kind);
    if ((system || r.kind == AccountKind::kOperator) &&
        detail::findAccountOfKind(sql, kind, system ? std::string() : r.region_code)) {
      return Error::conflict(std::string("a ") + kind + " account exists already", "kind");
    }
    std::int64_t now = toEpochMs(clock_.now());
    auto row = detail::insertAccount(sql, kind, r.name, r.region_code, "pending:" + randomHex(8),
                                     caller.auditActor(), now);
    row.account_no = accountNumberFor(r.kind, r.region_code, row.id);
    detail::setAccountNo(sql, row.id, row.account_no);
    for (auto user : members) detail::addMember(sql, row.id, user, now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "registry.account.open", "registry_account:" + row.account_no,
         json{{"kind", kind},
              {"name", r.name},
              {"region", r.region_code},
              {"members", std::vector<std::int64_t>(members.begin(), members.end())}}});
    return accountFrom(sql, row);
  });
}

Result<std::vector<RegistryAccount>> RegistryService::accountsOf(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<RegistryAccount>> {
    std::vector<RegistryAccount> out;
    for (const auto& row : detail::candidateAccounts(sql, caller.user_id)) {
      if (canActFor(sql, caller, row)) out.push_back(accountFrom(sql, row));
    }
    return out;
  });
}

Result<RegistryAccount> RegistryService::account(const Principal& caller,
                                                 const std::string& account_no) {
  return db_.read([&](soci::session& sql) -> Result<RegistryAccount> {
    auto row = detail::findAccountByNo(sql, account_no);
    if (!row || !(canActFor(sql, caller, *row) || caller.hasRole(Role::kAuditor)))
      return Error::notFound("no such account", "account");
    return accountFrom(sql, *row);
  });
}

Result<std::vector<SerialBlock>> RegistryService::blocksOf(const Principal& caller,
                                                           const std::string& account_no) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<SerialBlock>> {
    auto row = detail::findAccountByNo(sql, account_no);
    if (!row || !(canActFor(sql, caller, *row) || caller.hasRole(Role::kAuditor)))
      return Error::notFound("no such account", "account");
    return detail::blocksOfAccount(sql, row->id);
  });
}

// -------------------------------------------------------------------------------- movements

Result<Operation> RegistryService::transfer(const Principal& caller,
                                            const TransferRequest& request) {
  return move(caller, Movement::kTransfer, request.idempotency_key, request.from,
              request.to_account_no, "", "", request.note);
}

Result<Operation> RegistryService::retire(const Principal& caller, const RetireRequest& request) {
  return move(caller, Movement::kRetire, request.idempotency_key, request.from, "", request.reason,
              request.beneficiary, request.note);
}

Result<Operation> RegistryService::cancel(const Principal& caller, const CancelRequest& request) {
  return move(caller, Movement::kCancel, request.idempotency_key, request.from, "", request.reason,
              "", "");
}

Result<Operation> RegistryService::move(const Principal& caller, Movement movement,
                                        const std::string& key, const UnitSelection& from,
                                        const std::string& to_account_no, const std::string& reason,
                                        const std::string& beneficiary, const std::string& note) {
  const char* kind = movement == Movement::kTransfer ? "transfer"
                     : movement == Movement::kRetire ? "retire"
                                                     : "cancel";
  TPH_TRY(checkText("idempotency_key", key, kIdempotencyKeyMaxBytes, true));
  TPH_TRY(checkText("from", from.account_no, 64, true));
  if (from.units.value() < 1 || from.units.value() > kOperationMaxUnits) {
    return Error::invalid("units", "units must be 1-" + std::to_string(kOperationMaxUnits));
  }
  if (from.batch_no && *from.batch_no < 1)
    return Error::invalid("batch", "batch must be a positive batch number");
  TPH_TRY(checkText("note", note, kNoteMaxBytes, false));
  if (movement == Movement::kTransfer) TPH_TRY(checkText("to", to_account_no, 64, true));
  if (movement == Movement::kRetire) {
    auto known = std::find_if(std::begin(kRetirementReasons), std::end(kRetirementReasons),
                              [&](const char* r) { return reason == r; });
    if (known == std::end(kRetirementReasons)) {
      return Error::invalid("reason",
                            "reason must be voluntary, ets_offset or carbon_neutral_event");
    }
    TPH_TRY(checkText("beneficiary", beneficiary, kBeneficiaryMaxBytes, true));
  }
  if (movement == Movement::kCancel) {
    TPH_TRY(checkText("reason", reason, kNoteMaxBytes, true));
    if (!caller.hasRole(Role::kProvinceAdmin))
      return Error::forbidden("only the province cancels units");
  }
  json request = {{"kind", kind},
                  {"from", from.account_no},
                  {"to", to_account_no},
                  {"units", from.units.value()},
                  {"batch", from.batch_no ? json(*from.batch_no) : json(nullptr)},
                  {"reason", reason},
                  {"beneficiary", beneficiary},
                  {"note", note}};
  std::string digest = sha256Hex(canonicalJson(request));

  auto run = [&](soci::session& sql) -> Result<Operation> {
    if (auto existing = detail::findOperation(sql, key)) {
      if (existing->digest != digest) {
        return Error::conflict("idempotency key " + key + " was used for a different request",
                               "idempotency_key");
      }
      auto op = detail::loadOperation(sql, existing->id);
      op.duplicate = true;
      return op;
    }
    auto source = detail::findAccountByNo(sql, from.account_no);
    if (!source) return Error::notFound("no such account", "from");
    if (movement != Movement::kCancel && !canActFor(sql, caller, *source))
      return Error::forbidden("you may not move units of " + from.account_no, "from");
    if (source->kind == "buffer" && movement != Movement::kCancel) {
      return Error::conflict("buffer pool units stay there until the province cancels them",
                             "from");
    }
    std::optional<detail::AccountRow> target;
    if (movement == Movement::kTransfer) {
      target = detail::findAccountByNo(sql, to_account_no);
      if (!target) return Error::notFound("no such account", "to");
      if (target->id == source->id)
        return Error::invalid("to", "a transfer goes to another account");
      if (target->kind == "buffer")
        return Error::invalid("to", "the buffer pool receives units only at issuance");
    }
    return moveBlocks(sql, clock_, caller.auditActor(), kind, key, digest, *source, target,
                      from.units.value(), from.batch_no, nullptr, reason, beneficiary, note);
  };
  try {
    return db_.transaction(run);
  } catch (const std::exception& e) {
    // Two requests with one key raced past the lookup; the loser answers the winner's outcome.
    if (!store::isUniqueViolation(e)) throw;
    return db_.transaction(run);
  }
}

// ------------------------------------------------------------------------------- explorer

Result<std::vector<Issuance>> RegistryService::issuances(int limit, int offset) {
  TPH_TRY(checkLimit(limit, offset));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Issuance>> {
    std::vector<Issuance> out;
    for (const auto& row : detail::listIssuances(sql, limit, offset)) {
      out.push_back({row.batch_id, row.region, row.methodology, row.vintage_year, Units(row.units),
                     Units(row.buffer_units), accountNumber(sql, row.account_id),
                     fromEpochMs(row.issued_at_ms), detail::issuedRanges(sql, row)});
    }
    return out;
  });
}

Result<Issuance> RegistryService::issuance(std::int64_t batch_no) {
  return db_.read([&](soci::session& sql) -> Result<Issuance> {
    auto row = detail::findIssuance(sql, batch_no);
    if (!row) return Error::notFound("batch " + std::to_string(batch_no) + " issued no units");
    return Issuance{row->batch_id,
                    row->region,
                    row->methodology,
                    row->vintage_year,
                    Units(row->units),
                    Units(row->buffer_units),
                    accountNumber(sql, row->account_id),
                    fromEpochMs(row->issued_at_ms),
                    detail::issuedRanges(sql, *row)};
  });
}

Result<SerialLookup> RegistryService::lookupSerial(const std::string& serial) {
  auto range = parseSerial(serial);
  if (!range) {
    return Error::invalid("serial",
                          "a serial is CN-GD-PHCER-{region}-{methodology}-{year}-{batch}-{first}"
                          "[-{last}]");
  }
  return db_.read([&](soci::session& sql) -> Result<SerialLookup> {
    auto issuance = detail::findIssuance(sql, range->batch_no);
    if (!issuance || issuance->region != range->region ||
        issuance->methodology != range->methodology ||
        issuance->vintage_year != range->vintage_year || range->last > issuance->units) {
      return Error::notFound("no such serial was issued", "serial");
    }
    SerialLookup out{*range, {}};
    for (auto& block : detail::blocksOverlapping(sql, range->batch_no, range->first, range->last)) {
      auto account = detail::findAccountByNo(sql, block.account_no);
      SerialLookup::Part part{block, account->kind, account->name, std::nullopt};
      if (block.status != BlockStatus::kHeld)
        part.operation = detail::loadOperation(sql, block.operation_id);
      out.parts.push_back(std::move(part));
    }
    return out;
  });
}

Totals RegistryService::totals() {
  return db_.read([&](soci::session& sql) {
    Totals t;
    t.by_vintage = detail::totalsBy(sql, "vintage");
    t.by_methodology = detail::totalsBy(sql, "methodology");
    t.by_region = detail::totalsBy(sql, "region");
    t.all.key = "all";
    for (const auto& row : t.by_region) {
      t.all.issued += row.issued;
      t.all.held += row.held;
      t.all.retired += row.retired;
      t.all.cancelled += row.cancelled;
    }
    return t;
  });
}

Result<std::vector<Operation>> RegistryService::retirements(int limit, int offset) {
  TPH_TRY(checkLimit(limit, offset));
  return db_.read([&](soci::session& sql) -> Result<std::vector<Operation>> {
    std::vector<Operation> out;
    for (auto id : detail::operationIds(sql, "retire", limit, offset))
      out.push_back(detail::loadOperation(sql, id));
    return out;
  });
}

Result<std::vector<Operation>> RegistryService::history(const std::string& serial) {
  auto range = parseSerial(serial);
  if (!range) {
    return Error::invalid("serial",
                          "a serial is CN-GD-PHCER-{region}-{methodology}-{year}-{batch}-{first}"
                          "[-{last}]");
  }
  return db_.read([&](soci::session& sql) -> Result<std::vector<Operation>> {
    std::vector<Operation> out;
    for (auto id : detail::operationIdsTouching(sql, range->batch_no, range->first, range->last,
                                                kListMaxLimit))
      out.push_back(detail::loadOperation(sql, id));
    return out;
  });
}

CheckReport RegistryService::check() {
  return db_.read([](soci::session& sql) { return detail::checkInvariants(sql); });
}

}  // namespace tph::registry
