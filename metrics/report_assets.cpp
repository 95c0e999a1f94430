#include "metrics/report_assets.h"

#include <cstdio>
#include <ctime>

#include "metrics/html_escape.h"

namespace cvtk::metrics::detail {

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

namespace {

const char* const kReportCsp =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

const char* const kReportCss = R"CSS(
body{font:13px/1.35 system-ui,sans-serif;color:#222;margin:0;background:#fafafa}
main{max-width:1240px;margin:0 auto;padding:10px 18px 40px}
h1{font-size:20px;margin:6px 0 8px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:14px;margin:12px 0 4px}
.top{display:grid;grid-template-columns:minmax(380px,1fr) minmax(420px,1.1fr);gap:14px;align-items:start}
.box{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px 10px}
dl.ctx{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}
dl.ctx dt{color:#666}dl.ctx dd{margin:0;overflow-wrap:anywhere}
.cards{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:8px}
.card{background:#f3f6fb;border:1px solid #d5deea;border-radius:4px;padding:4px 10px;min-width:92px}
.card b{display:block;font-size:20px}.card span{color:#555;font-size:12px}
table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #ddd;padding:2px 7px;text-align:right;white-space:nowrap}
th{background:#eef1f5;font-weight:600}
td.name,th.name{text-align:left;white-space:normal;max-width:260px;overflow-wrap:anywhere}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \25B2"}table.sortable th[aria-sort=descending]::after{content:" \25BC"}
table.coco td{min-width:46px}
.undef{color:#aaa}
.plots{display:flex;flex-wrap:wrap;gap:10px}
svg.plot{background:#fff;border:1px solid #ddd}
svg .grid{stroke:#eee}svg .axis{stroke:#555}svg .frame{fill:none;stroke:#888}
svg .tick{font-size:10px;fill:#333}svg .label{font-size:11px;fill:#222}svg .title{font-size:12px;font-weight:600;fill:#222}
svg .mark{font-size:10px;fill:#b22}svg .legend{fill:#fff;fill-opacity:.85;stroke:#ccc}
.note{color:#555;margin:4px 0}
.warn{color:#a40}
.strip{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start;margin:3px 0}
.rowlabel{width:120px;color:#555;padding-top:4px}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:2px;width:min-content}
figure img{display:block}figcaption{font-size:11px;color:#444;min-width:128px;overflow-wrap:anywhere}
.noimg{width:128px;height:80px;background:#f3e5e5;color:#933;font-size:11px;padding:4px;box-sizing:border-box;overflow:hidden}
.none{color:#999;padding-top:4px}
.k-gt{color:#28aa28;font-weight:600}.k-pred{color:#dc2828;font-weight:600}.k-miss{color:#d9a400;font-weight:600}
#js-errors{color:#b00}
)CSS";

const char* const kReportErrorScript = R"JS(
window.addEventListener('error', function (e) {
  var box = document.getElementById('js-errors');
  if (box) box.textContent += String(e.message) + '\n';
  document.documentElement.setAttribute('data-js-errors', 'yes');
});
)JS";

const char* const kReportScript = R"JS(
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    return v === null ? cell.textContent.toLowerCase() : parseFloat(v);
  }
  function sortTable(table, column, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[column]), y = key(b.cells[column]);
      if (x < y) return descending ? 1 : -1;
      if (x > y) return descending ? -1 : 1;
      return 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; ++i) heads[i].removeAttribute('aria-sort');
    heads[column].setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    table.setAttribute('data-sorted', heads[column].textContent + (descending ? ' desc' : ' asc'));
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, column) {
      th.title = 'sort by ' + th.textContent;
      th.addEventListener('click', function () {
        sortTable(table, column, th.getAttribute('aria-sort') !== 'descending');
      });
    });
  });
  if (location.hash === '#sort-self-test') {
    var table = document.getElementById('class-table');
    var heads = table ? table.tHead.rows[0].cells : [];
    for (var i = 0; i < heads.length; ++i)
      if (heads[i].getAttribute('data-key') === 'ap50') heads[i].click();
  }
  document.body.setAttribute('data-js', 'ready');
})();
)JS";

}  // namespace

std::string page_head(const std::string& title) {
  return std::string(
             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"") +
         kReportCsp + "\">\n<meta name=\"viewport\" content=\"width=device-width\"><title>" + html_escape(title) +
         "</title>\n<style>" + kReportCss + "</style>\n<script>" + kReportErrorScript +
         "</script></head>\n<body><main>\n";
}

std::string page_tail() { return std::string("</main>\n<script>") + kReportScript + "</script>\n</body></html>\n"; }

}  // namespace cvtk::metrics::detail
