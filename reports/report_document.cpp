#include "reports/report_document.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "reports/latex.hpp"
#include "reports/verdict_counts.hpp"
#include "reports/verdict_note.hpp"
#include "reports/verdict_table.hpp"

namespace attncert {
namespace {

// --- verification ----------------------------------------------------------------------------

std::string verdict_latex(const Claim& claim, const ClaimResult& r) {
  const std::string label = latex::escape(verdict_label(claim, r));
  switch (r.verdict) {
    case DomainVerdict::Refuted: return "\\textcolor{acVermillion}{\\textbf{" + label + "}}";
    case DomainVerdict::Survived: return label;
    case DomainVerdict::Inconclusive: return "\\textit{" + label + "}";
    case DomainVerdict::Proved: return "\\textbf{" + label + "}";
  }
  return "?";
}

// The statement at reading size (\small, fractions in display style), indented under its claim
// id; source and `note` smaller below it.
std::string statement_latex(const ClaimInfo& info, const std::string& note) {
  std::string detail = "\\small\\leftskip=1em ";
  detail += info.statement_latex.empty() ? latex::escape(info.statement_text)
                                         : "$\\displaystyle " + info.statement_latex + "$";
  if (!info.source.empty()) detail += "\\newline{\\footnotesize\\textit{" + latex::escape(info.source) + "}}";
  if (!note.empty()) detail += "\\newline{\\footnotesize " + latex::escape(note) + "}";
  return detail;
}

// The verdict table of the claims with (derived == true) or without kind Derived.
latex::Table verdict_table(const CatalogVerification& v, bool derived) {
  latex::Table t;
  t.header = {"Claim", "Provenance", "Kind", "Verdict", "Certified", "Tightness", "Vacuity", "Bits"};
  t.column_spec = "@{}llllrrrr@{}";
  for (std::size_t i = 0; i < v.claims.size(); ++i) {
    const Claim& claim = *v.claims[i];
    const ClaimInfo& info = claim.info();
    if ((info.kind == ClaimKind::Derived) != derived) continue;
    const ClaimResult& r = v.results[i];
    t.rows.push_back({"\\texttt{" + latex::escape(info.id) + "}", latex::escape(provenance_label(info)),
                      latex::escape(std::string(to_string(info.kind))), verdict_latex(claim, r),
                      std::to_string(r.certified), tightness_text(r.tightness, "---"),
                      vacuity_text(r.vacuity, "---"), std::to_string(r.max_precision_used)});
    t.rows.push_back({statement_latex(info, verdict_note(claim, r)) + "\\vspace{2pt}"});
  }
  return t;
}

std::string verification_section(const CatalogVerification& v, const ReportOptions& o) {
  const VerdictCounts counts = count_verdicts(v.claims, v.results);
  std::string s = "\\section{Verification of the claims catalog}\\label{sec:verification}\n";
  s += fmt::format(
      "Each of the {} claims was checked by the engine of \\texttt{{attncert verify}}: {} sampled "
      "instances (random and edge-biased), an adversarial local search in double precision, and "
      "certification of the best candidates and a spread of ordinary instances in Arb ball "
      "arithmetic from 64 up to {} bits. \\emph{{Refuted}} means a certified counterexample "
      "(saved in \\texttt{{counterexamples/}}, re-checkable with \\texttt{{attncert replay}}); "
      "\\emph{{survived}} means that every certified instance satisfied the claim; "
      "\\emph{{inconclusive}} means nothing was certified. A statistical claim is "
      "\\emph{{rejected}} or \\emph{{not rejected}} at its stated confidence: not rejected is not "
      "proved. \\emph{{Tightness}} is the largest ratio of left side to bound (or of the gaps to "
      "the side's limit, e.g.\\ $(1-p)/\\varepsilon$ for $p \\ge 1-\\varepsilon$) over the "
      "informative certified instances, per side family: identities, degenerate instances "
      "(where the bound is met for a trivial reason, e.g.\\ $L = 1$) and vacuous ones are left "
      "out, and the tightest instance is saved in \\texttt{{tightest/}} for replay. "
      "\\emph{{Vacuity}} is the fraction of sampled instances on which the bound constrains "
      "nothing (e.g.\\ a probability bounded by a number $\\ge 1$). Provenance: "
      "\\emph{{printed}} is the statement as the paper prints it (\\emph{{printed*}}: adapted, "
      "as the note below the row says), \\emph{{reconstructed}} our derivation of a statement "
      "whose printed form we do not have, \\emph{{classical}} a textbook result or another "
      "paper's, \\emph{{reading}} one alternative reading of an ambiguous or fragmentary "
      "statement (refuting it rejects the reading, not the paper), \\emph{{experiment}} a "
      "paper's experimental protocol checked as stated.\n\n",
      v.claims.size(), v.instances, o.verify_max_precision);
  s += fmt::format("\\textbf{{Summary:}} {} survived, {} refuted, {} inconclusive; {}.\n\n",
                   counts.survived, counts.refuted, counts.inconclusive,
                   latex::escape(refutation_breakdown(counts)));
  latex::Table t = verdict_table(v, false);
  t.caption = "Verdicts of the catalog's claims (statement and notes below each row).";
  t.label = "tab:verification";
  // Eight columns: narrower gaps keep the table within the text width.
  s += "{\\small\\setlength{\\tabcolsep}{4pt}\n" + latex::table(t) + "}\n";
  latex::Table d = verdict_table(v, true);
  if (!d.rows.empty()) {
    s += "\\paragraph{Derived steps.} The claims of Table~\\ref{tab:derived} follow from an "
         "elementary inequality (named below each row): they cannot fail for a correct "
         "implementation of their quantities, so surviving tests our code, not the paper.\n\n";
    d.caption = "Derived steps: verdicts of claims that follow from an elementary inequality.";
    d.label = "tab:derived";
    s += "{\\small\\setlength{\\tabcolsep}{4pt}\n" + latex::table(d) + "}\n";
  }
  // A rejected reading is a statement we do not attribute to the paper: it is given in full
  // with its counterexample, so that nobody quotes the refutation against the paper.
  std::string readings;
  for (std::size_t i = 0; i < v.claims.size(); ++i) {
    const ClaimInfo& info = v.claims[i]->info();
    const ClaimResult& r = v.results[i];
    if (info.provenance != Provenance::Reading || r.verdict != DomainVerdict::Refuted) continue;
    readings += "\\item \\texttt{" + latex::escape(info.id) + "}: " +
                (info.statement_latex.empty() ? latex::escape(info.statement_text)
                                              : "$" + info.statement_latex + "$");
    if (!info.note.empty()) readings += "\\newline{\\small The reading: " + latex::escape(info.note) + "}";
    if (r.counterexample) {
      readings += fmt::format("\\newline{{\\small Counterexample (side `{}', \\texttt{{counterexamples/{}.json}}): {}}}",
                              latex::escape(r.counterexample_certificate->violated),
                              latex::escape(info.id), latex::escape(r.counterexample->describe(8)));
    }
    readings += "\n";
  }
  if (!readings.empty()) {
    s += "\\paragraph{Rejected readings.} Each statement below is one reading of an ambiguous or "
         "fragmentary statement of the paper, not the paper's own; its certified counterexample "
         "rules the reading out.\n\\begin{itemize}\n" + readings + "\\end{itemize}\n";
  }
  return s;
}

// --- kernels ---------------------------------------------------------------------------------

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// "k/n", highlighted when k < n and `shortfall_is_failure`.
std::string count_of(std::size_t k, std::size_t n, bool shortfall_is_failure) {
  if (k == n) return n == 1 ? "yes" : fmt::format("all {}", n);
  const std::string s = fmt::format("{}/{}", k, n);
  return shortfall_is_failure ? "\\textcolor{acVermillion}{\\textbf{" + s + "}}" : s;
}

// The quick matrix alone has ~370 cases: the document summarises them per kernel × type and
// lists failing cases in full; every case stays in kernel_checks.csv.
std::string kernel_section(const std::vector<KernelCheckRow>& rows) {
  std::size_t failed = 0, vacuous = 0;
  for (const auto& r : rows) failed += !r.pass, vacuous += r.pass && r.vacuous;
  std::string s = "\\section{Kernel validation}\\label{sec:kernels}\n";
  s += fmt::format(
      "Each case compares a kernel (or its CPU twin, which runs the same tile code) with the "
      "certified ground truth of the inputs \\emph{{as the kernel read them}} (rounded to its "
      "type; Arb balls, for flash attention the fast enclosure tier with every row whose verdict "
      "its radius leaves open recomputed in Arb balls): the maximal absolute error (distance to "
      "the truth's midpoint plus its radius) must stay within the kernel's \\emph{{guaranteed}} "
      "a-priori bound (ratio $\\le 1$: otherwise it is certainly not a correct kernel) and a "
      "second run must be bit-identical. The \\emph{{probabilistic}} bound (Higham--Mary: "
      "$\\lambda\\sqrt{{n}}\\,u$ in place of $n u$) holds with probability $\\ge 1 - \\delta$ per "
      "case when the rounding errors are independent and mean-zero; exceeding it indicates a "
      "defect unless the rounding errors are correlated. How far rounding the inputs to the type "
      "moves the exact answer is reported apart (quantization). The flash-attention rule (error "
      "$\\le$ twice the error of a naive implementation in the same precision plus an absolute "
      "term) is shown for comparison; it is not a pass criterion. \\textbf{{{} of {} cases "
      "pass}}, {} of them \\emph{{vacuous}}: their bound is infinite or no smaller than a trivial "
      "one, so they check determinism and finiteness but not accuracy; ratios below are over the "
      "other cases. A ratio close to 1 on a correct kernel is a bound attained, not slack "
      "running out: where one rounding dominates an element (the store of O in fp16/bf16, rows "
      "of a few keys) the bound takes it exactly, and there the two bounds coincide. "
      "Table~\\ref{{tab:kernels}} summarises the cases per kernel and floating-point type; every "
      "case (shape, variant, error, bound, ratio, rule threshold, notes) is a row of "
      "\\texttt{{kernel\\_checks.csv}}{}.\n\n",
      rows.size() - failed, rows.size(), vacuous,
      failed ? ", and the failing cases are listed in full in Table~\\ref{tab:kernel-failures}" : "");

  struct Group {
    std::string kernel, dtype;
    std::vector<double> ratios, probabilistic_ratios;
    std::map<std::string, std::size_t> executed_on;
    std::size_t fa_rule = 0, deterministic = 0, passed = 0, vacuous = 0, cases = 0;
    std::size_t probabilistic_passed = 0;
    double quantization = 0;  // max over cases of the upper end
  };
  std::vector<Group> groups;  // in the order the cases come
  for (const KernelCheckRow& r : rows) {
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.kernel == r.kernel && x.dtype == r.dtype; });
    if (g == groups.end()) {
      Group fresh;
      fresh.kernel = r.kernel, fresh.dtype = r.dtype;
      g = groups.insert(groups.end(), std::move(fresh));
    }
    ++g->cases;
    if (r.vacuous) ++g->vacuous;
    else g->ratios.push_back(r.ratio), g->probabilistic_ratios.push_back(r.probabilistic_ratio);
    g->probabilistic_passed += r.probabilistic_pass;
    g->quantization = std::max(g->quantization, r.input_quantization_high);
    ++g->executed_on[r.executed_on.empty() ? "?" : r.executed_on];
    g->fa_rule += r.fa_rule_pass;
    g->deterministic += r.deterministic;
    g->passed += r.pass;
  }
  latex::Table t;
  // Twelve columns: max / median share a cell so the table fits the text width.
  t.column_spec = "@{}lllrrrrrcccc@{}";
  t.header = {"Kernel", "Type", "Run on", "Cases", "Vac.", "g-ratio", "p-ratio", "Quantiz.",
              "FA rule", "Rerun", "g-pass", "p-pass"};
  t.caption = "Kernel validation against the certified truth of the inputs as the kernel read "
              "them, per kernel and type, over the non-vacuous cases: g-ratio (p-ratio) = the "
              "largest per-element error / guaranteed (probabilistic) bound of a case, as "
              "maximum / median over the cases (g-ratio must be $\\le 1$); Quantiz.: the "
              "largest certified effect of rounding the inputs to the type; FA rule, "
              "bit-identical rerun, g-pass (guaranteed) and p-pass (probabilistic): cases that "
              "meet them.";
  t.label = "tab:kernels";
  // Three digits: a ratio of 0.997 (a bound attained by one rounding) must not print as 1.0.
  const auto ratio_cell = [](const std::vector<double>& ratios) -> std::string {
    if (ratios.empty()) return "--";
    const double max_ratio = *std::max_element(ratios.begin(), ratios.end());
    std::string max_cell = latex::number(max_ratio, 3);
    if (!(max_ratio <= 1)) max_cell = "\\textcolor{acVermillion}{\\textbf{" + max_cell + "}}";
    return max_cell + " / " + latex::number(median(ratios), 2);
  };
  for (const Group& g : groups) {
    std::string on;
    for (const auto& [where, n] : g.executed_on) {
      on += (on.empty() ? "" : ", ") + latex::escape(where) +
            (g.executed_on.size() > 1 ? fmt::format(" ({})", n) : "");
    }
    t.rows.push_back({latex::escape(g.kernel), latex::escape(g.dtype), on, std::to_string(g.cases),
                      std::to_string(g.vacuous), ratio_cell(g.ratios),
                      ratio_cell(g.probabilistic_ratios), latex::number(g.quantization, 2),
                      count_of(g.fa_rule, g.cases, false),
                      count_of(g.deterministic, g.cases, true),
                      count_of(g.passed, g.cases, true),
                      count_of(g.probabilistic_passed, g.cases, false)});
  }
  s += "{\\footnotesize\\setlength{\\tabcolsep}{3pt}\n" + latex::table(t) + "}\n";
  if (failed == 0) return s;

