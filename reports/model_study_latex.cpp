// The real-model study as a report section (LaTeX with pgfplots heatmaps) and as terminal text.
// Everything here is a function of the ModelStudy alone: no times, no absolute paths, numbers in
// fixed formats, so the same study gives the same bytes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "reports/latex.hpp"
#include "reports/model_study.hpp"
#include "reports/output_file.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Heatmap ids name files: the same rule as the sweep figures' ids (latex::figure).
void check_heatmap(const HeadHeatmap& h) {
  const bool ok = !h.id.empty() && h.id[0] != '.' &&
                  std::all_of(h.id.begin(), h.id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                  });
  if (!ok) {
    throw std::invalid_argument(fmt::format(
        "heatmap id '{}': use letters, digits, '-', '_' and '.' only (it names files)", h.id));
  }
  if (h.layers == 0 || h.heads == 0 || h.values.size() != h.layers * h.heads) {
    throw std::logic_error(fmt::format("heatmap '{}': {} values for {} layers x {} heads", h.id,
                                       h.values.size(), h.layers, h.heads));
  }
}

// The values of a heatmap other than NaN: how many, their median, min and max.
struct Spread {
  std::size_t count = 0, total = 0;
  double median = kNaN, min = kNaN, max = kNaN;
};

Spread spread(const std::vector<double>& values) {
  Spread s;
  s.total = values.size();
  std::vector<double> v;
  for (const double x : values) {
    if (!std::isnan(x)) v.push_back(x);
  }
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

// 17 significant digits: the plotted number is the study's number (as latex::figure writes).
std::string data_number(double x) { return fmt::format("{:.17g}", x); }

// Terminal numbers: three significant digits, one fixed format.
std::string short_number(double x) { return fmt::format("{:.3g}", x); }

// "0,1,…,n-1", every `step`-th when n is large, so tick labels never collide.
std::string ticks(std::size_t n) {
  const std::size_t step = std::max<std::size_t>(1, (n + 15) / 16);
  std::string s;
  for (std::size_t k = 0; k < n; k += step) s += (s.empty() ? "" : ",") + std::to_string(k);
  return s;
}

std::string without_final_period(std::string s) {
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s;
}

// A title as the start of a caption: a lower-case ASCII first letter capitalised ("log-log
// slope …" → "Log-log slope …"); math or anything else is left as it is.
std::string sentence_case(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// The heatmap's figure (LaTeX) and its data file (columns head layer value, layer-major: the
// scanline order `mesh/cols = heads` reads). A non-finite value is written as nan and its cell
// left out by `unbounded coords=jump`, so the grey axis background shows through.
struct HeatmapFiles {
  std::string tex, data;
  std::size_t missing = 0;
};

HeatmapFiles heatmap_files(const HeadHeatmap& h, const std::string& data_path) {
  HeatmapFiles f;
  f.data = "head layer value\n";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t layer = 0; layer < h.layers; ++layer) {
    for (std::size_t head = 0; head < h.heads; ++head) {
      const double v = h.values[layer * h.heads + head];
      if (std::isfinite(v)) {
        lo = std::min(lo, v), hi = std::max(hi, v);
      } else {
        ++f.missing;
      }
      f.data += fmt::format("{} {} {}\n", head, layer, std::isfinite(v) ? data_number(v) : "nan");
    }
  }
  const bool any = f.missing < h.values.size();
  if (any && lo == hi) {  // one colour for every cell: a range around it (pgfplots needs min < max)
    const double pad = lo == 0 ? 1 : std::fabs(lo) / 10;
    lo -= pad, hi += pad;
  }
  // Square cells up to a height of 0.6 of the line width (plus the colour bar at the side).
  const double width = 0.72;
  const double height =
      std::clamp(width * static_cast<double>(h.layers) / static_cast<double>(h.heads), 0.12, 0.6);
  std::string axis = fmt::format(
      "  scale only axis, width={:.2f}\\linewidth, height={:.3f}\\linewidth,\n"
      "  xlabel={{head}}, ylabel={{layer}},\n"
      "  xmin=-0.5, xmax={}.5, ymin=-0.5, ymax={}.5, enlargelimits=false,\n"
      "  xtick={{{}}}, ytick={{{}}},\n"
      "  tick label style={{font=\\footnotesize}}, label style={{font=\\small}},\n"
      "  axis on top, axis background/.style={{fill=gray!30}}, unbounded coords=jump",
      width, height, h.heads - 1, h.layers - 1, ticks(h.heads), ticks(h.layers));
  if (any) {
    axis += fmt::format(
        ",\n  colormap name=viridis, colorbar, colorbar style={{tick label style={{font=\\footnotesize}}}},\n"
        "  point meta min={}, point meta max={}",
        data_number(lo), data_number(hi));
  }
  std::string caption = without_final_period(latex::escape_with_math(sentence_case(h.title))) + ". " +
                        latex::escape_with_math(h.caption);
  caption = without_final_period(caption) + ".";
  if (f.missing == h.values.size()) {
    caption += " No head has a finite value: the map is empty.";
  } else if (f.missing > 0) {
    caption += fmt::format(" Grey: no finite value ({} of {} heads).", f.missing, h.values.size());
  }
  std::string& tex = f.tex;
  tex += "% Generated by attncert report: heatmap " + h.id + ". Data: " + data_path + "\n";
  tex += "\\begin{figure}[htbp]\n\\centering\n\\begin{tikzpicture}\n\\begin{axis}[\n" + axis + "]\n";
  if (any) {
    tex += fmt::format(
        "\\addplot[matrix plot*, mesh/cols={}, mesh/rows={}, point meta=explicit]\n"
        "  table[x=head, y=layer, meta=value] {{{}}};\n",
        h.heads, h.layers, data_path);
  } else {
    tex += fmt::format("\\node at (axis cs:{:.1f},{:.1f}) {{\\small no value}};\n",
                       (static_cast<double>(h.heads) - 1) / 2, (static_cast<double>(h.layers) - 1) / 2);
  }
  tex += "\\end{axis}\n\\end{tikzpicture}\n";
  tex += "\\caption{" + caption + "}\n\\label{fig:" + h.id + "}\n\\end{figure}\n";
  return f;
}

std::string verdict_latex(const std::string& verdict) {
  if (verdict == "disagrees") return "\\textcolor{acVermillion}{\\textbf{disagrees}}";
  return latex::escape(verdict);
}

std::string family_text(const ModelStudy& s) {
  if (s.family == "bert" && !s.causal) {
    return "a BERT encoder: its attention is bidirectional, so every query row sees all $L$ keys of "
           "its window ([CLS] piece [SEP])";
  }
  if (s.family == "gpt2" && s.causal) {
    return "a GPT-2 decoder: its attention is causal, so query $t$ sees $t + 1$ keys";
  }
  return "of family " + s.family + (s.causal ? " (causal attention)" : " (bidirectional attention)");
}

// "{32, 64, 128}" for $…$ math.
std::string length_set(const std::vector<long>& lengths) {
  std::string s;
  for (const long l : lengths) s += (s.empty() ? "" : ", ") + std::to_string(l);
  return "\\{" + s + "\\}";
}

// 64 hexadecimal digits in typewriter type do not break by themselves: allow a line break
// (no hyphen) after every 16.
std::string breakable_hex(const std::string& hex) {
  const bool is_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (!is_hex) return latex::escape(hex);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (i > 0 && i % 16 == 0) out += "\\allowbreak{}";
    out += hex[i];
  }
  return out;
}

