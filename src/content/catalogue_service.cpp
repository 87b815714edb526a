#include "content/catalogue_service.h"

#include <algorithm>

#include "audit/audit_log.h"
#include "content/catalogue_store.h"
#include "content/content_store.h"
#include "content/text_fields.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::content {

namespace {

using detail::textField;
using nlohmann::json;

constexpr std::size_t kMaxNameBytes = 200;
constexpr std::size_t kMaxDescriptionBytes = 4000;
//! A footprint above 1 000 t CO2e per unit is a typing error, not a product.
constexpr std::int64_t kMaxFootprintGrams = 1'000'000'000'000;

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

json inputJson(const CatalogueInput& in) {
  json j = {{"kind", in.kind},
            {"name_zh", in.name_zh},
            {"maker", in.maker},
            {"category", in.category},
            {"region", in.region_code}};
  if (in.certification) {
    j["certification"] = {{"body", in.certification->body},
                          {"certificate", in.certification->certificate},
                          {"valid_until", in.certification->valid_until}};
  }
  if (in.footprint) {
    j["footprint"] = {{"grams_per_unit", in.footprint->grams_per_unit.value()},
                      {"unit", in.footprint->unit},
                      {"source", in.footprint->source}};
  }
  if (in.article_id) j["article_id"] = *in.article_id;
  return j;
}

Error notEditor(const std::string& region) {
  return Error::forbidden("only an editor of region " + region + " may do this", "region");
}

Error notFound(std::int64_t id) {
  return Error::notFound("no catalogue entry " + std::to_string(id), "id");
}

}  // namespace

const std::vector<std::string>& catalogueCategories() {
  static const std::vector<std::string> categories = {
      "home_appliance",    "lighting",  "building_material", "building_energy",  "vehicle",
      "office_equipment",  "packaging", "textile",           "renewable_energy", "energy_storage",
      "industrial_energy", "transport", "waste_recycling",   "water_saving",     "carbon_sink",
      "digital_energy",    "other"};
  return categories;
}

Result<CatalogueInput> catalogueInputFromJson(const json& body) {
  if (!body.is_object()) return Error::invalid("body", "must be an object");
  CatalogueInput in;
  auto kind = textField(body, "kind", true, 20);
  if (!kind) return kind.error();
  if (*kind != "product" && *kind != "technology") {
    return Error::invalid("kind", "must be product or technology");
  }
  in.kind = *kind;
  struct Field {
    const char* key;
    bool required;
    std::size_t max;
    std::string* out;
  };
  for (const Field& f :
       {Field{"name_zh", true, kMaxNameBytes, &in.name_zh},
        Field{"name_en", false, kMaxNameBytes, &in.name_en},
        Field{"maker", true, kMaxNameBytes, &in.maker}, Field{"category", true, 40, &in.category},
        Field{"region", true, 6, &in.region_code},
        Field{"description_zh", false, kMaxDescriptionBytes, &in.description_zh}}) {
    auto value = textField(body, f.key, f.required, f.max);
    if (!value) return value.error();
    *f.out = *value;
  }
  if (!listed(catalogueCategories(), in.category)) {
    return Error::invalid("category", "is not one of the catalogue's categories");
  }
  if (!isRegionCode(in.region_code)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (auto c = body.find("certification"); c != body.end() && !c->is_null()) {
    if (!c->is_object()) return Error::invalid("certification", "must be an object");
    if (in.kind != "product") {
      return Error::invalid("certification", "only products carry a low-carbon certification");
    }
    Certification cert;
    for (auto [key, out] :
         {std::pair{"body", &cert.body}, std::pair{"certificate", &cert.certificate},
          std::pair{"valid_until", &cert.valid_until}}) {
      auto value = textField(*c, key, true, kMaxNameBytes);
      if (!value) {
        return Error::invalid("certification." + value.error().field, value.error().message);
      }
      *out = *value;
    }
    if (!detail::isIsoDay(cert.valid_until)) {
      return Error::invalid("certification.valid_until", "must be a date YYYY-MM-DD");
    }
    in.certification = cert;
  }
  if (auto f = body.find("footprint"); f != body.end() && !f->is_null()) {
    if (!f->is_object()) return Error::invalid("footprint", "must be an object");
    auto grams = f->find("grams_per_unit");
    if (grams == f->end() || !grams->is_number_integer() || grams->get<std::int64_t>() < 0 ||
        grams->get<std::int64_t>() > kMaxFootprintGrams) {
      return Error::invalid("footprint.grams_per_unit", "must be whole grams of CO2e, 0 to 10^12");
    }
    Footprint fp{Grams(grams->get<std::int64_t>()), "", ""};
    auto unit = textField(*f, "unit", true, 20);
    if (!unit) return Error::invalid("footprint.unit", unit.error().message);
    auto source = textField(*f, "source", true, 500);
    if (!source) return Error::invalid("footprint.source", source.error().message);
    fp.unit = *unit;
    fp.source = *source;
    in.footprint = fp;
  }
  if (auto a = body.find("article_id"); a != body.end() && !a->is_null()) {
    if (!a->is_number_integer() || a->get<std::int64_t>() < 1) {
      return Error::invalid("article_id", "must be an article id");
    }
    in.article_id = a->get<std::int64_t>();
  }
  return in;
}

namespace {

//! Checks what needs the database: the region, the linked article, the certificate's uniqueness.
Status checkStored(soci::session& sql, const CatalogueInput& in, std::int64_t id) {
  if (!detail::regionExists(sql, in.region_code)) {
    return Error::invalid("region", "no region " + in.region_code);
  }
  if (in.article_id) {
    auto article = detail::articleStateAndKind(sql, *in.article_id);
    if (!article || article->first != "published") {
      return Error::invalid("article_id", "must be a published article");
    }
    if (article->second != in.kind) {
      return Error::invalid("article_id", "must be an article of kind " + in.kind);
    }
  }
  if (in.certification && detail::entryWithCertificate(sql, in.certification->body,
                                                       in.certification->certificate, id)) {
    return Error::conflict("this certificate is listed already", "certification.certificate");
  }
  return {};
}

}  // namespace

Result<CatalogueEntry> CatalogueService::list(const auth::Principal& caller,
                                              const CatalogueInput& input) {
  if (!caller.actsInRegion(auth::Role::kEditor, input.region_code)) {
    return notEditor(input.region_code);
  }
  return db_.transaction([&](soci::session& sql) -> Result<CatalogueEntry> {
    TPH_TRY(checkStored(sql, input, 0));
    auto id = detail::insertEntry(sql, input, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "content.catalogue.list",
                             "catalogue:" + std::to_string(id), inputJson(input)});
    return *detail::findEntry(sql, id, shanghaiDay(clock_.now()));
  });
}

