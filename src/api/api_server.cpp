#include "api/api_server.h"

#include "account/carbon_accounts.h"
#include "analytics/analytics_service.h"
#include "api/http_partner_webhook.h"
#include "api/link_http_transport.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/static_files.h"
#include "certify/certify_service.h"
#include "certify/provenance_service.h"
#include "content/catalogue_service.h"
#include "content/content_service.h"
#include "content/idea_service.h"
#include "ets/ets_service.h"
#include "incentive/benefit_service.h"
#include "incentive/card_service.h"
#include "incentive/merchant_service.h"
#include "incentive/points_expiry.h"
#include "incentive/ranking_service.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "ingest/reduction_stats.h"
#include "link/link_hub.h"
#include "market/market_service.h"
#include "methodology/methodology_service.h"
#include "neutral/neutral_service.h"
#include "pilot/fund_service.h"
#include "pilot/pilot_service.h"
#include "privacy/personal_data_service.h"
#include "programme/programme_service.h"
#include "region/campaign_service.h"
#include "region/region_service.h"
#include "registry/registry_service.h"
#include "store/database.h"

namespace tph::api {

struct ApiServer::Services {
  Services(store::Database& db, const Clock& clock, const ApiServerOptions& options)
      : auth(db, clock, options.auth),
        regions(db, clock),
        methodologies(db, clock),
        accounts(db, clock),
        providers(db, clock),
        ingest(db, clock, methodologies),
        bindings(db, clock, ingest),
        registry(db, clock),
        certify(db, clock, auth, methodologies, options.certify),
        merchants(db, clock, accounts),
        benefits(db, clock, accounts, partner_webhook, std::chrono::seconds(5)),
        provenance(db, clock, methodologies, certify),
        analytics(db),
        market(db, clock, options.market),
        pilots(db, clock),
        funds(db, clock),
        programmes(db, clock),
        link_hub(options.link_key
                     ? std::make_unique<link::LinkHub>(
                           db, clock, *options.link_key,
                           link::ProvinceServices{&methodologies, &certify, &registry, &merchants})
                     : nullptr),
        cards(db, clock, accounts),
        rankings(db, clock),
        points_expiry(db, clock),
        campaigns(db, clock, methodologies),
        reduction_stats(db),
        ets(db, clock),
        neutral(db, clock, accounts),
        content(db, clock),
        catalogue(db, clock),
        ideas(db, clock, methodologies),
        personal_data(db, clock, auth),
        static_files(options.web_root) {}
  auth::AuthService auth;
  region::RegionService regions;
  methodology::MethodologyService methodologies;
  account::CarbonAccountService accounts;
  ingest::ProviderService providers;
  ingest::IngestService ingest;
  ingest::BindingService bindings;
  registry::RegistryService registry;
  certify::CertifyService certify;
  incentive::MerchantService merchants;
  HttpPartnerWebhook partner_webhook;
  incentive::BenefitService benefits;
  certify::ProvenanceService provenance;
  analytics::AnalyticsService analytics;
  market::MarketService market;
  pilot::PilotService pilots;
  pilot::FundService funds;
  programme::ProgrammeService programmes;
  std::unique_ptr<link::LinkHub> link_hub;  //!< null on a node without a link key
  incentive::CardService cards;
  incentive::RankingService rankings;
  incentive::PointsExpiryService points_expiry;
  region::CampaignService campaigns;
  ingest::ReductionStats reduction_stats;
  ets::EtsService ets;
  neutral::NeutralService neutral;
  content::ContentService content;
  content::CatalogueService catalogue;
  content::IdeaService ideas;
  privacy::PersonalDataService personal_data;
  StaticFiles static_files;
};

ApiServer::ApiServer(store::Database& db, const Clock& clock, ApiServerOptions options)
    : services_(std::make_unique<Services>(db, clock, options)),
      router_(std::make_unique<Router>(services_->auth)) {
  addSystemRoutes(*router_, db, kVersion);
  addAuthRoutes(*router_, services_->auth);
  addRegionRoutes(*router_, services_->regions);
  addMethodologyRoutes(*router_, services_->methodologies);
  addIngestRoutes(*router_, services_->providers, services_->ingest, services_->bindings);
  addAccountRoutes(*router_, services_->accounts, services_->ingest, clock);
  addCertifyRoutes(*router_, services_->certify);
  addRegistryRoutes(*router_, services_->registry);
  addIncentiveRoutes(*router_, services_->merchants, services_->benefits);
  addProvenanceRoutes(*router_, services_->provenance, db, options.audit_public_key);
  addStatsRoutes(*router_, services_->analytics);
  addMarketRoutes(*router_, services_->market);
  addPilotRoutes(*router_, services_->pilots);
  addFundRoutes(*router_, services_->funds);
  addPrivacyRoutes(*router_, services_->personal_data);
  addProgrammeRoutes(*router_, services_->programmes);
  addLinkRoutes(*router_, services_->link_hub.get());
  addCardRoutes(*router_, services_->cards);
  addRankingRoutes(*router_, services_->rankings);
  addPointsExpiryRoutes(*router_, services_->points_expiry);
  addCampaignRoutes(*router_, services_->campaigns, services_->reduction_stats);
  if (options.city_node) {
    if (!options.link_key) throw std::invalid_argument("a city node needs a link key");
    std::unique_ptr<link::LinkTransport> transport;
    if (options.city_transport) {
      transport = options.city_transport();
    } else {
      auto http = LinkHttpTransport::fromUrl(options.city_node->province_url);
      if (!http) throw std::invalid_argument(http.error().message);
      transport = std::move(*http);
    }
    city_node_ = std::make_unique<link::CityNode>(
        db, clock, *options.link_key, *options.city_node,
        link::CityServices{&services_->methodologies, &services_->certify});
    city_runner_ = std::make_unique<link::LinkCityRunner>(*city_node_, std::move(transport));
    addLinkCityRoutes(*router_, *city_node_, *city_runner_);
  }
  signing_key_ = options.audit_signing_key;
  addEtsRoutes(*router_, services_->ets, signing_key_.get());
  addNeutralRoutes(*router_, services_->neutral, options.public_url);
  addContentRoutes(*router_, services_->content, services_->catalogue, services_->ideas,
                   options.public_url);
  if (!options.web_root.empty()) {
    router_->setFallback(
        [this](HttpRequest& request) { return services_->static_files.serve(request); });
  }
  server_ = std::make_unique<HttpServer>(
      options.http, [this](HttpRequest& request) { return router_->handle(request); });
  router_->metrics().addGauge("tph_http_open_connections", "HTTP connections open now.",
                              [this] { return static_cast<double>(server_->openConnections()); });
}

ApiServer::~ApiServer() {
  stop();
}

std::uint16_t ApiServer::start() {
  auto port = server_->start();
  if (city_runner_) city_runner_->start();
  return port;
}
void ApiServer::stop() {
  if (city_runner_) city_runner_->stop();
  if (server_) server_->stop();
}
void ApiServer::runUntilSignal() {
  server_->runUntilSignal();
}
Router& ApiServer::router() {
  return *router_;
}
auth::AuthService& ApiServer::auth() {
  return services_->auth;
}

methodology::MethodologyService& ApiServer::methodologies() {
  return services_->methodologies;
}

}  // namespace tph::api
