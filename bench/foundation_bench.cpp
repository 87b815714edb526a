// Figures for the foundation's hot paths: hashing and canonical JSON (every audit event and
// signature), appending to the audit chain, and authenticating a bearer token (every API call).

#include <benchmark/benchmark.h>

#include <filesystem>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "store/database.h"
#include "store/migrations.h"

namespace {

using namespace tph;

void BM_Sha256_1KiB(benchmark::State& state) {
  std::string data(1024, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(sha256Hex(data));
  state.SetBytesProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_Sha256_1KiB);

void BM_CanonicalJson_AuditPayload(benchmark::State& state) {
  nlohmann::json payload = {{"username", "xiaolv"},
                            {"roles", {{{"role", "resident"}, {"region", "440300"}}}},
                            {"digest", sha256Hex("x")}};
  for (auto _ : state) benchmark::DoNotOptimize(canonicalJson(payload));
}
BENCHMARK(BM_CanonicalJson_AuditPayload);

struct TempDb {
  TempDb() {
    path = std::filesystem::temp_directory_path() / ("tph_bench_" + randomHex(6) + ".db");
    db = std::move(*store::Database::open("sqlite:" + path.string()));
    SystemClock clock;
    (void)store::migrate(*db, clock);
  }
  ~TempDb() {
    db.reset();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + s);
  }
  std::filesystem::path path;
  std::unique_ptr<store::Database> db;
};

void BM_AuditAppend_OneEventPerTransaction(benchmark::State& state) {
  TempDb t;
  SystemClock clock;
  std::int64_t i = 0;
  for (auto _ : state) {
    auto r = t.db->transaction([&](soci::session& sql) -> Result<audit::AuditEvent> {
      return audit::appendAuditEvent(sql, clock, {"user:1", "bench.step", "x", {{"i", ++i}}});
    });
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_AuditAppend_OneEventPerTransaction)->Unit(benchmark::kMicrosecond);

void BM_AuthenticateToken(benchmark::State& state) {
  TempDb t;
  SystemClock clock;
  auth::AuthOptions options;
  options.password_cost = auth::PasswordCost::kMinimum;
  auth::AuthService auth(*t.db, clock, options);
  (void)auth.createUserAsSystem(
      "bench", {"bench_user", "bench-password-1", "b", {{auth::Role::kResident, ""}}}, false);
  auto login = auth.login("bench_user", "bench-password-1", "127.0.0.1");
  for (auto _ : state) benchmark::DoNotOptimize(auth.authenticateToken(login->token));
}
BENCHMARK(BM_AuthenticateToken)->Unit(benchmark::kMicrosecond);

void BM_PasswordHash_Interactive(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(
        auth::hashPassword("bench-password-1", auth::PasswordCost::kInteractive));
}
BENCHMARK(BM_PasswordHash_Interactive)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