Result<CatalogueEntry> CatalogueService::revise(const auth::Principal& caller, std::int64_t id,
                                                const CatalogueInput& input) {
  auto today = shanghaiDay(clock_.now());
  return db_.transaction([&](soci::session& sql) -> Result<CatalogueEntry> {
    auto e = detail::findEntry(sql, id, today, true);
    if (!e) return notFound(id);
    if (!caller.actsInRegion(auth::Role::kEditor, e->fields.region_code)) {
      return notEditor(e->fields.region_code);
    }
    if (!caller.actsInRegion(auth::Role::kEditor, input.region_code)) {
      return notEditor(input.region_code);
    }
    if (e->state != "listed") return Error::conflict("the entry is withdrawn", "state");
    TPH_TRY(checkStored(sql, input, id));
    detail::updateEntry(sql, id, input, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "content.catalogue.revise",
                             "catalogue:" + std::to_string(id), inputJson(input)});
    return *detail::findEntry(sql, id, today);
  });
}

Result<CatalogueEntry> CatalogueService::withdraw(const auth::Principal& caller, std::int64_t id,
                                                  const std::string& reason) {
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos || reason.size() > 1000 ||
      !detail::validUtf8(reason)) {
    return Error::invalid("reason", "a withdrawal needs a reason of at most 1000 bytes");
  }
  auto today = shanghaiDay(clock_.now());
  return db_.transaction([&](soci::session& sql) -> Result<CatalogueEntry> {
    auto e = detail::findEntry(sql, id, today, true);
    if (!e) return notFound(id);
    if (!caller.actsInRegion(auth::Role::kEditor, e->fields.region_code)) {
      return notEditor(e->fields.region_code);
    }
    if (e->state != "listed") return Error::conflict("the entry is withdrawn already", "state");
    detail::withdrawEntry(sql, id, reason, toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "content.catalogue.withdraw",
                             "catalogue:" + std::to_string(id),
                             {{"reason", reason}}});
    return *detail::findEntry(sql, id, today);
  });
}

Result<CatalogueEntry> CatalogueService::entry(std::int64_t id) {
  auto today = shanghaiDay(clock_.now());
  auto e = db_.read([&](soci::session& sql) { return detail::findEntry(sql, id, today); });
  if (!e) return notFound(id);
  return *e;
}

Result<std::vector<CatalogueEntry>> CatalogueService::find(const CatalogueFilter& filter) {
  if (!filter.kind.empty() && filter.kind != "product" && filter.kind != "technology") {
    return Error::invalid("kind", "must be product or technology");
  }
  if (!filter.category.empty() && !listed(catalogueCategories(), filter.category)) {
    return Error::invalid("category", "is not one of the catalogue's categories");
  }
  if (!filter.region.empty() && !isRegionCode(filter.region)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (filter.limit < 1 || filter.limit > kMaxCatalogueExport) {
    return Error::invalid("limit", "must be 1 to " + std::to_string(kMaxCatalogueExport));
  }
  if (filter.offset < 0) return Error::invalid("offset", "must be 0 or more");
  auto today = shanghaiDay(clock_.now());
  return db_.read([&](soci::session& sql) { return detail::findEntries(sql, filter, today); });
}

}  // namespace tph::content
