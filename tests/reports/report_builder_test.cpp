// build_report with a small synthetic experiment (two curves, a bound, a confidence interval)
// and the catalog verification disabled: the files of the layout, byte-identical output for
// the same seed (different for another seed), atomic replacement that keeps the previous
// report when a build fails, refusal to replace a directory that is not a report, a clear
// error for an unwritable --out, the kernel table hook, and (when pdflatex exists) a PDF.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "numerics/rng.hpp"
#include "proofs_checks/claim_verification.hpp"
#include "reports/pdflatex.hpp"
#include "reports/report_builder.hpp"
#include "reports/results_files.hpp"
#include "theory/catalog.hpp"
#include "tests/reports/scratch_directory_test_support.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
using test::read_file;

// Monte Carlo estimate of E[U²] = 1/3 for U uniform on [0, 1] with n samples (mean ± 1.96·s/√n,
// a normal-approximation CI), against the exact 1/3 and a deliberately loose "bound" 1/3 + 1/√n.
// Seeded per grid point through Rng substreams, so the table depends on the seed.
sweeps::Experiment synthetic_experiment() {
  sweeps::Experiment e;
  e.name = "synthetic";
  e.claim_ids = "X.test-1";
  e.title = "Synthetic: Monte Carlo mean of U^2 & its 95% CI";
  e.description = "Checks the report pipeline: estimate ± CI, exact value ‖·‖ and a bound ≤ 1/√n.";
  e.run = [](const sweeps::Grid&, std::uint64_t seed, int, const sweeps::ProgressCallback& progress) {
    sweeps::SweepTable t;
    t.parameter_names = {"n", "shift"};
    t.bound_names = {"bound"};
    t.seed = seed;
    const std::vector<double> ns = {16, 64, 256, 1024};
    const std::vector<double> shifts = {0, 1};
    const Rng root(seed);
    std::size_t point = 0;
    for (double shift : shifts) {
      for (double n : ns) {
        Rng rng = root.substream(point);
        double sum = 0, sum2 = 0;
        for (int i = 0; i < static_cast<int>(n); ++i) {
          const double u = rng.uniform();
          sum += u * u;
          sum2 += u * u * u * u;
        }
        const double mean = sum / n + shift;
        const double sd = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
        const double half = 1.96 * sd / std::sqrt(n);
        const double bound = 1.0 / 3 + shift + 1 / std::sqrt(n);
        t.rows.push_back({{n, shift}, "mc", "mean", mean, {bound}, mean - half, mean + half});
        t.rows.push_back({{n, shift}, "exact", "mean", 1.0 / 3 + shift, {std::nullopt}, {}, {}});
        progress(++point, ns.size() * shifts.size());
      }
    }
    return t;
  };
  sweeps::FigureSpec f;
  f.id = "synthetic-mean";
  f.x_parameter = "n";
  f.fixed = {{"shift", 0}};
  f.x_label = "samples $n$";
  f.y_label = "$\\mathbb{E}[U^2]$";
  f.log_x = true;
  f.curves = {{"Monte Carlo mean (95% CI)", "mc", "mean", "value", false, true},
              {"exact 1/3", "exact", "mean", "value", false, false},
              {"bound 1/3 + 1/√n", "mc", "mean", "bound", true, false}};
  f.caption = "The estimate approaches $1/3$ and stays below the bound (X.test-1).";
  e.figures = {f};
  e.summarize = [](const sweeps::SweepTable& t) {
    sweeps::SweepSummary s;
    for (const auto& r : t.rows) {
      if (r.series != "mc") continue;
      ++s.points;
      s.bound_violations += r.value > *r.bounds[0];
    }
    s.finding = "estimate below the bound at " + std::to_string(s.points - s.bound_violations) + " of " +
                std::to_string(s.points) + " points";
    return s;
  };
  return e;
}

ReportOptions synthetic_options(const fs::path& out, std::uint64_t seed) {
  ReportOptions o;
  o.out_dir = out.string();
  o.seed = seed;
  o.quick = true;
  o.experiments = std::vector<sweeps::Experiment>{synthetic_experiment()};
  o.verify_catalog = false;
  o.pdf = false;
  o.tool_version = "test";
  return o;
}

std::vector<fs::path> leftovers(const fs::path& parent) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(parent)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) found.push_back(entry.path());
  }
  return found;
}

