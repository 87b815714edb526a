#pragma once
// The export file for the ETS registry: every PHCER offset surrender of a compliance year, as
// canonical JSON, signed with the platform's Ed25519 key (a detached signature over the file's
// exact bytes), so the ETS registry can check it with the platform's public key alone
// (docs/ets.md, "Export for the ETS registry").

#include <soci/soci.h>

#include <cstdint>
#include <string>

#include "core/result.h"

namespace tph::audit {
class SigningKey;
}

namespace tph::ets {

inline constexpr const char* kOffsetExportFormat = "tanpuhui.ets-offset-export.v1";

//! The file: canonical JSON bytes and what they hold.
struct OffsetExport {
  int year = 0;
  std::string bytes;
  std::int64_t surrenders = 0;
  std::int64_t units = 0;
  std::string filename() const;  //!< "ets-offsets-2026.json"
};

struct SignedOffsetExport {
  OffsetExport file;
  std::string signature_hex;   //!< Ed25519 over file.bytes
  std::string public_key_hex;  //!< the key that verifies it
};

//! Every surrender of the year (all enterprises), oldest first, with its serials. The same
//! database state always gives the same bytes. No permission check: the caller has checked.
Result<OffsetExport> buildOffsetExport(soci::session& sql, int year);

SignedOffsetExport signOffsetExport(OffsetExport file, const audit::SigningKey& key);

struct OffsetExportCheck {
  bool ok = false;
  std::string problem;  //!< why not, when not ok
  int year = 0;
  std::int64_t surrenders = 0;
  std::int64_t units = 0;
};

//! Checks, offline, that `signature_hex` is `public_key_hex`'s signature of `bytes` and that the
//! bytes are an ETS offset export in canonical form whose totals add up.
OffsetExportCheck verifyOffsetExport(const std::string& bytes, const std::string& signature_hex,
                                     const std::string& public_key_hex);

}  // namespace tph::ets
