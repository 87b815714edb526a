// The market with the real binary. The journal under a crash: `tanpuhui serve` takes orders and
// picks from parallel clients, is killed with SIGKILL mid-stream and started again; every
// acknowledged order and trade must be there exactly once, retries of every request sent must not
// double anything, the rebuilt book must be the open orders, and the cash and unit ledgers must
// balance. And `tanpuhui market close-auctions`, the job that clears auctions past their close.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "api/http_client.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "issued_units.h"
#include "market/cash_ledger.h"
#include "market/market_service.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";
constexpr const char* kProduct = "PHCER-METRO";
constexpr std::int64_t kUnits = 1'000'000;
constexpr std::int64_t kCashFen = 100'000'000'000;

std::uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

//! What a client sent and, if the server answered, what it acknowledged.
struct Sent {
  std::string kind;  // order or pick
  json body;
  bool acknowledged = false;
  json response;
};

class MarketRestartTest : public ::testing::Test {
 protected:
  MarketRestartTest() : dir_(std::filesystem::temp_directory_path() / unique()) {
    std::filesystem::create_directories(dir_);
    SystemClock clock;
    region::RegionService regions(t_.db(), clock);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    auth::AuthOptions auth_options;
    auth_options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock, auth_options);
    auto make = [&](const std::string& name, auth::Role role, const std::string& region) {
      auto u = auth.createUserAsSystem("test", {name, kPassword, name, {{role, region}}}, false);
      EXPECT_TRUE(u.ok()) << u.error().message;
      return auth::Principal{u->id, u->username, u->display_name, u->grants, {}};
    };
    auto province = make("gd_admin", auth::Role::kProvinceAdmin, "440000");
    users_["gd_admin"] = province;
    registry::RegistryService registry(t_.db(), clock);
    market::MarketService market(t_.db(), clock);
    for (const char* name : {"seller", "buyer"}) {
      auto user = make(name, auth::Role::kExchangeMember, "");
      users_[name] = user;
      auto account = registry.openAccount(
          province, {registry::AccountKind::kExchangeMember, name, "440300", {user.user_id}});
      EXPECT_TRUE(account.ok()) << account.error().message;
      accounts_[name] = account->account_no;
      members_[name] = market.registerMember(province, account->account_no, name, "enterprise")->id;
    }
    market::Product p;
    p.code = kProduct;
    p.name = "碳普惠 地铁出行";
    p.methodology = "travel.metro";
    p.effective_from = clock.now() - std::chrono::hours(24 * 30);
    p.reference_price = Fen(5000);
    p.sessions = "00:00-24:00";  // the test runs whenever it is started
    p.fee_bp = 10;
    EXPECT_TRUE(market.admitProduct(province, p).ok());
    testing::issueUnitsTo(t_.db(), clock, {accounts_["seller"], kUnits});
    EXPECT_TRUE(market.deposit(province, members_["buyer"], Fen(kCashFen), "d1", "BANK").ok());
    // Weekends too: today and tomorrow (Asia/Shanghai) are trading days for this server.
    trading_days_ =
        shanghaiDay(clock.now()) + "," + shanghaiDay(clock.now() + std::chrono::hours(24));
  }
  ~MarketRestartTest() override {
    stopServer(SIGTERM);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string unique() {
    return "tph-market-restart-" + std::to_string(getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  void startServer() {
    port_ = freePort();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      std::string log = (dir_ / "server.log").string();
      FILE* out = freopen(log.c_str(), "a", stdout);
      (void)out;
      dup2(1, 2);
      setenv("TPH_MARKET_EXTRA_TRADING_DAYS", trading_days_.c_str(), 1);
      std::string db = t_.url(), listen = "127.0.0.1:" + std::to_string(port_),
                  key = (dir_ / "audit.key").string();
      execl(TPH_BINARY, TPH_BINARY, "serve", "--db", db.c_str(), "--listen", listen.c_str(),
            "--workers", "4", "--audit-key", key.c_str(), "--data-dir", TPH_SOURCE_DIR "/data",
            "--web-root", (dir_ / "no-web").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 600; ++i) {
      try {
        HttpClient probe("127.0.0.1", port_, std::chrono::seconds(2));
        if (probe.send("GET", "/healthz").status == 200) return;
      } catch (const std::exception&) {
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "the server exited: " << serverLog();
      }
      usleep(100'000);
    }
    FAIL() << "the server did not answer /healthz: " << serverLog();
  }

  void stopServer(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string serverLog() {
    std::ifstream in(dir_ / "server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string login(HttpClient& client, const std::string& user) {
    auto r = client.send("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                         json{{"username", user}, {"password", kPassword}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("token", "");
  }

  HttpResponse post(HttpClient& client, const std::string& token, const std::string& target,
                    const json& body) {
    return client.send("POST", target,
                       {{"content-type", "application/json"}, {"authorization", "Bearer " + token}},
                       body.dump());
  }

  std::int64_t count(const std::string& sql_text) {
    return t_.db().read([&](soci::session& sql) {
      long long n = 0;
      sql << sql_text, soci::into(n);
      return static_cast<std::int64_t>(n);
    });
  }

  testing::TestDatabase t_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> accounts_;
  std::map<std::string, std::int64_t> members_;
  std::map<std::string, auth::Principal> users_;
  std::string trading_days_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(MarketRestartTest, KilledMidStreamLosesAndDoublesNothing) {
  startServer();
  std::map<std::string, std::string> tokens;
  {
    HttpClient client("127.0.0.1", port_);
    for (const char* user : {"seller", "buyer"}) tokens[user] = login(client, user);
  }

  // Two sellers' and two buyers' threads post good-till-cancelled orders around the reference
  // price, a fifth picks the best ask; all until the server dies under them.
  constexpr int kThreads = 5;
  std::vector<std::vector<Sent>> sent(kThreads);
  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(20261129 + t);
      std::uniform_int_distribution<int> price(4900, 5100), quantity(1, 20);
      bool sells = t < 2, picks = t == 4;
      std::string who = sells ? "seller" : "buyer";
      HttpClient client("127.0.0.1", port_, std::chrono::seconds(10));
      for (int i = 0; !stop.load(); ++i) {
        Sent s;
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (picks) {
          s.kind = "pick";
          s.body = {{"idempotency_key", key}, {"product", kProduct}, {"member_id", members_[who]},
                    {"side", "buy"},          {"level", 1},          {"quantity", quantity(rng)}};
        } else {
          s.kind = "order";
          s.body = {{"idempotency_key", key},     {"product", kProduct},
                    {"member_id", members_[who]}, {"side", sells ? "sell" : "buy"},
                    {"price_fen", price(rng)},    {"quantity", quantity(rng)},
                    {"time_in_force", "gtc"}};
        }
        sent[t].push_back(s);
        try {
          auto r = post(client, tokens[who],
                        picks ? "/api/v1/market/picks" : "/api/v1/market/orders", s.body);
          if (r.status == 201 || r.status == 200) {
            sent[t].back().acknowledged = true;
            sent[t].back().response = json::parse(r.body);
            ++acknowledged;
          }
        } catch (const std::exception&) {
          return;  // the server is gone
        }
      }
    });
  }
  // Kill it once a few hundred requests went through, mid-stream.
  for (int i = 0; i < 600 && acknowledged.load() < 300; ++i) usleep(50'000);
  stopServer(SIGKILL);
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_GE(acknowledged.load(), 50) << serverLog();

  startServer();
  HttpClient client("127.0.0.1", port_);
  for (const char* user : {"seller", "buyer"}) tokens[user] = login(client, user);

  // Every acknowledged order and trade is there, exactly once, as acknowledged.
  std::int64_t acked_orders = 0, acked_trades = 0;
  for (const auto& thread_sent : sent) {
    for (const auto& s : thread_sent) {
      if (!s.acknowledged) continue;
      if (s.kind == "order") {
        ++acked_orders;
        auto id = s.response["order"]["id"].get<std::int64_t>();
        EXPECT_EQ(
            count("SELECT COUNT(*) FROM market_orders WHERE id = " + std::to_string(id) +
                  " AND idempotency_key = '" + s.body["idempotency_key"].get<std::string>() + "'"),
            1);
      }
      for (const auto& trade : s.response["trades"]) {
        ++acked_trades;
        EXPECT_EQ(
            count("SELECT COUNT(*) FROM market_trades WHERE id = " +
                  std::to_string(trade["id"].get<std::int64_t>()) +
                  " AND quantity = " + std::to_string(trade["quantity"].get<std::int64_t>()) +
                  " AND price_fen = " + std::to_string(trade["price_fen"].get<std::int64_t>())),
            1);
      }
    }
  }
  std::size_t total = 0;
  for (const auto& thread_sent : sent) total += thread_sent.size();
  std::printf("sent %zu requests, %d acknowledged (%lld orders, %lld trades) before the kill\n",
              total, acknowledged.load(), static_cast<long long>(acked_orders),
              static_cast<long long>(acked_trades));
  EXPECT_GT(acked_orders, 0);
  EXPECT_GT(acked_trades, 0) << "the stream should have traded";

  // Retrying every order sent — acknowledged or lost in flight — doubles nothing: an acknowledged
  // one answers its first outcome.
  for (const auto& thread_sent : sent) {
    for (const auto& s : thread_sent) {
      if (s.kind != "order") continue;
      std::string who = s.body["side"] == "sell" ? "seller" : "buyer";
      auto r = post(client, tokens[who], "/api/v1/market/orders", s.body);
      ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
      if (s.acknowledged) {
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(json::parse(r.body)["order"]["id"], s.response["order"]["id"]);
      }
    }
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM (SELECT idempotency_key FROM market_orders GROUP BY "
                  "idempotency_key HAVING COUNT(*) > 1) d"),
            0);

  // Each order's fills are its trades: nothing traded twice or lost a leg.
  EXPECT_EQ(count("SELECT COUNT(*) FROM market_orders o WHERE o.quantity - o.remaining <> "
                  "(SELECT COALESCE(SUM(t.quantity), 0) FROM market_trades t WHERE "
                  "t.buy_order_id = o.id OR t.sell_order_id = o.id)"),
            0);

  // The rebuilt book is the open orders, best five each side.
  auto book =
      json::parse(client.send("GET", std::string("/api/v1/market/") + kProduct + "/book").body);
  for (const char* side : {"buy", "sell"}) {
    bool bids = std::string(side) == "buy";
    auto levels = book[bids ? "bids" : "asks"];
    std::vector<std::pair<std::int64_t, std::int64_t>> expected;
    t_.db().read([&](soci::session& sql) {
      soci::rowset<soci::row> rows =
          (sql.prepare << std::string("SELECT price_fen, SUM(remaining) FROM market_orders WHERE "
                                      "state = 'open' AND side = '") +
                              side + "' GROUP BY price_fen ORDER BY price_fen " +
                              (bids ? "DESC" : "ASC") + " LIMIT 5");
      for (const auto& r : rows)
        expected.emplace_back(store::rowInt64(r, 0), store::rowInt64(r, 1));
      return 0;
    });
    ASSERT_EQ(levels.size(), expected.size()) << side;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(levels[i]["price_fen"], expected[i].first);
      EXPECT_EQ(levels[i]["quantity"], expected[i].second);
    }
  }
  if (!book["bids"].empty() && !book["asks"].empty()) {
    EXPECT_LT(book["bids"][0]["price_fen"].get<std::int64_t>(),
              book["asks"][0]["price_fen"].get<std::int64_t>());
  }

  // The rebuilt book trades: one unit at the best ask goes to its oldest order.
  if (!book["asks"].empty()) {
    std::int64_t best = book["asks"][0]["price_fen"];
    std::int64_t oldest = count(
        "SELECT id FROM market_orders WHERE state = 'open' AND side = "
        "'sell' AND price_fen = " +
        std::to_string(best) + " ORDER BY seq LIMIT 1");
    auto r = post(client, tokens["buyer"], "/api/v1/market/orders",
                  {{"idempotency_key", "after-restart"},
                   {"product", kProduct},
                   {"member_id", members_["buyer"]},
                   {"side", "buy"},
                   {"price_fen", best},
                   {"quantity", 1},
                   {"time_in_force", "day"}});
    ASSERT_EQ(r.status, 201) << r.body;
    auto trades = json::parse(r.body)["trades"];
    ASSERT_EQ(trades.size(), 1u);
    EXPECT_EQ(count("SELECT sell_order_id FROM market_trades WHERE id = " +
                    std::to_string(trades[0]["id"].get<std::int64_t>())),
              oldest);
  }
  stopServer(SIGTERM);

  // The ledgers balance: units and cash are where the trades say, fees included.
  auto units_of = [&](const std::string& who) {
    return t_.db().read([&](soci::session& sql) {
      return registry::heldUnits(sql, *registry::findAccountId(sql, accounts_[who]), {}).value();
    });
  };
  std::int64_t bought = count("SELECT COALESCE(SUM(quantity), 0) FROM market_trades");
  EXPECT_EQ(units_of("buyer"), bought);
  EXPECT_EQ(units_of("seller"), kUnits - bought);
  std::int64_t paid =
      count("SELECT COALESCE(SUM(amount_fen + buyer_fee_fen), 0) FROM market_trades");
  std::int64_t received =
      count("SELECT COALESCE(SUM(amount_fen - seller_fee_fen), 0) FROM market_trades");
  auto cash_of = [&](const std::string& code) {
    return count(
        "SELECT COALESCE(SUM(p.amount), 0) FROM market_cash_postings p JOIN "
        "market_cash_accounts a ON a.id = p.account_id WHERE a.code = '" +
        code + "'");
  };
  EXPECT_EQ(cash_of("member:" + accounts_["buyer"]), kCashFen - paid);
  EXPECT_EQ(cash_of("member:" + accounts_["seller"]), received);
  EXPECT_EQ(cash_of("exchange:fees"), paid - received);
  auto ledger = t_.db().read([](soci::session& sql) { return market::verifyCashLedger(sql); });
  EXPECT_TRUE(ledger.ok) << ledger.problem;
  SystemClock clock;
  auto check = registry::RegistryService(t_.db(), clock).check();
  EXPECT_TRUE(check.ok) << check.problem;
  auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(chain.ok) << chain.problem;
}

TEST_F(MarketRestartTest, TheCloseAuctionsJobClearsWhatIsDue) {
  // Announced and bid two hours ago; one auction closed an hour ago, the other closes later.
  ManualClock past(SystemClock().now() - std::chrono::hours(2));
  market::MarketService market(t_.db(), past);
  auto due = market.announceAuction(
      users_["seller"], {"job-due", kProduct, members_["seller"], market::Side::kSell, 100,
                         Fen(4000), past.now(), past.now() + std::chrono::hours(1)});
  ASSERT_TRUE(due.ok()) << due.error().message;
  auto later = market.announceAuction(
      users_["seller"], {"job-later", kProduct, members_["seller"], market::Side::kSell, 100,
                         Fen(4000), past.now(), past.now() + std::chrono::hours(4)});
  ASSERT_TRUE(later.ok()) << later.error().message;
  past.advance(std::chrono::minutes(10));
  ASSERT_TRUE(
      market.submitBid(users_["buyer"], {"jb1", due->id, members_["buyer"], Fen(4500), 60}).ok());
  past.advance(std::chrono::minutes(10));
  ASSERT_TRUE(
      market.submitBid(users_["buyer"], {"jb2", due->id, members_["buyer"], Fen(4200), 50}).ok());

  std::string out;
  ASSERT_EQ(tph::testing::runCli("market close-auctions --json --db '" + t_.url() + "'", &out), 0)
      << out;
  auto summary = json::parse(out.substr(out.rfind("{\"cleared\"")));
  ASSERT_EQ(summary["cleared"].size(), 1u) << out;
  EXPECT_EQ(summary["cleared"][0]["auction"], due->id);
  EXPECT_EQ(summary["cleared"][0]["cleared_quantity"], 100);
  EXPECT_EQ(summary["cleared"][0]["average_price_fen"], (60 * 4500 + 40 * 4200) / 100);
  EXPECT_EQ(market.auction(due->id)->state, "cleared");
  EXPECT_EQ(market.auction(later->id)->state, "open");
  EXPECT_EQ(count("SELECT COUNT(*) FROM market_trades WHERE mode = 'auction'"), 2);

  out.clear();
  EXPECT_EQ(tph::testing::runCli("market close-auctions --db '" + t_.url() + "'", &out), 0);
  EXPECT_NE(out.find("no auction is due"), std::string::npos) << out;
  out.clear();
  EXPECT_NE(tph::testing::runCli("market close-auctions --db 'nowhere:x'", &out), 0);
  out.clear();
  EXPECT_NE(tph::testing::runCli("market", &out), 0);
}

}  // namespace
}  // namespace tph::api
