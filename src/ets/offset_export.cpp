#include "ets/offset_export.h"

#include <nlohmann/json.hpp>

#include "audit/audit_heads.h"
#include "core/canonical_json.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "ets/ets_store.h"
#include "registry/registry_ledger.h"

namespace tph::ets {

namespace {

using nlohmann::json;

constexpr int kYearMin = 2000, kYearMax = 2100;

}  // namespace

std::string OffsetExport::filename() const {
  return "ets-offsets-" + std::to_string(year) + ".json";
}

Result<OffsetExport> buildOffsetExport(soci::session& sql, int year) {
  if (year < kYearMin || year > kYearMax)
    return Error::invalid(
        "year", "year must be " + std::to_string(kYearMin) + "-" + std::to_string(kYearMax));
  OffsetExport out;
  out.year = year;
  std::int64_t home = 0;
  json surrenders = json::array();
  for (const auto& s : detail::surrendersOfYear(sql, year)) {
    auto op = registry::operation(sql, s.operation_id);
    if (op.kind != "retire" || op.reason != "ets_offset" || op.units.value() != s.units)
      throw std::logic_error("ETS surrender " + std::to_string(s.id) +
                             " does not match its registry retirement");
    json serials = json::array();
    for (const auto& range : op.ranges) serials.push_back(registry::formatSerial(range));
    surrenders.push_back({{"surrender_id", s.id},
                          {"account_no", s.account_no},
                          {"enterprise", s.enterprise},
                          {"at", formatIso8601(fromEpochMs(s.at_ms))},
                          {"units", s.units},
                          {"home_province_units", s.home_province_units},
                          {"registry_operation_id", s.operation_id},
                          {"beneficiary", op.beneficiary},
                          {"serials", serials}});
    out.units = checked::add(out.units, s.units);
    home = checked::add(home, s.home_province_units);
    ++out.surrenders;
  }
  auto rules = detail::findRules(sql, year);
  json doc = {
      {"format", kOffsetExportFormat},
      {"issuer", "广东省碳普惠平台 Guangdong carbon-inclusive platform (Tanpuhui)"},
      {"compliance_year", year},
      {"rules_configured", rules.has_value()},
      {"surrenders", surrenders},
      {"totals",
       {{"surrenders", out.surrenders}, {"units", out.units}, {"home_province_units", home}}}};
  if (rules) {
    doc["rules"] = {{"max_offset_bp", rules->max_offset_bp},
                    {"min_home_province_bp", rules->min_home_province_bp},
                    {"deadline_day", rules->deadline_day}};
  }
  out.bytes = canonicalJson(doc);
  return out;
}

SignedOffsetExport signOffsetExport(OffsetExport file, const audit::SigningKey& key) {
  SignedOffsetExport out;
  out.signature_hex = key.signHex(file.bytes);
  out.public_key_hex = key.publicKeyHex();
  out.file = std::move(file);
  return out;
}

OffsetExportCheck verifyOffsetExport(const std::string& bytes, const std::string& signature_hex,
                                     const std::string& public_key_hex) {
  OffsetExportCheck check;
  if (!audit::verifySignature(public_key_hex, bytes, signature_hex)) {
    check.problem = "the signature does not match the file and the public key";
    return check;
  }
  // A valid signature over something that is not an export is still not an export.
  auto doc = json::parse(bytes, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    check.problem = "the signed file is not JSON";
    return check;
  }
  if (doc.value("format", "") != kOffsetExportFormat) {
    check.problem = std::string("the signed file is not a ") + kOffsetExportFormat + " file";
    return check;
  }
  if (canonicalJson(doc) != bytes) {
    check.problem = "the file is not in canonical form";
    return check;
  }
  try {
    std::int64_t units = 0, count = 0;
    for (const auto& s : doc.at("surrenders")) {
      units += s.at("units").get<std::int64_t>();
      ++count;
    }
    const auto& totals = doc.at("totals");
    if (totals.at("units").get<std::int64_t>() != units ||
        totals.at("surrenders").get<std::int64_t>() != count) {
      check.problem = "the totals do not add up to the surrenders listed";
      return check;
    }
    check.year = doc.at("compliance_year").get<int>();
    check.surrenders = count;
    check.units = units;
  } catch (const json::exception& e) {
    check.problem = std::string("the file lacks a field: ") + e.what();
    return check;
  }
  check.ok = true;
  return check;
}

}  // namespace tph::ets
