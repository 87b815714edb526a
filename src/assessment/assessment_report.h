#pragma once
// The report of an assessment run: an XLSX workbook with every figure, score and source query,
// and a PDF (Chinese text through Pango, a bar chart of the totals drawn with Cairo, the ranking
// table and the scheme). Internal to src/assessment.

#include <string>

#include "assessment/assessment_service.h"
#include "core/result.h"

namespace tph::assessment::detail {

Result<std::string> reportXlsx(const Run& run);
Result<std::string> reportPdf(const Run& run);

//! "12.345" from 12345 thousandths; trailing zeros kept to three places.
std::string fixedMilli(std::int64_t milli);

}  // namespace tph::assessment::detail
