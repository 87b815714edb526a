#pragma once
// Prometheus metrics of the HTTP layer: requests by route, method and status, and a latency
// histogram per route. Shared between worker threads.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tph::api {

class Metrics {
 public:
  //! Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  //! Registers a route label and returns its slot; called before serving starts.
  std::size_t addRoute(const std::string& method, const std::string& route);
  void record(std::size_t slot, int status, std::chrono::nanoseconds elapsed);

  //! Extra gauges rendered with the rest (database pool, open connections).
  void addGauge(std::string name, std::string help, std::function<double()> read);

  std::string renderPrometheus() const;

 private:
  struct Series {
    std::string method;
    std::string route;
    std::array<std::atomic<std::uint64_t>, kBucketsSeconds.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};
    std::atomic<std::uint64_t> count{0};
    mutable std::mutex mu;
    std::map<int, std::uint64_t> by_status;  // guarded by mu
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<std::unique_ptr<Series>> series_;
  std::vector<Gauge> gauges_;
};

}  // namespace tph::api
