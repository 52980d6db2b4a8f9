#include "reports/run_metadata.hpp"

#include <arb.h>
#include <flint/flint.h>
#include <mpfr.h>
#include <unistd.h>

#include <ctime>
#include <thread>

namespace attncert {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json run_metadata(const ReportOptions& o, const RunRecord& r,
                            const std::vector<ExperimentOutput>& experiments,
                            const std::optional<CatalogVerification>& verification) {
  nlohmann::json run = {
      {"generator", r.generator},
      {"version", o.tool_version},
      {"seed", o.seed},
      {"mode", o.quick ? "quick" : "full"},
      {"started_utc", r.started_utc},
      {"duration_seconds", r.seconds},
      {"host", host_name()},
      {"hardware_threads", std::thread::hardware_concurrency()},
      {"libraries",
       {{"mpfr", mpfr_get_version()}, {"arb", arb_version}, {"flint", FLINT_VERSION}}},
      {"pdflatex", r.pdflatex ? nlohmann::json(*r.pdflatex) : nlohmann::json(nullptr)},
  };
  nlohmann::json ex = nlohmann::json::array();
  for (const ExperimentOutput& e : experiments) {
    ex.push_back({{"name", e.experiment->name}, {"grid", e.grid_text}, {"rows", e.rows},
                  {"seconds", e.seconds}});
  }
  run["experiments"] = ex;
  if (verification) {
    run["verification"] = {{"claims", verification->claims.size()},
                           {"instances_per_claim", verification->instances},
                           {"max_precision_bits", o.verify_max_precision},
                           {"seconds", verification->seconds}};
  }
  return run;
}

}  // namespace attncert