TEST(BuildReport, WritesTheLayoutAndReportsProgress) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  ReportOptions o = synthetic_options(out, 7);
  std::vector<std::pair<std::string, std::size_t>> seen;
  o.progress = [&](const std::string& stage, std::size_t done, std::size_t) { seen.emplace_back(stage, done); };
  const ReportResult r = build_report(o);
  EXPECT_EQ(r.experiments, 1u);
  EXPECT_EQ(r.figures, 1u);
  EXPECT_FALSE(r.pdf_path.has_value());
  for (const char* f : {"report.tex", "figures/synthetic-mean.tex", "figures/synthetic-mean-0.dat",
                        "figures/synthetic-mean-1.dat", "figures/synthetic-mean-2.dat",
                        "data/synthetic.csv", "run.json"}) {
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
  }
  EXPECT_FALSE(fs::exists(out / "results.jsonl"));  // verification disabled
  const std::string tex = read_file(out / "report.tex");
  EXPECT_NE(tex.find("\\input{figures/synthetic-mean.tex}"), std::string::npos);
  EXPECT_NE(tex.find("Synthetic: Monte Carlo mean of U\\textasciicircum{}2 \\& its 95\\% CI"), std::string::npos);
  EXPECT_NE(tex.find("estimate below the bound at 8 of 8 points"), std::string::npos);
  EXPECT_NE(tex.find("The claims catalog was not verified"), std::string::npos);
  const std::string run = read_file(out / "run.json");
  EXPECT_NE(run.find("\"generator\": \"attncert report\""), std::string::npos);
  EXPECT_NE(run.find("\"duration_seconds\""), std::string::npos);
  ASSERT_EQ(seen.size(), 8u);  // one call per grid point
  EXPECT_EQ(seen.back(), (std::pair<std::string, std::size_t>{"sweep 1/1 synthetic", 8}));
  EXPECT_TRUE(leftovers(tmp.path()).empty());
}

TEST(BuildReport, SameSeedSameBytesOtherSeedOtherData) {
  test::ScratchDirectory tmp;
  build_report(synthetic_options(tmp.path() / "a", 11));
  build_report(synthetic_options(tmp.path() / "b", 11));
  build_report(synthetic_options(tmp.path() / "c", 12));
  for (const char* f : {"report.tex", "data/synthetic.csv", "figures/synthetic-mean.tex",
                        "figures/synthetic-mean-0.dat"}) {
    EXPECT_EQ(read_file(tmp.path() / "a" / f), read_file(tmp.path() / "b" / f)) << f;
  }
  EXPECT_NE(read_file(tmp.path() / "a/data/synthetic.csv"), read_file(tmp.path() / "c/data/synthetic.csv"));
}

// The report verifies the catalog with the engine and the writer of `verify`: the same seed and
// budget give byte-identical results files, whatever the number of jobs of either.
TEST(BuildReport, VerifiesTheCatalogAsVerifyDoesWhateverTheJobs) {
  const std::uint64_t seed = 5;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const long instances = 40;   // small budget and precision cap: fast, the same code path
  const long max_precision = 128;
  test::ScratchDirectory tmp;
  ReportOptions o = synthetic_options(tmp.path() / "rep", seed);
  o.experiments = std::vector<sweeps::Experiment>{};
  o.verify_catalog = true;
  o.verify_instances = instances;
  o.verify_max_precision = max_precision;
  o.jobs = 2;
  EXPECT_EQ(build_report(o).claims, catalog().size());

  std::vector<const Claim*> claims;
  for (const auto& c : catalog()) claims.push_back(c.get());
  VerifyOptions options = options_for_instance_budget(instances, max_precision);
  options.seed = seed;
  write_results_files(tmp.path() / "verify", claims, verify_claims(claims, options, 1));
  std::vector<std::string> files = {"results.jsonl", "results.csv"};
  for (const auto& e : fs::directory_iterator(tmp.path() / "verify" / "counterexamples")) {
    files.push_back("counterexamples/" + e.path().filename().string());
  }
  EXPECT_GT(files.size(), 2u);  // the catalog has refuted claims (e.g. A.cor3)
  for (const std::string& f : files) {
    const std::string expected = read_file(tmp.path() / "verify" / f);
    EXPECT_FALSE(expected.empty()) << f;
    EXPECT_EQ(read_file(tmp.path() / "rep" / f), expected) << f;
  }
}

