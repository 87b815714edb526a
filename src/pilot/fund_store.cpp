#include "pilot/fund_store.h"

#include <map>

#include "store/database.h"

namespace tph::pilot::detail {

namespace {

constexpr const char* kColumns =
    "p.id, p.region_code, p.title, p.summary, p.task, p.year, p.requested_fen, p.state, "
    "p.granted_fen, p.decision_reason, p.applied_by, p.applied_at_ms, "
    "(SELECT COALESCE(SUM(d.amount_fen), 0) FROM fund_disbursements d WHERE d.project_id = p.id)";

FundProject projectOf(const soci::row& r) {
  FundProject p;
  p.id = store::rowInt64(r, 0);
  p.region_code = r.get<std::string>(1);
  p.title = r.get<std::string>(2);
  p.summary = r.get<std::string>(3);
  p.task = r.get<std::string>(4);
  p.year = static_cast<int>(store::rowInt64(r, 5));
  p.requested = Fen(store::rowInt64(r, 6));
  p.state = r.get<std::string>(7);
  p.granted = Fen(store::rowInt64(r, 8));
  p.decision_reason = r.get<std::string>(9);
  p.applied_by = r.get<std::string>(10);
  p.applied_at = fromEpochMs(store::rowInt64(r, 11));
  p.disbursed = Fen(store::rowInt64(r, 12));
  return p;
}

}  // namespace

std::int64_t insertFundProject(soci::session& sql, const FundApplication& a,
                               const std::string& applied_by, std::int64_t now_ms) {
  long long id = 0, requested = a.requested.value(), now = now_ms;
  sql << "INSERT INTO fund_projects (region_code, title, summary, task, year, requested_fen, "
         "state, applied_by, applied_at_ms) VALUES (:r, :t, :s, :k, :y, :q, 'applied', :by, :at) "
         "RETURNING id",
      soci::use(a.region_code), soci::use(a.title), soci::use(a.summary), soci::use(a.task),
      soci::use(a.year), soci::use(requested), soci::use(applied_by), soci::use(now),
      soci::into(id);
  return id;
}

std::optional<FundProject> findFundProject(soci::session& sql, std::int64_t id, bool lock) {
  long long wanted = id;
  bool postgres = store::backendOf(sql) == store::Backend::kPostgresql;
  std::optional<FundProject> out;
  {
    // The disbursed total is read after the lock, below, so it includes every committed payment.
    soci::rowset<soci::row> rows = (sql.prepare << std::string("SELECT ") + kColumns +
                                                       " FROM fund_projects p WHERE p.id = :id" +
                                                       (lock && postgres ? " FOR UPDATE OF p" : ""),
                                    soci::use(wanted));
    for (const auto& r : rows) out = projectOf(r);
  }
  if (!out) return out;
  long long d_id = 0, amount = 0;
  std::string paid_on, reference, by;
  soci::statement st =
      (sql.prepare << "SELECT id, amount_fen, paid_on, reference, recorded_by FROM "
                      "fund_disbursements WHERE project_id = :p ORDER BY id",
       soci::use(wanted), soci::into(d_id), soci::into(amount), soci::into(paid_on),
       soci::into(reference), soci::into(by));
  st.execute();
  std::int64_t total = 0;
  while (st.fetch()) {
    out->disbursements.push_back({d_id, Fen(amount), paid_on, reference, by});
    total += amount;
  }
  out->disbursed = Fen(total);
  return out;
}

void decideFundProject(soci::session& sql, std::int64_t id, const std::string& state,
                       std::int64_t granted_fen, const std::string& reason,
                       const std::string& decided_by, std::int64_t now_ms) {
  long long wanted = id, granted = granted_fen, now = now_ms;
  sql << "UPDATE fund_projects SET state = :s, granted_fen = :g, decision_reason = :r, "
         "decided_by = :by, decided_at_ms = :t WHERE id = :id",
      soci::use(state), soci::use(granted), soci::use(reason), soci::use(decided_by),
      soci::use(now), soci::use(wanted);
}

void insertDisbursement(soci::session& sql, std::int64_t project_id, std::int64_t amount_fen,
                        const std::string& paid_on, const std::string& reference,
                        const std::string& recorded_by, std::int64_t now_ms) {
  long long project = project_id, amount = amount_fen, now = now_ms;
  sql << "INSERT INTO fund_disbursements (project_id, amount_fen, paid_on, reference, "
         "recorded_by, recorded_at_ms) VALUES (:p, :a, :d, :r, :by, :t)",
      soci::use(project), soci::use(amount), soci::use(paid_on), soci::use(reference),
      soci::use(recorded_by), soci::use(now);
}

std::vector<FundProject> listFundProjects(soci::session& sql, const std::string& region_prefix,
                                          int year) {
  std::string pattern = region_prefix + "%";
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kColumns +
                          " FROM fund_projects p WHERE p.region_code LIKE :r "
                          "AND (:y = 0 OR p.year = :y2) ORDER BY p.year DESC, p.id DESC",
       soci::use(pattern), soci::use(year), soci::use(year));
  std::vector<FundProject> out;
  for (const auto& r : rows) out.push_back(projectOf(r));
  return out;
}

std::vector<FundTotals> fundTotals(soci::session& sql, int year) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT p.region_code, COUNT(*), "
                      "SUM(CASE WHEN p.state = 'granted' THEN 1 ELSE 0 END), "
                      "SUM(p.requested_fen), SUM(p.granted_fen), "
                      "SUM((SELECT COALESCE(SUM(d.amount_fen), 0) FROM fund_disbursements d "
                      "WHERE d.project_id = p.id)) FROM fund_projects p "
                      "WHERE (:y = 0 OR p.year = :y2) GROUP BY p.region_code "
                      "ORDER BY p.region_code",
       soci::use(year), soci::use(year));
  std::vector<FundTotals> out;
  for (const auto& r : rows) {
    out.push_back({r.get<std::string>(0), store::rowInt64(r, 1), store::rowInt64(r, 2),
                   Fen(store::rowInt64(r, 3)), Fen(store::rowInt64(r, 4)),
                   Fen(store::rowInt64(r, 5))});
  }
  return out;
}

}  // namespace tph::pilot::detail
