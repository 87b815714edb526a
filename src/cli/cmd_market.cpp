// `tanpuhui market close-auctions`: the job a cron entry runs every minute — clears every one-way
// auction whose window is over, each in its own transaction, and prints the published results.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "market/market_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct CloseAuctionsOptions {
  CommonOptions common;
  bool json_summary = false;
};

int runCloseAuctions(const CloseAuctionsOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  market::MarketService market(**db, clock);
  auto done = market.closeDueAuctions("cli:market-close-auctions");
  nlohmann::json cleared = nlohmann::json::array(), failed = nlohmann::json::array();
  for (const auto& d : done) {
    if (d.outcome.ok()) {
      const auto& a = d.outcome->auction;
      cleared.push_back({{"auction", a.id},
                         {"product", a.product},
                         {"cleared_quantity", a.cleared_quantity},
                         {"cleared_amount_fen", a.cleared_amount.value()},
                         {"average_price_fen", a.averagePrice().value()},
                         {"bids", a.bids_count}});
      if (!options.json_summary)
        std::printf("auction %lld (%s): %lld of %lld units at an average %lld fen, %lld bids\n",
                    static_cast<long long>(a.id), a.product.c_str(),
                    static_cast<long long>(a.cleared_quantity), static_cast<long long>(a.quantity),
                    static_cast<long long>(a.averagePrice().value()),
                    static_cast<long long>(a.bids_count));
    } else {
      failed.push_back({{"auction", d.auction_id},
                        {"field", d.outcome.error().field},
                        {"message", d.outcome.error().message}});
      std::fprintf(stderr, "tanpuhui: auction %lld not cleared: %s\n",
                   static_cast<long long>(d.auction_id), d.outcome.error().message.c_str());
    }
  }
  if (options.json_summary)
    std::printf("%s\n", nlohmann::json{{"cleared", cleared}, {"failed", failed}}.dump().c_str());
  else if (done.empty())
    std::printf("no auction is due\n");
  // An auction left open (say, its product suspended) is retried by the next run; say so.
  return failed.empty() ? 0 : 1;
}

}  // namespace

void addMarketCommand(CLI::App& app, int& exit_code) {
  auto* market = app.add_subcommand("market", "Exchange jobs");
  market->require_subcommand(1);
  auto options = std::make_shared<CloseAuctionsOptions>();
  auto* close = market->add_subcommand(
      "close-auctions",
      "Clear every one-way auction whose window is over (run it every minute from cron): bids by "
      "price then time, pay-as-bid, each fill settled DvP");
  addCommonOptions(*close, options->common);
  close->add_flag("--json", options->json_summary, "print the results as one JSON object");
  close->callback([options, &exit_code] { exit_code = runCloseAuctions(*options); });
}

}  // namespace tph::cli