// The windows each L used: "4", or "4, 4, 2" (a short text holds fewer long windows).
std::string windows_text(const ModelStudy& study) {
  const auto& w = study.windows_per_length;
  if (!w.empty() && std::all_of(w.begin(), w.end(), [&](std::size_t n) { return n == w.front(); }))
    return std::to_string(w.front());
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) out += (i ? ", " : "") + std::to_string(w[i]);
  return out.empty() ? std::to_string(study.windows) : out + " (in the order of $L$)";
}

// How many comparisons have each verdict, and the quantities where the model disagrees.
struct VerdictTally {
  std::size_t agrees = 0, partly = 0, disagrees = 0, not_comparable = 0, other = 0;
  std::vector<std::string> disagreeing;  // quantities, text rule
};

VerdictTally tally(const std::vector<PaperComparison>& rows) {
  VerdictTally t;
  for (const PaperComparison& c : rows) {
    if (c.verdict == "agrees") ++t.agrees;
    else if (c.verdict == "partly") ++t.partly;
    else if (c.verdict == "not comparable") ++t.not_comparable;
    else if (c.verdict == "disagrees") ++t.disagrees, t.disagreeing.push_back(c.quantity);
    else ++t.other;
  }
  return t;
}

// "2 agree, 1 partly, 2 disagree, 0 not comparable".
std::string tally_text(const VerdictTally& t) {
  std::string s = fmt::format("{} agree{}, {} partly, {} disagree{}, {} not comparable", t.agrees,
                              t.agrees == 1 ? "s" : "", t.partly, t.disagrees,
                              t.disagrees == 1 ? "s" : "", t.not_comparable);
  if (t.other) s += fmt::format(", {} other", t.other);
  return s;
}

}  // namespace

