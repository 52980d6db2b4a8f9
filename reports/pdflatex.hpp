// Running pdflatex on a generated document: finding the program, compiling in a directory,
// and turning a failed run into one readable line (the first LaTeX error of the .log).
#pragma once

#include <optional>
#include <string>

namespace attncert::latex {

/// The Debian packages that provide pdflatex and everything the generated LaTeX uses.
inline constexpr const char* kTexPackages =
    "texlive-latex-base texlive-latex-recommended texlive-pictures";

/// Absolute path of an executable named `program` on $PATH (or `program` itself when it
/// contains a '/' and is executable); nullopt when there is none.
std::optional<std::string> find_program(const std::string& program);

struct PdflatexRun {
  bool ok = false;
  std::string error;  // when !ok: the first "! …" line of the log and its "l.N …" context
  std::string log_path;
};

/// Runs `pdflatex -interaction=nonstopmode -halt-on-error -no-shell-escape FILE` `passes`
/// times with `directory` as the working directory (so relative \input paths resolve there;
/// FILE.aux/.log/.pdf land there too). stdin is /dev/null, so TeX can never wait for input.
/// Stops at the first failing pass. A non-empty `definitions` (TeX code such as
/// "\\def\\x{1}") is run before FILE is \\input, with the job still named after FILE: values
/// that belong in the PDF but not in the byte-identical .tex sources.
PdflatexRun run_pdflatex(const std::string& pdflatex, const std::string& directory,
                         const std::string& tex_file, int passes = 2,
                         const std::string& definitions = {});

/// The first error of a LaTeX log: the line starting with "! " and, when present, the
/// following "l.<number> …" line that shows where. Empty when the log has no error line.
std::string first_latex_error(const std::string& log_text);

}  // namespace attncert::latex
