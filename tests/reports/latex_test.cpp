// LaTeX output: every special character escaped, Unicode symbols mapped (unknown ones visible,
// never dropped), $…$ math kept in labels, curve selection from a tidy table, figure/table
// structure, and — when pdflatex is installed — that a document with all of it, every claim
// statement of the catalog and a figure with log axes, a bound and error bars compiles.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

#include "reports/latex.hpp"
#include "reports/pdflatex.hpp"
#include "theory/catalog.hpp"

namespace attncert::latex {
namespace {

namespace fs = std::filesystem;

TEST(LatexEscape, EverySpecialCharacter) {
  EXPECT_EQ(escape("\\"), "\\textbackslash{}");
  EXPECT_EQ(escape("{}"), "\\{\\}");
  EXPECT_EQ(escape("$&#"), "\\ensuremath{\\$}\\&\\#");
  EXPECT_EQ(escape("^"), "\\textasciicircum{}");
  EXPECT_EQ(escape("_%"), "\\_\\%");
  EXPECT_EQ(escape("~"), "\\textasciitilde{}");
  EXPECT_EQ(escape("<>|"), "\\textless{}\\textgreater{}\\textbar{}");
  EXPECT_EQ(escape("a--b"), "a-{}-b");  // not an en dash
  EXPECT_EQ(escape("line\nbreak\ttab"), "line break tab");
  EXPECT_EQ(escape("say \"hi\""), "say ``hi''");
  EXPECT_EQ(escape("A.cor1-tight"), "A.cor1-tight");
  EXPECT_EQ(escape("plain text 123"), "plain text 123");
}

TEST(LatexEscape, UnicodeSymbolsBecomeCommandsAndUnknownOnesStayVisible) {
  EXPECT_EQ(escape("α"), "\\ensuremath{\\alpha}");
  EXPECT_EQ(escape("‖J‖₂ ≤ 1/(2T)"),
            "\\ensuremath{\\|}J\\ensuremath{\\|}\\ensuremath{_{2}} \\ensuremath{\\le} 1/(2T)");
  EXPECT_EQ(escape("ε Δ √d"), "\\ensuremath{\\varepsilon} \\ensuremath{\\Delta} \\ensuremath{\\surd}d");
  EXPECT_EQ(escape("x — y"), "x --- y");
  EXPECT_EQ(escape("日"), "[U+65E5]");          // not in the table: shown, not dropped
  EXPECT_EQ(escape("a\xff" "b"), "a[U+FFFD]b");  // invalid UTF-8 byte
  EXPECT_EQ(escape("\xe2\x80"), "[U+FFFD][U+FFFD]");  // truncated sequence
}

TEST(LatexEscape, MathSegmentsAreKept) {
  EXPECT_EQ(escape_with_math("$L\\alpha_{\\max}$ vs L_max"), "$L\\alpha_{\\max}$ vs L\\_max");
  EXPECT_EQ(escape_with_math("$‖J‖_2$"), "$\\| J\\| _2$");  // Unicode inside math: math commands
  const std::string dollar = "\\ensuremath{\\$}";
  EXPECT_EQ(escape_with_math("costs $5"), "costs " + dollar + "5");  // unpaired: a literal dollar
  EXPECT_EQ(escape_with_math("\\$5 and $x$"), dollar + "5 and $x$");
  EXPECT_EQ(escape_with_math("$}{$ & 50%"), dollar + "\\}\\{" + dollar + " \\& 50\\%");  // unbalanced: text
  EXPECT_EQ(escape_with_math("$a % b$"), "$a \\% b$");  // a comment would swallow the rest
}

TEST(PlainText, MathBecomesReadableUnicode) {
  EXPECT_EQ(plain_text("$L\\,\\alpha_{\\max}$ versus $L$"), "L α_max versus L");
  EXPECT_EQ(plain_text("printed $e^{-2\\Delta/T}$ (A.cor1)"), "printed e^(-2Δ/T) (A.cor1)");
  EXPECT_EQ(plain_text("$\\|J\\|_2 \\le 1/(2T)$"), "‖J‖_2 ≤ 1/(2T)");
  EXPECT_EQ(plain_text("$\\tilde d$ and $E[\\tilde{d}_B]$"), "d\u0303 and E[d\u0303_B]");
  EXPECT_EQ(plain_text("$N_s/N$, $\\sigma_k/\\sigma_1$"), "N_s/N, σ_k/σ_1");
  EXPECT_EQ(plain_text("$\\min\\{1/(4T), \\sqrt{2}\\}$"), "min{1/(4T), √2}");
  EXPECT_EQ(plain_text("$\\frac{1}{2T}$, $\\sqrt{d_k}$, $\\tfrac12$"), "1/(2T), √(d_k), 1/2");
  EXPECT_EQ(plain_text("$\\mathrm{sd}_{\\mathrm{logit}}$ $q^\\top K$"), "sd_logit qᵀ K");
  EXPECT_EQ(plain_text("$\\hat y \\pm \\bar x$ $\\Delta/T=0.5$"), "y\u0302 ± x\u0304 Δ/T=0.5");
  EXPECT_EQ(plain_text("$\\foo{x}$"), "foox");  // unknown command: its name, never dropped
}

TEST(PlainText, TextOutsideMathAndDollarsLikeEscapeWithMath) {
  EXPECT_EQ(plain_text("no math: a_b {c} 50%"), "no math: a_b {c} 50%");
  EXPECT_EQ(plain_text("costs $5"), "costs $5");             // unpaired: a literal dollar
  EXPECT_EQ(plain_text("\\$5 and $x$"), "$5 and x");         // \$ is a dollar
  EXPECT_EQ(plain_text("$}{$"), "$}{$");                     // unbalanced: shown as text
  EXPECT_EQ(plain_text("α already plain"), "α already plain");
  EXPECT_EQ(plain_text(""), "");
}

TEST(LatexHeading, MathGetsAPlainBookmark) {
  EXPECT_EQ(heading("Kernel validation & more"), "Kernel validation \\& more");  // no math: escape
  EXPECT_EQ(heading("$L\\,\\alpha_{\\max}$ versus $L$ (50%)"),
            "\\texorpdfstring{$L\\,\\alpha_{\\max}$ versus $L$ (50\\%)}{L α\\_max versus L (50\\%)}");
}

// Every experiment's human-readable text follows the text rule of reports/sweep.hpp: its
// dollars pair up, plain_text leaves no LaTeX behind, and no ASCII pseudo-math ("||J||_2",
// "e^{...}", "d~") is left outside $…$, where LaTeX would print it literally.
TEST(ExperimentText, MathIsTypesetAndReadsAsPlainText) {
  const auto check = [](const std::string& text, const std::string& where) {
    SCOPED_TRACE(where + ": " + text);
    EXPECT_EQ(escape_with_math(text).find("\\ensuremath{\\$}"), std::string::npos) << "unpaired $";
    const std::string plain = plain_text(text);
    EXPECT_EQ(plain.find('$'), std::string::npos);
    EXPECT_EQ(plain.find('\\'), std::string::npos);
    std::string outside;  // the text with its $…$ segments removed
    bool in_math = false;
    for (const char c : text) {
      if (c == '$') in_math = !in_math;
      else if (!in_math) outside += c;
    }
    for (const char* pseudo : {"||", "^", "_{", "~", "<=", ">=", "sqrt", "alpha", "Delta", "eps="}) {
      EXPECT_EQ(outside.find(pseudo), std::string::npos) << "pseudo-math '" << pseudo << "' outside $…$";
    }
  };
  for (const sweeps::Experiment& e : sweeps::experiments()) {
    check(e.title, e.name + " title");
    check(e.description.substr(0, e.description.find("Axes:")), e.name + " description");  // axis names are identifiers
    for (const sweeps::FigureSpec& f : e.figures) {
      check(f.x_label, f.id + " x label");
      check(f.y_label, f.id + " y label");
      check(f.caption, f.id + " caption");
      for (const sweeps::CurveSpec& c : f.curves) check(c.legend, f.id + " legend");
    }
  }
}

// The findings go through escape_with_math and plain_text too: each experiment's summarize() on a
// tiny grid (one that exercises its optional clauses, e.g. ≥ 3 lengths for a fitted slope).
TEST(ExperimentText, FindingsAreTypesetAndReadAsPlainText) {
  const std::map<std::string, std::string> tiny = {
      {"vanishing-attention", "L={2,4,8}, Delta_over_T={0.5}, d=3, trials=3"},
      {"gradient-sensitivity", "T={0.02,0.05,1,2,4}, L=16, rows=3"},
      {"distance-collapse", "L={4,8,16}, N={1,3}, d=2, trials=3, mc_samples=5"},
      {"geometric-separability", "N={1,3}, L=6, d=3, trials=3"},
      {"softmax-linear-separation", "n={4,16}, samples=20"},
      {"rank-spectra", "n={4,8}, d=2, certify_max_n=4"},
      {"approximation-error", "m={1,4}, abs_s={0.5}, replicates=20"},
  };
  constexpr std::uint64_t kSeed = 7;
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  ASSERT_EQ(tiny.size(), sweeps::experiments().size()) << "give every experiment a tiny grid";
  for (const sweeps::Experiment& e : sweeps::experiments()) {
    SCOPED_TRACE(e.name);
    ASSERT_TRUE(tiny.count(e.name));
    const std::string finding = e.summarize(e.run(sweeps::parse_grid(tiny.at(e.name)), kSeed, 1, {})).finding;
    ASSERT_FALSE(finding.empty());
    EXPECT_EQ(escape_with_math(finding).find("\\ensuremath{\\$}"), std::string::npos) << "unpaired $: " << finding;
    const std::string plain = plain_text(finding);
    EXPECT_EQ(plain.find('$'), std::string::npos) << plain;
    EXPECT_EQ(plain.find('\\'), std::string::npos) << plain;
    std::string outside;  // the finding with its $…$ segments removed
    bool in_math = false;
    for (const char c : finding) {
      if (c == '$') in_math = !in_math;
      else if (!in_math) outside += c;
    }
    for (const char* pseudo : {"||", "^", "_{", "~", "<=", ">=", "sqrt", "alpha", "Delta", "eps="}) {
      EXPECT_EQ(outside.find(pseudo), std::string::npos) << "pseudo-math '" << pseudo << "' outside $…$: " << finding;
    }
  }
}

TEST(LatexNumber, FixedOrScientificWithSignificantDigits) {
  EXPECT_EQ(number(0.5), "0.500");
  EXPECT_EQ(number(0.002, 2), "$2.0\\times10^{-3}$");
  EXPECT_EQ(number(123.456, 3), "123");
  EXPECT_EQ(number(1.234e-7, 2), "$1.2\\times10^{-7}$");
  EXPECT_EQ(number(-3.0e8, 2), "$-3.0\\times10^{8}$");
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "$\\infty$");
}

TEST(LatexTable, BooktabsRulesSpanningRowsAndColumnCheck) {
  Table t{"lr", {"a", "b"}, {{"x", "1"}, {"detail"}, {"y", "2"}}, "Caption", "tab:x"};
  const std::string s = table(t);
  EXPECT_NE(s.find("\\toprule"), std::string::npos);
  EXPECT_NE(s.find("\\midrule"), std::string::npos);
  EXPECT_NE(s.find("\\bottomrule"), std::string::npos);
  EXPECT_NE(s.find("x & 1 \\\\*"), std::string::npos);  // kept on the page of its detail row
  EXPECT_NE(s.find("\\multicolumn{2}"), std::string::npos);
  EXPECT_NE(s.find("y & 2 \\\\\n"), std::string::npos);
  t.rows.push_back({"1", "2", "3"});
  EXPECT_THROW(table(t), std::logic_error);
}

// A table with two series at two temperatures, a bound column and intervals on one series.
sweeps::SweepTable demo_table() {
  sweeps::SweepTable t;
  t.experiment = "demo";
  t.parameter_names = {"L", "T"};
  t.bound_names = {"printed bound"};
  t.seed = 3;
  for (double T : {0.5, 1.0}) {
    for (double L : {64.0, 8.0, 1024.0, 0.0}) {  // unsorted, and L=0 cannot sit on a log axis
      t.rows.push_back({{L, T}, "estimate", "mean", L * T, {2 * L}, L * T - 1, L * T + 1});
      t.rows.push_back({{L, T}, "exact", "mean", L * T + 0.5, {std::nullopt}, {}, {}});
    }
  }
  return t;
}

sweeps::FigureSpec demo_figure() {
  sweeps::FigureSpec f;
  f.id = "demo-fig";
  f.x_parameter = "L";
  f.fixed = {{"T", 1.0}};
  f.x_label = "sequence length $L$";
  f.y_label = "$L\\alpha_{\\max}$ (‖·‖)";
  f.log_x = f.log_y = true;
  f.curves = {{"Monte Carlo mean ± 95% CI", "estimate", "mean", "value", false, true},
              {"exact_value & more", "exact", "mean", "value", false, false},
              {"printed bound (A.cor1)", "estimate", "mean", "printed bound", true, false}};
  f.caption = "Estimates stay below the bound $2L$ (A.cor1-tight).";
  return f;
}

TEST(SelectCurve, FiltersFixedParametersSortsAndDropsNonPositiveOnLogAxes) {
  const sweeps::FigureSpec f = demo_figure();
  const CurvePoints p = select_curve(f, f.curves[0], demo_table());
  EXPECT_EQ(p.x, (std::vector<double>{8, 64, 1024}));  // T=1 only, sorted, L=0 dropped (log)
  EXPECT_EQ(p.y, (std::vector<double>{8, 64, 1024}));
  EXPECT_EQ(p.ci_low, (std::vector<double>{7, 63, 1023}));
  const CurvePoints bound = select_curve(f, f.curves[2], demo_table());
  EXPECT_EQ(bound.y, (std::vector<double>{16, 128, 2048}));
  // Linear axes keep L = 0.
  sweeps::FigureSpec linear = f;
  linear.log_x = linear.log_y = false;
  EXPECT_EQ(select_curve(linear, linear.curves[1], demo_table()).x.size(), 4u);
}

TEST(SelectCurve, AmbiguousOrUnknownColumnsAreErrors) {
  sweeps::FigureSpec f = demo_figure();
  f.fixed.clear();  // T varies: two rows per L
  EXPECT_THROW(select_curve(f, f.curves[0], demo_table()), std::logic_error);
  f = demo_figure();
  f.x_parameter = "N";
  EXPECT_THROW(select_curve(f, f.curves[0], demo_table()), std::logic_error);
  f = demo_figure();
  f.curves[2].y_column = "no such bound";
  EXPECT_THROW(select_curve(f, f.curves[2], demo_table()), std::logic_error);
}

TEST(LatexFigure, OneAddplotPerCurveWithStylesAndDataFiles) {
  const FigureFiles files = figure(demo_figure(), demo_table(), "figures/demo-fig");
  ASSERT_EQ(files.data_files.size(), 3u);
  EXPECT_EQ(files.data_files[0].first, "figures/demo-fig-0.dat");
  EXPECT_EQ(files.data_files[0].second, "x y ci_minus ci_plus\n8 8 1 1\n64 64 1 1\n1024 1024 1 1\n");
  const std::string& tex = files.tex;
  EXPECT_NE(tex.find("xmode=log, ymode=log"), std::string::npos);
  std::size_t addplots = 0;
  for (std::size_t at = tex.find("\\addplot"); at != std::string::npos; at = tex.find("\\addplot", at + 1)) ++addplots;
  EXPECT_EQ(addplots, 3u);
  EXPECT_NE(tex.find("dashed, thick, no markers"), std::string::npos);
  EXPECT_NE(tex.find("y error minus=ci_minus, y error plus=ci_plus"), std::string::npos);
  EXPECT_NE(tex.find("\\addlegendentry{exact\\_value \\& more}"), std::string::npos);
  EXPECT_NE(tex.find("\\addlegendentry{Monte Carlo mean \\ensuremath{\\pm} 95\\% CI}"), std::string::npos);
  EXPECT_NE(tex.find("ylabel={$L\\alpha_{\\max}$ (\\ensuremath{\\|}\\ensuremath{\\cdot}\\ensuremath{\\|})}"),
            std::string::npos);
  EXPECT_NE(tex.find("\\caption{Estimates stay below the bound $2L$ (A.cor1-tight).}"), std::string::npos);

  sweeps::FigureSpec bad = demo_figure();
  bad.id = "../escape";
  EXPECT_THROW(figure(bad, demo_table(), "x"), std::invalid_argument);
}

TEST(LatexFigure, CurveWithoutPointsIsNamedInTheCaption) {
  sweeps::FigureSpec f = demo_figure();
  f.curves[1].series = "absent";
  const FigureFiles files = figure(f, demo_table(), "figures/demo-fig");
  EXPECT_EQ(files.data_files.size(), 2u);
  EXPECT_NE(files.tex.find("No drawable point for: exact\\_value \\& more."), std::string::npos);
}

TEST(FirstLatexError, ErrorLineAndLocation) {
  const std::string log =
      "This is pdfTeX\n(./report.tex\n! Undefined control sequence.\nl.12 \\foo\n           bar\n";
  EXPECT_EQ(first_latex_error(log), "! Undefined control sequence. [l.12 \\foo]");
  EXPECT_EQ(first_latex_error("no errors here\n"), "");
}

// --- compilation with the real pdflatex ---------------------------------------------------

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "attncert-latex-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

TEST(LatexCompiles, SpecialsCatalogStatementsAndFigure) {
  const auto pdflatex = find_program("pdflatex");
  if (!pdflatex) GTEST_SKIP() << "pdflatex not found on PATH (Debian: " << kTexPackages << ")";
  const fs::path dir = make_temp_dir();
  std::string doc = preamble("Escaping test: \\ { } $ & # ^ _ % ~ α");
  doc += "\\pdfinfoomitdate=1 \\pdftrailerid{}\n\\maketitle\n";
  doc += escape("All specials: \\ { } $ & # ^ _ % ~ < > | \" -- ` ' !` ?` and α β ‖ ≤ ≥ ε Δ √ ∞ ± × · → ∈ ⊤ ² ₂ é — “q” 日 \xff") + "\n\n";
  doc += escape_with_math("Math kept: $L\\alpha_{\\max} \\le ‖J‖_2$, lone $ sign.") + "\n\n";
  for (const char* id : {"A.cor1-tight", "C.jacobian-softmax", "B.spike_linear#2"}) {
    doc += "\\texttt{" + escape(id) + "} ";
  }
  doc += "\n\n";
  for (const auto& claim : catalog()) {
    doc += "\\texttt{" + escape(claim->info().id) + "}: $" + claim->info().statement_latex + "$ \\\\ " +
           escape(claim->info().statement_text) + " \\\\ " + escape(claim->info().source) + "\n\n";
  }
  Table t{"lr", {"a \\& b", "value"}, {{escape("x_1"), number(1.5e-9)}, {escape("‖J‖ ≤ 1/(2T)")}}, "A table", ""};
  doc += table(t);
  // The demo figure (log axes, CI, bound), one with nothing to draw (log axes), and one on
  // linear axes whose bound has a single point (drawn with a mark, not as an invisible line).
  sweeps::FigureSpec empty = demo_figure();
  empty.id = "empty-fig";
  for (auto& c : empty.curves) c.series = "absent";
  sweeps::FigureSpec single = demo_figure();
  single.id = "single-fig";
  single.log_x = single.log_y = false;
  single.fixed = {{"T", 1.0}, {"L", 64.0}};
  for (const sweeps::FigureSpec& spec : {demo_figure(), empty, single}) {
    const FigureFiles fig = figure(spec, demo_table(), "figures/" + spec.id);
    for (const auto& [path, content] : fig.data_files) write_text(dir / path, content);
    write_text(dir / ("figures/" + spec.id + ".tex"), fig.tex);
    doc += "\\input{figures/" + spec.id + ".tex}\n";
  }
  doc += "\\end{document}\n";
  write_text(dir / "doc.tex", doc);

  const PdflatexRun run = run_pdflatex(*pdflatex, dir.string(), "doc.tex", 1);
  EXPECT_TRUE(run.ok) << run.error << " (kept: " << dir << ")";
  EXPECT_TRUE(fs::exists(dir / "doc.pdf"));
  // Only scalable fonts: a bitmap font (pdfTeX logs its .pk file) would look blurred and, with
  // microtype's font expansion, stop pdflatex.
  std::ifstream log_in(dir / "doc.log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(log.find("pk>"), std::string::npos) << "bitmap font used; see " << dir / "doc.log";
  if (run.ok) fs::remove_all(dir);
}

TEST(LatexCompiles, BrokenDocumentReportsItsFirstError) {
  const auto pdflatex = find_program("pdflatex");
  if (!pdflatex) GTEST_SKIP() << "pdflatex not found on PATH (Debian: " << kTexPackages << ")";
  const fs::path dir = make_temp_dir();
  write_text(dir / "bad.tex", "\\documentclass{article}\n\\begin{document}\nok\n\\undefinedmacro\n\\end{document}\n");
  const PdflatexRun run = run_pdflatex(*pdflatex, dir.string(), "bad.tex", 2);
  EXPECT_FALSE(run.ok);
  EXPECT_NE(run.error.find("pass 1: ! Undefined control sequence. [l.4 \\undefinedmacro]"), std::string::npos)
      << run.error;
  fs::remove_all(dir);
}

TEST(FindProgram, SearchesPathAndRejectsMissing) {
  EXPECT_EQ(find_program("attncert-no-such-program-xyz"), std::nullopt);
  const auto sh = find_program("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ((*sh)[0], '/');
  EXPECT_EQ(find_program(*sh), sh);
}

}  // namespace
}  // namespace attncert::latex
