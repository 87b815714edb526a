#pragma once
// Checks and helpers the incentive services share. Internal to src/incentive.

#include <cstdint>
#include <string>
#include <vector>

#include "account/points_ledger.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::incentive::detail {

inline constexpr std::size_t kRequestKeyMaxBytes = 100;

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes,
                 bool required);
Status checkRequestKey(const std::string& key);
Status checkLimit(int limit, int offset);
//! "YYYY-MM" of the Shanghai month an instant falls in.
std::string shanghaiMonth(Instant t);
//! The instants a Shanghai month "YYYY-MM" starts and ends at, or invalid on field "month".
Result<std::pair<Instant, Instant>> shanghaiMonthRange(const std::string& month);
//! A two-leg entry moving `points` from one ledger account to another; legs in account order,
//! so concurrent postings lock accounts in one order and cannot deadlock.
account::JournalEntry transferEntry(const std::string& key, const std::string& kind,
                                    const std::string& memo, account::LedgerAccountId from,
                                    account::LedgerAccountId to, Points points);

}  // namespace tph::incentive::detail