  latex::Table f;
  f.column_spec = "@{}llllrrrcc@{}";
  f.header = {"Kernel", "Shape", "Type", "Variant", "Error", "Bound", "Ratio", "FA rule", "Rerun"};
  f.caption = "Failing kernel cases (all of them; notes below each row).";
  f.label = "tab:kernel-failures";
  for (const KernelCheckRow& r : rows) {
    if (r.pass) continue;
    std::string variant = latex::escape(r.variant);
    if (!r.executed_on.empty()) variant += " (" + latex::escape(r.executed_on) + ")";
    f.rows.push_back({latex::escape(r.kernel), latex::escape(r.shape), latex::escape(r.dtype), variant,
                      latex::number(r.max_abs_error, 2), latex::number(r.bound, 2),
                      latex::number(r.ratio, 2), r.fa_rule_pass ? "yes" : "no",
                      r.deterministic ? "identical" : "\\textcolor{acVermillion}{\\textbf{differs}}"});
    if (!r.note.empty()) f.rows.push_back({"\\footnotesize " + latex::escape(r.note)});
  }
  return s + "{\\small\\setlength{\\tabcolsep}{4pt}\n" + latex::table(f) + "}\n";
}

}  // namespace

std::string report_document(const ReportOptions& o, const std::vector<ExperimentOutput>& experiments,
                            const std::optional<CatalogVerification>& verification,
                            const std::optional<std::vector<KernelCheckRow>>& kernels,
                            const std::optional<ModelStudyOutput>& model) {
  std::string d = latex::preamble("attncert report: certified checks of attention theory");
  // No dates and no trailer id in the PDF, so the same input gives the same bytes.
  d += "\\pdfinfoomitdate=1 \\pdftrailerid{} \\pdfsuppressptexinfo=-1\n";
  d += "\\maketitle\n\\thispagestyle{empty}\n";
  d += "\\section*{How this report was produced}\n";
  d += fmt::format(
      "Generated by \\texttt{{attncert report{}{}}} (attncert {}) in \\textbf{{{}}} mode{}. "
      "Every table, figure and number below is a deterministic function of the attncert "
      "version, the mode and the seed: running the same command again gives byte-identical "
      "\\texttt{{report.tex}}, figures and data files. "
      "\\ifdefined\\attncertRunSeconds Computing this report took "
      "\\attncertRunSeconds~s before typesetting (this line is passed to pdflatex, not written "
      "into \\texttt{{report.tex}}); the date and host are in \\texttt{{run.json}}.\\else The "
      "date, running time and host are recorded in \\texttt{{run.json}} next to this "
      "document.\\fi\\ "
      "The sweep tables are in \\texttt{{data/}} (one tidy CSV per experiment{}), the verdicts in "
      "\\texttt{{results.jsonl}} and \\texttt{{results.csv}}.\n\n",
      o.quick ? " {-}{-}quick" : "", fmt::format(" {{-}}{{-}}seed {}", o.seed),
      latex::escape(o.tool_version), o.quick ? "quick" : "full",
      o.quick ? " (reduced parameter grids and verification budget)" : "",
      model ? "; the model study's per-head tables are \\texttt{data/model-*.csv}" : "");

  // Overview of the sweeps.
  d += "\\section*{Experiments at a glance}\n";
  if (experiments.empty()) {
    d += "No sweep experiments are registered in this build of attncert; the report contains "
         "the verification of the claims catalog only.\n\n";
  } else {
    latex::Table t;
    t.column_spec = "@{}>{\\raggedright\\arraybackslash}p{0.48\\linewidth}>{\\raggedright\\arraybackslash}p{0.27\\linewidth}rr@{}";
    t.header = {"Experiment", "Claims", "Points", "Violations"};
    for (const ExperimentOutput& e : experiments) {
      t.rows.push_back({"\\hyperref[sec:" + e.experiment->name + "]{" + latex::escape_with_math(e.experiment->title) + "}",
                        latex::escape(e.experiment->claim_ids), std::to_string(e.summary.points),
                        std::to_string(e.summary.bound_violations)});
    }
    // bound_violations counts failed row × bound comparisons (sweep.hpp), so it may exceed the
    // number of grid points.
    t.caption = "Sweep experiments: grid points evaluated, and violations: comparisons of a table "
                "row with a claimed bound that fail (a grid point may contribute several; details "
                "in each section).";
    d += latex::table(t);
  }
  if (verification) {
    const VerdictCounts counts = count_verdicts(verification->claims, verification->results);
    d += fmt::format(
        "The claims catalog ({} claims) was verified with {} instances per claim: {} refuted, {} "
        "inconclusive, {} survived; {} (Section~\\ref{{sec:verification}}).\n\n",
        verification->claims.size(), verification->instances, counts.refuted, counts.inconclusive,
        counts.survived, latex::escape(refutation_breakdown(counts)));
  } else {
    d += "The claims catalog was not verified in this run.\n\n";
  }
  if (model) {
    d += fmt::format("Paper A's GPT-2 experiments were also run on every head of a pretrained model, "
                     "\\texttt{{{}}} ({} layers $\\times$ {} heads; Section~\\ref{{sec:model}}).\n\n",
                     latex::escape(model->study.model_name), model->study.layers, model->study.heads);
  }

  for (const ExperimentOutput& e : experiments) {
    const sweeps::Experiment& x = *e.experiment;
    // Sections follow each other without a page break, so a section's last figure shares its
    // page with the next section instead of standing alone on a mostly empty page; flafter
    // keeps every figure after the text that introduces it.
    d += std::string(&e == &experiments.front() ? "\\clearpage\n" : "") + "\\section{" +
         latex::heading(x.title) + "}\\label{sec:" + x.name + "}\n";
    if (!x.claim_ids.empty()) d += "\\textbf{Claims:} " + latex::escape(x.claim_ids) + ".\\quad ";
    d += latex::escape_with_math(x.description) + "\n\n";
    // Long value lists must break (at commas) instead of running into the margin.
    std::string grid = e.grid_text.empty() ? "(experiment defaults)" : latex::escape(e.grid_text);
    for (std::size_t at = grid.find(','); at != std::string::npos; at = grid.find(',', at + 1)) {
      grid.insert(at + 1, "\\allowbreak{}");
    }
    // \{ \} take the braces from the math font, which has no typewriter shape; OT1 cmtt has
    // its own braces at 123 and 125.
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"\\{", "{\\char123}"}, {"\\}", "{\\char125}"}}) {
      for (std::size_t at = grid.find(from); at != std::string::npos; at = grid.find(from, at + to.size())) {
        grid.replace(at, from.size(), to);
      }
    }
    d += fmt::format("{{\\raggedright\\textbf{{Grid:}} \\texttt{{{}}}; {} rows in \\texttt{{data/{}.csv}}; seed {}.\\par}}\n\n",
                     grid, e.rows, latex::escape(x.name), o.seed);
    // The finding before the figures: it is what the section establishes, and the figures
    // (floats) then fill the rest of the section's pages without leaving it stranded after them.
    std::string finding = e.summary.finding.empty() ? "no summary" : e.summary.finding;
    while (!finding.empty() && (finding.back() == '.' || finding.back() == ' ')) finding.pop_back();
    d += fmt::format("\\paragraph{{Finding.}} {}. \\emph{{Grid points: {}; bound violations: {}.}}\n\n",
                     latex::escape_with_math(finding), e.summary.points, e.summary.bound_violations);
    for (const std::string& id : e.figure_ids) d += "\\input{figures/" + id + ".tex}\n";
  }
  // The model section and the verification follow the last sweep section without a page break,
  // like the sections between themselves, so the last figure does not stand alone on its page.
  if (model) d += model->section;
  if (verification) d += verification_section(*verification, o);
  if (kernels) d += "\\clearpage\n" + kernel_section(*kernels);
  d += "\\end{document}\n";
  return d;
}

}  // namespace attncert
