#pragma once
// The fixed parts the report pages share (evaluation, dataset and training reports): the page shell
// with its style sheet, Content-Security-Policy and scripts (html_report.h says what the scripts do),
// and the number formatting of their tables.
#include <string>

namespace cvtk::metrics::detail {

// The time a page states it was made: "2026-12-03 16:58 UTC".
std::string now_utc();

// v with `digits` decimals, as printf's %.*f.
std::string fixed(double v, int digits);

// The page up to and including <main>: the Content-Security-Policy (no network fetches), the title
// (plain text, escaped here), the style sheet and the script that records script errors into
// #js-errors, which each page places itself.
std::string page_head(const std::string& title);
// </main>, then the script that sorts the tables, runs the self-test and sets data-js="ready".
std::string page_tail();

}  // namespace cvtk::metrics::detail
