// LaTeX output for the report: escaping of plain text (every LaTeX special character and the
// Unicode symbols the project writes, e.g. α, ‖, ≤, ε, Δ, √), booktabs tables and pgfplots
// figures drawn from a sweep's tidy table.
//
// The generated LaTeX needs only texlive-latex-base, texlive-latex-recommended and
// texlive-pictures (Debian): Computer Modern in the default OT1 encoding, so non-ASCII text is
// mapped to LaTeX commands here instead of relying on T1 fonts (cm-super / lmodern are not in
// those packages).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reports/sweep.hpp"

namespace attncert::latex {

/// Plain text → LaTeX text: \ { } $ & # ^ _ % ~ < > | " are escaped, "--" does not become a
/// dash, control characters become spaces, known Unicode symbols become LaTeX commands (math
/// symbols through \ensuremath) and any other code point is shown as "[U+XXXX]" so that
/// nothing is silently dropped and the document always compiles.
std::string escape(std::string_view text);

/// Like escape, but segments between unescaped `$` pairs are kept as math (their Unicode
/// symbols mapped to math commands). A lone `$` (no partner) is escaped as text. "\$" in the
/// input is a literal dollar.
std::string escape_with_math(std::string_view text);

/// The same text for a terminal or a CSV comment: `$…$` math becomes readable Unicode plain
/// text and the dollars go ("$L\,\alpha_{\max}$" → "L α_max", "$e^{-2\Delta/T}$" →
/// "e^(-2Δ/T)", "$\|J\|_2$" → "‖J‖_2", "$\tilde d$" → "d̃"). Inside math: Greek letters and
/// the relation/operator commands the experiments use map to their symbols, \max/\min/\log
/// … to the word, \mathrm{x}/\text{x}/\operatorname{x} to x, \tilde/\hat/\bar{x} to x
/// with a combining accent, \frac{a}{b} to a/b, \sqrt{x} to √x (√(x+y) when x is longer
/// than one character), _{…}/^{…} to _x or _(…) (parentheses unless the group is one word),
/// spacing commands to a space or nothing, grouping braces are dropped; an unknown command
/// keeps its name without the backslash. Text outside math, an unpaired `$` and "\$" are
/// kept as escape_with_math would show them.
std::string plain_text(std::string_view text);

/// A heading with $…$ math: `\texorpdfstring{<escape_with_math>}{<plain_text, escaped for a
/// PDF string>}`, so the PDF bookmarks read "L α_max" instead of losing the math (hyperref drops
/// math tokens from bookmarks). Text without math is just escape(text).
std::string heading(std::string_view text);

/// A number for a table cell: fixed notation for magnitudes in [0.01, 1e5), otherwise
/// $m\times10^{e}$; `significant` digits. NaN and ±inf are spelled out.
std::string number(double x, int significant = 3);

/// A booktabs table (longtable, so it may break across pages). Cells are LaTeX already (use
/// escape() for text). `column_spec` is the longtable column specification, e.g. "llr".
struct Table {
  std::string column_spec;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // a row of one cell spans all columns
  std::string caption;                         // LaTeX; empty: no caption
  std::string label;                           // empty: no label
};
std::string table(const Table& t);

/// One curve's points after selection: x, y and (with_ci) the interval around y.
struct CurvePoints {
  std::vector<double> x, y, ci_low, ci_high;
};

/// The rows of `table` that `curve` draws in `figure`: matching series and statistic, the
/// figure's fixed parameters held (relative tolerance 1e-9: grid values may be computed, e.g.
/// 2^k, while `fixed` holds literals), sorted by x; rows without a value in `y_column` are
/// skipped; non-finite points and, on log axes, non-positive ones are left out (the CSV keeps
/// them). Throws std::logic_error naming figure and curve when x_parameter / y_column / a fixed
/// parameter is not a column, or when two rows share an x (a parameter varies that the figure
/// does not fix).
CurvePoints select_curve(const sweeps::FigureSpec& figure, const sweeps::CurveSpec& curve,
                         const sweeps::SweepTable& table);

/// A figure as files: the figure's LaTeX and one whitespace-separated data file per curve
/// (columns x y ci_minus ci_plus), named `data_prefix + "-" + k + ".dat"`. The LaTeX reads the
/// data files by the paths given, relative to the directory pdflatex runs in.
struct FigureFiles {
  std::string tex;
  std::vector<std::pair<std::string, std::string>> data_files;  // path, content
};

/// pgfplots figure (compat 1.18): log axes per spec, legend, labels and caption (escaped,
/// $…$ math kept), one \addplot per curve; bounds dashed without marks; confidence intervals
/// as error bars. Figure ids must be file-name safe ([A-Za-z0-9._-]); throws
/// std::invalid_argument otherwise. Curves with no drawable point are left out and named in a
/// note under the caption.
FigureFiles figure(const sweeps::FigureSpec& spec, const sweeps::SweepTable& table,
                   const std::string& data_prefix);

/// The preamble every generated document uses (document class to \begin{document}).
std::string preamble(std::string_view title);

}  // namespace attncert::latex
