#pragma once
// One function per module adds that module's routes. Each route parses, calls the module's
// service and renders; no business rule lives here.

#include <string>

#include "api/router.h"

namespace tph::store {
class Database;
}
namespace tph::auth {
class AuthService;
}
namespace tph::region {
class RegionService;
}
namespace tph::methodology {
class MethodologyService;
}
namespace tph::account {
class CarbonAccountService;
}
namespace tph::ingest {
class ProviderService;
class IngestService;
class BindingService;
}  // namespace tph::ingest
namespace tph::certify {
class CertifyService;
class ProvenanceService;
}  // namespace tph::certify
namespace tph::registry {
class RegistryService;
}
namespace tph::incentive {
class MerchantService;
class BenefitService;
class CardService;
class RankingService;
class PointsExpiryService;
}  // namespace tph::incentive
namespace tph::analytics {
class AnalyticsService;
}
namespace tph::market {
class MarketService;
}
namespace tph::pilot {
class PilotService;
class FundService;
}  // namespace tph::pilot
namespace tph::programme {
class ProgrammeService;
}
namespace tph::assessment {
class AssessmentService;
}
namespace tph::link {
class LinkHub;
class CityNode;
class LinkCityRunner;
}  // namespace tph::link
namespace tph::privacy {
class PersonalDataService;
}
namespace tph::region {
class CampaignService;
}
namespace tph::ingest {
class ReductionStats;
}
namespace tph::ets {
class EtsService;
}
namespace tph::neutral {
class NeutralService;
}
namespace tph::audit {
class SigningKey;
}
namespace tph::content {
class ContentService;
class CatalogueService;
class IdeaService;
}  // namespace tph::content
namespace tph {
class Clock;
}

namespace tph::api {

class HttpServer;

void addSystemRoutes(Router& router, store::Database& db, const std::string& version);
void addAuthRoutes(Router& router, auth::AuthService& auth);
void addRegionRoutes(Router& router, region::RegionService& regions);
void addMethodologyRoutes(Router& router, methodology::MethodologyService& methodologies);
void addIngestRoutes(Router& router, ingest::ProviderService& providers,
                     ingest::IngestService& ingest, ingest::BindingService& bindings);
void addAccountRoutes(Router& router, account::CarbonAccountService& accounts,
                      ingest::IngestService& ingest, const Clock& clock);
void addCertifyRoutes(Router& router, certify::CertifyService& certify);
void addRegistryRoutes(Router& router, registry::RegistryService& registry);
void addIncentiveRoutes(Router& router, incentive::MerchantService& merchants,
                        incentive::BenefitService& benefits);
//! Serial provenance, residents' proofs, signed audit heads and the key they are signed with.
void addProvenanceRoutes(Router& router, certify::ProvenanceService& provenance,
                         store::Database& db, const std::string& audit_public_key);
void addStatsRoutes(Router& router, analytics::AnalyticsService& analytics);
void addMarketRoutes(Router& router, market::MarketService& market);
void addPilotRoutes(Router& router, pilot::PilotService& pilots);
void addFundRoutes(Router& router, pilot::FundService& funds);
void addPrivacyRoutes(Router& router, privacy::PersonalDataService& personal_data);
void addProgrammeRoutes(Router& router, programme::ProgrammeService& programmes);
void addAssessmentRoutes(Router& router, assessment::AssessmentService& assessments);
//! `hub` is null on a node without a link key: the link routes then answer 503.
void addLinkRoutes(Router& router, link::LinkHub* hub);
//! A city node's routes: submissions to the province, the outbox, the province's items.
void addLinkCityRoutes(Router& router, link::CityNode& node, link::LinkCityRunner& runner);
void addCardRoutes(Router& router, incentive::CardService& cards);
void addRankingRoutes(Router& router, incentive::RankingService& rankings);
void addPointsExpiryRoutes(Router& router, incentive::PointsExpiryService& expiry);
void addCampaignRoutes(Router& router, region::CampaignService& campaigns,
                       ingest::ReductionStats& stats);
//! `signing_key` signs the ETS registry export; null: the export routes answer 503.
void addEtsRoutes(Router& router, ets::EtsService& ets, const audit::SigningKey* signing_key);
//! `public_url` prefixes the page URL in certificates' QR codes; empty: from the Host header.
void addNeutralRoutes(Router& router, neutral::NeutralService& neutral,
                      const std::string& public_url);
//! `public_url` is the site's base for absolute links in feeds, the sitemap and share pages.
void addContentRoutes(Router& router, content::ContentService& content,
                      content::CatalogueService& catalogue, content::IdeaService& ideas,
                      const std::string& public_url);

}  // namespace tph::api
