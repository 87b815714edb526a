#include "api/metrics.h"

#include <fmt/format.h>

namespace tph::api {

std::size_t Metrics::addRoute(const std::string& method, const std::string& route) {
  auto series = std::make_unique<Series>();
  series->method = method;
  series->route = route;
  series_.push_back(std::move(series));
  return series_.size() - 1;
}

void Metrics::record(std::size_t slot, int status, std::chrono::nanoseconds elapsed) {
  Series& s = *series_[slot];
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < kBucketsSeconds.size() && seconds > kBucketsSeconds[bucket]) ++bucket;
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(s.mu);
  ++s.by_status[status];
}

void Metrics::addGauge(std::string name, std::string help, std::function<double()> read) {
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::renderPrometheus() const {
  std::string out;
  out += "# HELP tph_http_requests_total HTTP requests by route, method and status.\n";
  out += "# TYPE tph_http_requests_total counter\n";
  for (const auto& s : series_) {
    std::lock_guard lock(s->mu);
    for (const auto& [status, count] : s->by_status) {
      out += fmt::format("tph_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                         s->method, s->route, status, count);
    }
  }
  out += "# HELP tph_http_request_duration_seconds Time from request parsed to response ready.\n";
  out += "# TYPE tph_http_request_duration_seconds histogram\n";
  for (const auto& s : series_) {
    std::uint64_t total = s->count.load();
    if (total == 0) continue;
    std::string labels = fmt::format("method=\"{}\",route=\"{}\"", s->method, s->route);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      cumulative += s->buckets[i].load();
      out += fmt::format("tph_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                         kBucketsSeconds[i], cumulative);
    }
    out += fmt::format("tph_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels,
                       total);
    out += fmt::format("tph_http_request_duration_seconds_sum{{{}}} {:.6f}\n", labels,
                       static_cast<double>(s->sum_ns.load()) / 1e9);
    out += fmt::format("tph_http_request_duration_seconds_count{{{}}} {}\n", labels, total);
  }
  for (const auto& g : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", g.name, g.help, g.name, g.name,
                       g.read());
  }
  return out;
}

}  // namespace tph::api
