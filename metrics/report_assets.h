#pragma once
// The evaluation report's fixed parts: its style sheet, its Content-Security-Policy and its script
// (html_report.h says what the script does).
#include <string>

namespace cvtk::metrics::detail {

// The time a page states it was made: "2026-12-03 16:58 UTC".
std::string now_utc();

extern const char* const kReportCsp;
extern const char* const kReportCss;
// Runs first: records script errors into #js-errors.
extern const char* const kReportErrorScript;
// Runs last: table sorting, the self-test, data-js="ready".
extern const char* const kReportScript;

}  // namespace cvtk::metrics::detail
