#pragma once
// The neutral module's part of a person's data export and erasure (DESIGN.md §4 Privacy): the
// events and personal footprints the user registered. Inside the caller's open transaction.

#include <soci/soci.h>

#include <cstdint>
#include <nlohmann/json.hpp>

namespace tph::neutral {

nlohmann::json exportNeutralEvents(soci::session& sql, std::int64_t user_id);

//! A personal footprint's public page keeps its figures and retired units but no longer names
//! the person; events (organised by an organisation) keep their organiser.
void erasePersonalFootprintNames(soci::session& sql, std::int64_t user_id);

}  // namespace tph::neutral