std::string model_study_latex(const ModelStudy& study, const fs::path& report_dir) {
  for (const HeadHeatmap& h : study.heatmaps) check_heatmap(h);
  const std::string name = latex::escape(study.model_name);
  const std::string text_name = fs::path(study.text_path).filename().string();

  std::string s = "\\section{" + latex::heading("Paper A's GPT-2 experiments on a real model: " + study.model_name) +
                  "}\\label{sec:model}\n";
  s += fmt::format(
      "Paper A reports its experiments (\\texttt{{A.gpt2}}) on all 144 heads of GPT-2 124M, a causal "
      "decoder. This section runs our version of that protocol (window lengths up to 512; the critical-$N$ "
      "test is our reconstruction) on every head of \\texttt{{{}}}, {}, with {} "
      "layers $\\times$ {} heads of dimension {} (at most {} positions). The text is "
      "\\texttt{{{}}} ({} bytes, {} tokens without special tokens, SHA-256 \\texttt{{{}}}), read in "
      "{} windows per window length $L \\in {}$, spread over the text; {} query rows are sampled "
      "per window (all rows when $L$ is smaller; the same rows for every head), seed {}. A row is "
      "one query's attention weights over the keys it sees, and its tokens are the head's value "
      "vectors (what the head averages). Per head: $\\tilde d$ versus $L$ and $N$, the critical $N$ "
      "by a two-sample KS test, $N_s/N$, $g(T, \\varepsilon)$, $L\\,\\alpha_{{\\max}}$ and "
      "certified $\\|J\\|_2$; the per-head tables are ",
      name, latex::escape_with_math(family_text(study)), study.layers, study.heads, study.head_dim,
      study.max_positions, latex::escape(text_name), study.text_bytes, study.text_tokens,
      breakable_hex(study.text_sha256), windows_text(study), length_set(study.lengths),
      study.rows_per_window, study.seed);
  if (study.tables.empty()) {
    s += "not written (the study has none)";
  } else {
    for (std::size_t i = 0; i < study.tables.size(); ++i) {
      s += (i == 0 ? "" : i + 1 == study.tables.size() ? " and " : ", ") +
           std::string("\\texttt{data/") + latex::escape("model-" + study.tables[i].name) + ".csv}";
    }
  }
  s += " (layers and heads numbered from 0).\n\n";

  s += fmt::format(
      "\\paragraph{{Certified rows.}} The rows of largest $\\|J\\|_2$ (in double) among each head's "
      "sampled rows at $L = {}$ ({} rows in all, $T = 1$: the model's own softmax) were certified in Arb ball "
      "arithmetic by "
      "the engine of \\texttt{{attncert verify}}, never by a double comparison: the classical bound "
      "$\\|J\\|_2 \\le 1/(2T)$ (\\texttt{{C.jacobian-softmax}}) is proved on {} of them, the "
      "printed \\texttt{{A.cor3}} bound $\\|J\\|_2 \\le \\min\\{{1/(4T), \\sqrt{{2}}\\}}$ is refuted "
      "on {} ({} of {} heads have such a row), and {} {} undecided. These rows are the extremes, chosen "
      "to test the bound where it is hardest; how common such rows are is a double screening over all "
      "sampled rows: {} of {} exceed $1/4$.\n\n",
      study.lengths.empty() ? 0 : study.lengths.back(), study.certified_rows, study.classical_proved,
      study.cor3_refuted, study.heads_refuting_cor3, study.layers * study.heads, study.undecided,
      study.undecided == 1 ? "is" : "are", study.cor3_exceeding_rows_double, study.sampled_rows_longest);

  const VerdictTally t = tally(study.comparison);
  s += "\\paragraph{Comparison with the paper.} ";
  if (study.comparison.empty()) {
    s += "The study compared no quantity with the paper.\n\n";
  } else {
    s += fmt::format("Of the {} findings of the paper compared in Table~\\ref{{tab:model-comparison}}, "
                     "{}",
                     study.comparison.size(), tally_text(t));
    if (!t.disagreeing.empty()) {
      s += ". This model disagrees on: ";
      for (std::size_t i = 0; i < t.disagreeing.size(); ++i) {
        s += (i ? "; " : "") + latex::escape_with_math(t.disagreeing[i]);
      }
    }
    s += ". A verdict compares this model under our version of the paper's protocol with what the paper "
         "reports for GPT-2, by the criterion in the table (ours: the paper states its findings in words). A "
         "disagreement is a difference between the models, a limit of how far the paper's finding carries, "
         "or a difference between our protocol and the paper's; it is not a refutation of the paper's GPT-2 "
         "numbers. The temperature $T$ divides the model's own scaled logits $q^\\top k/\\sqrt{d}$ ($T = 1$ is "
         "the model's softmax).\n\n";
    latex::Table table;
    // Wrapping columns: the cells are sentences.
    const auto wrap = [](const char* width) {
      return fmt::format(">{{\\raggedright\\arraybackslash}}p{{{}\\linewidth}}", width);
    };
    table.column_spec = "@{}" + wrap("0.22") + wrap("0.15") + wrap("0.19") + wrap("0.30") + wrap("0.10") + "@{}";
    table.header = {"Quantity", "Paper (GPT-2)", "Criterion (ours)", "This model", "Verdict"};
    for (const PaperComparison& c : study.comparison) {
      table.rows.push_back({latex::escape_with_math(c.quantity), latex::escape_with_math(c.paper),
                            latex::escape_with_math(c.criterion), latex::escape_with_math(c.model),
                            verdict_latex(c.verdict)});
    }
    table.caption = "Paper A's GPT-2 findings (as THEORY.md, A.gpt2, records them) and what " + name +
                    " shows under our version of the protocol.";
    table.label = "tab:model-comparison";
    s += "{\\small\\setlength{\\tabcolsep}{4pt}\n" + latex::table(table) + "}\n";
  }

  if (!study.heatmaps.empty()) {
    s += fmt::format(
        "\\paragraph{{Per-head maps.}} Figure{} \\ref{{fig:{}}}{} show{} one statistic per head as a "
        "layer $\\times$ head map (colour scale from the smallest to the largest value over the heads; "
        "grey cells: no value for that head).\n\n",
        study.heatmaps.size() > 1 ? "s" : "", study.heatmaps.front().id,
        study.heatmaps.size() > 1 ? "--\\ref{fig:" + study.heatmaps.back().id + "}" : "",
        study.heatmaps.size() > 1 ? "" : "s");
    const fs::path figures = report_dir / "figures";
    fs::create_directories(figures);
    for (const HeadHeatmap& h : study.heatmaps) {
      // <id>-0.dat, as latex::figure names its data files: a later report run recognises the
      // files of the figures report.tex inputs by that pattern (report_directory.cpp).
      const std::string data_name = h.id + "-0.dat";
      const HeatmapFiles files = heatmap_files(h, "figures/" + data_name);
      write_file_atomically((figures / data_name).string(), files.data);
      write_file_atomically((figures / (h.id + ".tex")).string(), files.tex);
      s += "\\input{figures/" + h.id + ".tex}\n";
    }
  }
  return s;
}