TEST(BuildReport, FailedBuildKeepsThePreviousReport) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  build_report(synthetic_options(out, 5));
  const std::string before = read_file(out / "report.tex");

  ReportOptions o = synthetic_options(out, 6);
  sweeps::Experiment failing = synthetic_experiment();
  failing.name = "failing";
  failing.run = [](const sweeps::Grid&, std::uint64_t, int, const sweeps::ProgressCallback&) -> sweeps::SweepTable {
    throw std::runtime_error("simulated failure");
  };
  o.experiments->push_back(failing);
  try {
    build_report(o);
    FAIL() << "a failing experiment must fail the build";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "experiment 'failing': simulated failure");
  }
  EXPECT_EQ(read_file(out / "report.tex"), before);
  EXPECT_TRUE(leftovers(tmp.path()).empty());

  // A successful rebuild replaces it (seed 6 differs from seed 5 in the data).
  const std::string csv_before = read_file(out / "data/synthetic.csv");
  build_report(synthetic_options(out, 6));
  EXPECT_NE(read_file(out / "data/synthetic.csv"), csv_before);
  EXPECT_TRUE(leftovers(tmp.path()).empty());
}

TEST(BuildReport, FailingPdflatexKeepsThePreviousReportAndNamesTheError) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  build_report(synthetic_options(out, 5));
  const std::string before = read_file(out / "report.tex");
  // A stand-in pdflatex that fails the way TeX does: an error line in the log, exit 1.
  const fs::path fake = tmp.path() / "fake-pdflatex";
  std::ofstream(fake) << "#!/bin/sh\nprintf '! LaTeX Error: simulated.\\nl.7 here\\n' > report.log\nexit 1\n";
  fs::permissions(fake, fs::perms::owner_all);
  ReportOptions o = synthetic_options(out, 6);
  o.pdf = true;
  o.pdflatex = fake.string();
  try {
    build_report(o);
    FAIL() << "a failing pdflatex must fail the build";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("pdflatex pass 1: ! LaTeX Error: simulated. [l.7 here]"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(read_file(out / "report.tex"), before);
  const auto kept = leftovers(tmp.path());  // kept for inspection, and named in the message
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_TRUE(fs::exists(kept[0] / "report.log"));
}

TEST(BuildReport, RefusesToReplaceADirectoryThatIsNotAReport) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "precious";
  fs::create_directories(out);
  std::ofstream(out / "thesis.tex") << "my work";
  try {
    build_report(synthetic_options(out, 1));
    FAIL() << "must refuse";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a report written by attncert"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(out / "thesis.tex"), "my work");
  EXPECT_TRUE(leftovers(tmp.path()).empty());
}

// `--out .` in an empty working directory used to pass the (dead) name == "." check and rename
// the working directory away; the working directory, a directory holding it, and the root are
// refused before any work, and the directory stays where it was.
TEST(BuildReport, RefusesTheWorkingDirectoryAndItsAncestorsAsOutput) {
  test::ScratchDirectory tmp;
  const fs::path empty = tmp.path() / "empty";
  fs::create_directories(empty);
  const fs::path before = fs::current_path();
  fs::current_path(empty);
  for (const std::string& out : std::vector<std::string>{".", "./", "..", "../empty", empty.string(), "/"}) {
    SCOPED_TRACE(out);
    bool ran = false;
    ReportOptions o = synthetic_options(out, 1);
    o.progress = [&](const std::string&, std::size_t, std::size_t) { ran = true; };
    try {
      build_report(o);
      ADD_FAILURE() << "must refuse";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--out"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(ran);
    EXPECT_TRUE(fs::is_directory(empty));
  }
  fs::current_path(before);
  EXPECT_TRUE(fs::is_empty(empty));
  EXPECT_TRUE(leftovers(tmp.path()).empty());
}

TEST(BuildReport, UnwritableOutputIsAOneLineErrorBeforeAnyWork) {
  test::ScratchDirectory tmp;
  std::ofstream(tmp.path() / "a-file") << "x";
  bool ran = false;
  ReportOptions o = synthetic_options(tmp.path() / "a-file" / "rep", 1);
  o.progress = [&](const std::string&, std::size_t, std::size_t) { ran = true; };
  try {
    build_report(o);
    FAIL() << "must fail";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--out"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_FALSE(ran);
  // A read-only parent (meaningful only without root, which ignores permissions).
  if (::geteuid() != 0) {
    const fs::path ro = tmp.path() / "ro";
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    o = synthetic_options(ro / "rep", 1);
    o.progress = [&](const std::string&, std::size_t, std::size_t) { ran = true; };
    EXPECT_THROW(build_report(o), std::runtime_error);
    EXPECT_FALSE(ran);
  }
}

TEST(BuildReport, KernelRowsBecomeATableAndACsv) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  ReportOptions o = synthetic_options(out, 1);
  o.kernel_checks = [](bool quick, std::uint64_t) {
    KernelCheckRow ok{"flash-attention", "Lq=113 Lk=203 d=60", "fp16", "causal", "twin",
                      1e-4, 2e-3, 0.05, 1e-30, 2e-4, 5e-4, true, true, true, ""};
    ok.probabilistic_ratio = 0.4, ok.probabilistic_pass = true;
    ok.input_quantization_high = 3e-3;
    KernelCheckRow bad = ok;
    bad.variant = "logits<=-5e4";
    bad.ratio = 1.5;
    bad.pass = false;
    bad.probabilistic_ratio = 2.5, bad.probabilistic_pass = false;
    bad.note = quick ? "quick matrix" : "full matrix";
    KernelCheckRow vacuous = ok;  // passes, but its ratio must not enter the summary
    vacuous.ratio = 0;
    vacuous.vacuous = true;
    return std::vector<KernelCheckRow>{ok, bad, vacuous};
  };
  const ReportResult r = build_report(o);
  EXPECT_EQ(r.kernel_rows, 3u);
  EXPECT_EQ(r.kernel_failures, 1u);
  const std::string tex = read_file(out / "report.tex");
  EXPECT_NE(tex.find("\\section{Kernel validation}"), std::string::npos);
  EXPECT_NE(tex.find("2 of 3 cases pass}, 1 of them"), std::string::npos) << tex;
  EXPECT_NE(tex.find("logits\\textless{}=-5e4"), std::string::npos);
  EXPECT_NE(tex.find("quick matrix"), std::string::npos);
  // One summary row per kernel × type (3 cases, 1 vacuous; max ratio 1.5 and median 0.78 over
  // the two others, probabilistic 2.5 and 1.45 (printed 1.4); quantization 3e-3; 2 of 3 pass either way),
  // the failing case listed in full.
  EXPECT_NE(tex.find("flash-attention & fp16 & twin & 3 & 1 & \\textcolor{acVermillion}{\\textbf{1.50}} / 0.78 & "
                     "\\textcolor{acVermillion}{\\textbf{2.50}} / 1.4 & $3.0\\times10^{-3}$ & "
                     "all 3 & all 3 & \\textcolor{acVermillion}{\\textbf{2/3}} & 2/3"),
            std::string::npos)
      << tex;
  EXPECT_NE(tex.find("\\label{tab:kernel-failures}"), std::string::npos);
  const std::string csv = read_file(out / "kernel_checks.csv");
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "kernel,shape,dtype,variant,executed_on,max_abs_error,bound,ratio,probabilistic_bound,"
            "probabilistic_ratio,false_alarm,input_quantization_low,input_quantization_high,"
            "ground_truth_radius,naive_error,fa_rule_threshold,fa_rule_pass,deterministic,pass,"
            "probabilistic_pass,vacuous,note");
  EXPECT_NE(csv.find("flash-attention,Lq=113 Lk=203 d=60,fp16,logits<=-5e4,twin,0.0001,0.002,1.5,"),
            std::string::npos);
}

TEST(BuildReport, CompilesToAReproduciblePdf) {
  if (!latex::find_program("pdflatex")) {
    GTEST_SKIP() << "pdflatex not found on PATH (Debian: " << latex::kTexPackages << ")";
  }
  test::ScratchDirectory tmp;
  ReportOptions o = synthetic_options(tmp.path() / "a", 3);
  o.pdf = true;
  o.running_time_in_pdf = false;  // the one line that would differ between the two runs
  const ReportResult r = build_report(o);
  ASSERT_TRUE(r.pdf_path.has_value());
  EXPECT_GT(fs::file_size(*r.pdf_path), 10000u);
  for (const char* aux : {"report.aux", "report.log"}) EXPECT_FALSE(fs::exists(tmp.path() / "a" / aux)) << aux;
  o.out_dir = (tmp.path() / "b").string();
  build_report(o);
  // No dates and no trailer id: the PDF is as reproducible as the sources.
  EXPECT_EQ(read_file(tmp.path() / "a/report.pdf"), read_file(tmp.path() / "b/report.pdf"));
}

}  // namespace
}  // namespace attncert
