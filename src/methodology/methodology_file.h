#pragma once
// Reading methodology and factor files, and linting them: every problem with file, line and field.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "methodology/definition.h"

namespace tph::methodology {

struct ParsedMethodology {
  std::optional<MethodologyDefinition> definition;  //!< absent when the text could not be read
  std::vector<LintIssue> issues;
};

//! Reads a methodology version's TOML text; structural problems become issues.
ParsedMethodology parseMethodology(std::string_view text, const std::string& file);

struct ParsedFactors {
  FactorLibrary factors;
  std::vector<LintIssue> issues;
};

ParsedFactors parseFactorLibrary(std::string_view text, const std::string& file);

//! Everything that is wrong with one definition given the factor library: unknown or unused
//! variables, syntax errors, missing factors or sources, inconsistent units, bad bounds, failing
//! worked examples.
std::vector<LintIssue> lintMethodology(const MethodologyDefinition& definition,
                                       const FactorLibrary& factors, const std::string& file);

struct VersionWindow {
  std::string id;
  int version = 0;
  std::string scope;
  std::string effective_from;
  std::string effective_until;  //!< "" open-ended
  std::string file;
};

//! Versions of one id with one scope whose effective windows overlap.
std::vector<LintIssue> lintOverlaps(const std::vector<VersionWindow>& versions);

//! True for YYYY-MM-DD naming a real day.
bool isIsoDate(std::string_view text);

}  // namespace tph::methodology