std::string model_study_summary(const ModelStudy& study) {
  std::string s;
  const VerdictTally t = tally(study.comparison);
  s += fmt::format("paper A's GPT-2 findings (A.gpt2) vs {}: {}\n", study.model_name,
                   study.comparison.empty() ? "nothing compared" : tally_text(t));
  for (const PaperComparison& c : study.comparison) {
    s += fmt::format("  {:<15} {}\n", c.verdict, latex::plain_text(c.quantity));
    s += fmt::format("  {:<15} paper: {}\n", "", latex::plain_text(c.paper));
    s += fmt::format("  {:<15} criterion (ours): {}\n", "", latex::plain_text(c.criterion));
    s += fmt::format("  {:<15} model: {}\n", "", latex::plain_text(c.model));
  }
  s += fmt::format("certified rows: {}, the rows of largest ||J||_2 among each head's sampled rows (A.cor3 refuted on {} "
                   "in {} heads, classical 1/(2T) proved on {}, {} undecided); in double, {} of {} sampled rows exceed 1/4\n",
                   study.certified_rows, study.cor3_refuted, study.heads_refuting_cor3, study.classical_proved,
                   study.undecided, study.cor3_exceeding_rows_double, study.sampled_rows_longest);
  if (!study.heatmaps.empty()) s += "per head (median, min, max over the heads with a value):\n";
  for (const HeadHeatmap& h : study.heatmaps) {
    const Spread sp = spread(h.values);
    s += "  " + without_final_period(latex::plain_text(h.title)) + ": ";
    if (sp.count == 0) {
      s += fmt::format("no value ({} heads)\n", sp.total);
      continue;
    }
    s += fmt::format("median {}, min {}, max {}", short_number(sp.median), short_number(sp.min),
                     short_number(sp.max));
    s += sp.count == sp.total ? fmt::format(" ({} heads)\n", sp.total)
                              : fmt::format(" ({} of {} heads; {} without a value)\n", sp.count,
                                            sp.total, sp.total - sp.count);
  }
  return s;
}

}  // namespace attncert
