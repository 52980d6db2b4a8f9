#include "reports/latex.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace attncert::latex {
namespace {

// One Unicode symbol: how to write it inside math and in text. An empty `math` means a text
// symbol (written as `text` in both modes, wrapped in \text{} inside math).
struct Symbol {
  char32_t code;
  const char* math;  // math-mode command, e.g. "\\alpha"
  const char* text;  // text-mode spelling when not a math symbol
};

// Sorted by code point (binary search). Covers what THEORY.md, the claims and the sweeps write.
constexpr Symbol kSymbols[] = {
    {0x00A0, "~", "~"},  // no-break space
    {0x00A7, "\\S", ""},  // math forms: the text \S and \dag come from the bitmap TS1 font
    {0x00B0, "^{\\circ}", ""},
    {0x00B1, "\\pm", ""},
    {0x00B2, "^{2}", ""},
    {0x00B3, "^{3}", ""},
    {0x00B7, "\\cdot", ""},
    {0x00B9, "^{1}", ""},
    {0x00BD, "\\tfrac{1}{2}", ""},
    {0x00C4, "", "\\\"A"},
    {0x00D6, "", "\\\"O"},
    {0x00D7, "\\times", ""},
    {0x00DC, "", "\\\"U"},
    {0x00DF, "", "\\ss{}"},
    {0x00E0, "", "\\`a"},
    {0x00E1, "", "\\'a"},
    {0x00E4, "", "\\\"a"},
    {0x00E7, "", "\\c{c}"},
    {0x00E8, "", "\\`e"},
    {0x00E9, "", "\\'e"},
    {0x00EB, "", "\\\"e"},
    {0x00ED, "", "\\'{\\i}"},
    {0x00F1, "", "\\~n"},
    {0x00F3, "", "\\'o"},
    {0x00F6, "", "\\\"o"},
    {0x00F7, "\\div", ""},
    {0x00FC, "", "\\\"u"},
    {0x0393, "\\Gamma", ""},
    {0x0394, "\\Delta", ""},
    {0x0398, "\\Theta", ""},
    {0x039B, "\\Lambda", ""},
    {0x039E, "\\Xi", ""},
    {0x03A0, "\\Pi", ""},
    {0x03A3, "\\Sigma", ""},
    {0x03A6, "\\Phi", ""},
    {0x03A8, "\\Psi", ""},
    {0x03A9, "\\Omega", ""},
    {0x03B1, "\\alpha", ""},
    {0x03B2, "\\beta", ""},
    {0x03B3, "\\gamma", ""},
    {0x03B4, "\\delta", ""},
    {0x03B5, "\\varepsilon", ""},
    {0x03B6, "\\zeta", ""},
    {0x03B7, "\\eta", ""},
    {0x03B8, "\\theta", ""},
    {0x03B9, "\\iota", ""},
    {0x03BA, "\\kappa", ""},
    {0x03BB, "\\lambda", ""},
    {0x03BC, "\\mu", ""},
    {0x03BD, "\\nu", ""},
    {0x03BE, "\\xi", ""},
    {0x03C0, "\\pi", ""},
    {0x03C1, "\\rho", ""},
    {0x03C3, "\\sigma", ""},
    {0x03C4, "\\tau", ""},
    {0x03C5, "\\upsilon", ""},
    {0x03C6, "\\varphi", ""},
    {0x03C7, "\\chi", ""},
    {0x03C8, "\\psi", ""},
    {0x03C9, "\\omega", ""},
    {0x03D5, "\\phi", ""},
    {0x03F5, "\\epsilon", ""},
    {0x1D40, "^{\\top}", ""},  // modifier letter capital T (transpose)
    {0x2009, "\\,", "\\,"},      // thin space
    {0x2013, "", "--"},
    {0x2014, "", "---"},
    {0x2018, "", "`"},
    {0x2019, "", "'"},
    {0x201C, "", "``"},
    {0x201D, "", "''"},
    {0x2020, "\\dagger", ""},
    {0x2022, "\\bullet", ""},
    {0x2026, "\\dots", ""},
    {0x2032, "'", ""},
    {0x2070, "^{0}", ""},
    {0x2074, "^{4}", ""},
    {0x2075, "^{5}", ""},
    {0x2076, "^{6}", ""},
    {0x2077, "^{7}", ""},
    {0x2078, "^{8}", ""},
    {0x2079, "^{9}", ""},
    {0x207A, "^{+}", ""},
    {0x207B, "^{-}", ""},
    {0x2080, "_{0}", ""},
    {0x2081, "_{1}", ""},
    {0x2082, "_{2}", ""},
    {0x2083, "_{3}", ""},
    {0x2084, "_{4}", ""},
    {0x2085, "_{5}", ""},
    {0x2086, "_{6}", ""},
    {0x2087, "_{7}", ""},
    {0x2088, "_{8}", ""},
    {0x2089, "_{9}", ""},
    {0x2096, "_{k}", ""},
    {0x2099, "_{n}", ""},
    {0x2113, "\\ell", ""},
    {0x211D, "\\mathbb{R}", ""},
    {0x2190, "\\leftarrow", ""},
    {0x2192, "\\to", ""},
    {0x21D2, "\\Rightarrow", ""},
    {0x21D4, "\\Leftrightarrow", ""},
    {0x2200, "\\forall", ""},
    {0x2202, "\\partial", ""},
    {0x2203, "\\exists", ""},
    {0x2205, "\\emptyset", ""},
    {0x2207, "\\nabla", ""},
    {0x2208, "\\in", ""},
    {0x2209, "\\notin", ""},
    {0x220F, "\\prod", ""},
    {0x2211, "\\sum", ""},
    {0x2212, "-", ""},
    {0x2218, "\\circ", ""},
    {0x221A, "\\surd", ""},
    {0x221D, "\\propto", ""},
    {0x221E, "\\infty", ""},
    {0x2223, "\\mid", ""},
    {0x2225, "\\|", ""},
    {0x2227, "\\wedge", ""},
    {0x2228, "\\vee", ""},
    {0x2229, "\\cap", ""},
    {0x222A, "\\cup", ""},
    {0x222B, "\\int", ""},
    {0x223C, "\\sim", ""},
    {0x2248, "\\approx", ""},
    {0x2260, "\\ne", ""},
    {0x2261, "\\equiv", ""},
    {0x2264, "\\le", ""},
    {0x2265, "\\ge", ""},
    {0x226A, "\\ll", ""},
    {0x226B, "\\gg", ""},
    {0x2282, "\\subset", ""},
    {0x2286, "\\subseteq", ""},
    {0x2295, "\\oplus", ""},
    {0x2297, "\\otimes", ""},
    {0x2299, "\\odot", ""},
    {0x22A4, "\\top", ""},
    {0x22C5, "\\cdot", ""},
    {0x2308, "\\lceil", ""},
    {0x2309, "\\rceil", ""},
    {0x230A, "\\lfloor", ""},
    {0x230B, "\\rfloor", ""},
    {0x27E8, "\\langle", ""},
    {0x27E9, "\\rangle", ""},
    {0x2016, "\\|", ""},  // double vertical line ‖ (the table is sorted at first use)
};

const Symbol* find_symbol(char32_t c) {
  static const std::vector<Symbol> sorted = [] {
    std::vector<Symbol> v(std::begin(kSymbols), std::end(kSymbols));
    std::sort(v.begin(), v.end(), [](const Symbol& a, const Symbol& b) { return a.code < b.code; });
    return v;
  }();
  auto it = std::lower_bound(sorted.begin(), sorted.end(), c,
                             [](const Symbol& s, char32_t x) { return s.code < x; });
  return it != sorted.end() && it->code == c ? &*it : nullptr;
}

// Decodes one UTF-8 sequence at text[i]; advances i. Invalid bytes decode to U+FFFD one at a
// time, so malformed input still produces a visible, compilable marker.
char32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  int extra = 0;
  char32_t c = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    extra = 1, c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2, c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3, c = b0 & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= extra; ++k) {
    if (i + k >= text.size() || (byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  i += extra + 1;
  return c;
}

std::string unknown_marker(char32_t c) {
  return fmt::format("[U+{:04X}]", static_cast<std::uint32_t>(c));
}

// Non-ASCII code point in text mode.
std::string text_symbol(char32_t c) {
  const Symbol* s = find_symbol(c);
  if (!s) return unknown_marker(c);
  if (*s->math) return std::string("\\ensuremath{") + s->math + "}";
  return s->text;
}

// Non-ASCII code point in math mode. A trailing space keeps "\alpha" from swallowing a
// following letter ("\alphax").
std::string math_symbol(char32_t c) {
  const Symbol* s = find_symbol(c);
  if (!s) return "\\text{" + unknown_marker(c) + "}";
  if (*s->math) return std::string(s->math) + " ";
  return std::string("\\text{") + s->text + "}";
}

void append_escaped_ascii(std::string& out, char c, char next) {
  switch (c) {
    case '\\': out += "\\textbackslash{}"; break;
    case '{': out += "\\{"; break;
    case '}': out += "\\}"; break;
    // \$ in text takes the dollar from the TS1 (textcomp) font, which exists only as a bitmap
    // in the Debian packages we rely on; the math dollar is from scalable Computer Modern.
    case '$': out += "\\ensuremath{\\$}"; break;
    case '&': out += "\\&"; break;
    case '#': out += "\\#"; break;
    case '^': out += "\\textasciicircum{}"; break;
    case '_': out += "\\_"; break;
    case '%': out += "\\%"; break;
    case '~': out += "\\textasciitilde{}"; break;
    // OT1 fonts put other glyphs at these positions (¡ ¿ —), so name them.
    case '<': out += "\\textless{}"; break;
    case '>': out += "\\textgreater{}"; break;
    case '|': out += "\\textbar{}"; break;
    case '"':  // opening quote at the start or after a space/bracket, closing otherwise
      out += out.empty() || out.back() == ' ' || out.back() == '(' || out.back() == '[' ? "``" : "''";
      break;
    // Break the -- / --- / `` / '' / !` / ?` ligatures: the text means the characters.
    case '-': out += next == '-' ? "-{}" : "-"; break;
    case '`': out += "{`}"; break;
    case '\'': out += "{'}"; break;
    case '!': out += next == '`' ? "!{}" : "!"; break;
    case '?': out += next == '`' ? "?{}" : "?"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
        out += ' ';  // newlines/tabs: a paragraph break inside a cell would not compile
      } else {
        out += c;
      }
  }
}

std::string escape_text_segment(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      const char next = i + 1 < text.size() ? text[i + 1] : '\0';
      append_escaped_ascii(out, text[i], next);
      ++i;
    } else {
      out += text_symbol(next_code_point(text, i));
    }
  }
  return out;
}

// Math segment: ASCII kept as written (the author wrote LaTeX math), except characters that
// would end the math or the document early; Unicode symbols become math commands.
std::string math_segment(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      const char c = text[i];
      if (c == '%') {
        out += "\\%";
      } else if (c == '#') {
        out += "\\#";
      } else if (c == '&') {
        out += "\\&";
      } else if (b < 0x20 || b == 0x7F) {
        out += ' ';
      } else {
        out += c;
      }
      ++i;
    } else {
      out += math_symbol(next_code_point(text, i));
    }
  }
  return out;
}

// Math segments must keep braces balanced or the rest of the document is swallowed.
bool braces_balanced(std::string_view math) {
  int depth = 0;
  for (std::size_t i = 0; i < math.size(); ++i) {
    if (math[i] == '\\') {
      ++i;  // \{ \} are literal braces
      continue;
    }
    if (math[i] == '{') ++depth;
    if (math[i] == '}' && --depth < 0) return false;
  }
  return depth == 0 && (math.empty() || math.back() != '\\');
}

}  // namespace

std::string escape(std::string_view text) { return escape_text_segment(text); }

std::string escape_with_math(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  std::string pending;  // plain text not yet escaped
  const auto flush = [&] {
    out += escape_text_segment(pending);
    pending.clear();
  };
  while (i < text.size()) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      pending += '$';  // escape_text_segment turns it into \$
      i += 2;
      continue;
    }
    if (text[i] == '$') {
      const std::size_t close = text.find('$', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        const std::string_view math = text.substr(i + 1, close - i - 1);
        if (braces_balanced(math)) {
          flush();
          out += "$" + math_segment(math) + "$";
          i = close + 1;
          continue;
        }
      }
      pending += '$';  // unpaired or malformed: a literal dollar
      ++i;
      continue;
    }
    pending += text[i++];
  }
  flush();
  return out;
}

namespace {

// plain_text: LaTeX math → readable Unicode. Commands without an argument.
struct PlainCommand {
  std::string_view name;
  std::string_view text;
};
constexpr PlainCommand kPlainCommands[] = {
    {"alpha", "α"}, {"beta", "β"}, {"gamma", "γ"}, {"delta", "δ"}, {"epsilon", "ε"},
    {"varepsilon", "ε"}, {"zeta", "ζ"}, {"eta", "η"}, {"theta", "θ"}, {"kappa", "κ"},
    {"lambda", "λ"}, {"mu", "μ"}, {"nu", "ν"}, {"xi", "ξ"}, {"pi", "π"}, {"rho", "ρ"},
    {"sigma", "σ"}, {"tau", "τ"}, {"phi", "φ"}, {"varphi", "φ"}, {"chi", "χ"}, {"psi", "ψ"},
    {"omega", "ω"}, {"Gamma", "Γ"}, {"Delta", "Δ"}, {"Theta", "Θ"}, {"Lambda", "Λ"},
    {"Sigma", "Σ"}, {"Phi", "Φ"}, {"Psi", "Ψ"}, {"Omega", "Ω"},
    {"|", "‖"}, {"Vert", "‖"}, {"lVert", "‖"}, {"rVert", "‖"}, {"lvert", "|"}, {"rvert", "|"},
    {"mid", "|"}, {"{", "{"}, {"}", "}"}, {"$", "$"}, {"%", "%"}, {"&", "&"}, {"#", "#"},
    {"_", "_"}, {",", " "}, {";", " "}, {":", " "}, {" ", " "}, {"quad", " "}, {"qquad", " "},
    {"!", ""}, {"left", ""}, {"right", ""}, {"big", ""}, {"Big", ""}, {"bigl", ""}, {"bigr", ""},
    {"displaystyle", ""}, {"le", "≤"}, {"leq", "≤"}, {"ge", "≥"}, {"geq", "≥"}, {"ne", "≠"},
    {"neq", "≠"}, {"approx", "≈"}, {"sim", "~"}, {"ll", "≪"}, {"gg", "≫"}, {"cdot", "·"},
    {"cdots", "⋯"}, {"ldots", "…"}, {"dots", "…"}, {"times", "×"}, {"pm", "±"}, {"mp", "∓"},
    {"to", "→"}, {"in", "∈"}, {"infty", "∞"}, {"ell", "ℓ"}, {"top", "ᵀ"}, {"sum", "Σ"},
    {"prod", "Π"}, {"partial", "∂"}, {"nabla", "∇"}, {"propto", "∝"}, {"langle", "⟨"},
    {"rangle", "⟩"}, {"lfloor", "⌊"}, {"rfloor", "⌋"}, {"lceil", "⌈"}, {"rceil", "⌉"},
    {"circ", "∘"}, {"max", "max"}, {"min", "min"}, {"log", "log"}, {"ln", "ln"}, {"exp", "exp"},
    {"sup", "sup"}, {"inf", "inf"}, {"arg", "arg"}, {"det", "det"},
};

// Commands whose one argument is shown as is, and the accents (argument + combining mark).
constexpr std::string_view kPlainWrappers[] = {"mathrm", "mathit", "mathbf", "mathsf", "mathcal",
                                               "mathbb", "text", "textrm", "textit", "operatorname",
                                               "boldsymbol"};
constexpr PlainCommand kPlainAccents[] = {{"tilde", "\u0303"}, {"widetilde", "\u0303"},
                                          {"hat", "\u0302"},   {"widehat", "\u0302"},
                                          {"bar", "\u0304"},   {"overline", "\u0304"}};

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// One word: no ASCII punctuation or space (Greek letters count as letters).
bool is_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0x80 || std::isalnum(b);
  });
}

std::string plain_math(std::string_view m);

// The argument at m[i] (spaces skipped): a {group}, a \command or one code point; converted.
std::string plain_argument(std::string_view m, std::size_t& i) {
  while (i < m.size() && m[i] == ' ') ++i;
  if (i >= m.size()) return "";
  if (m[i] == '{') {
    int depth = 0;
    const std::size_t start = i;
    for (; i < m.size(); ++i) {
      if (m[i] == '\\') {
        ++i;
        continue;
      }
      if (m[i] == '{') ++depth;
      if (m[i] == '}' && --depth == 0) break;
    }
    const std::string_view inner = m.substr(start + 1, i - start - 1);
    ++i;
    return plain_math(inner);
  }
  std::size_t end = i + 1;
  if (m[i] == '\\') {
    while (end < m.size() && std::isalpha(static_cast<unsigned char>(m[end]))) ++end;
    if (end == i + 1 && end < m.size()) ++end;  // \| \, …
  } else {
    while (end < m.size() && (static_cast<unsigned char>(m[end]) & 0xC0) == 0x80) ++end;
  }
  const std::string_view token = m.substr(i, end - i);
  i = end;
  return plain_math(token);
}

std::string parenthesised_unless_one(const std::string& s) {
  return code_points(s) <= 1 ? s : "(" + s + ")";
}

std::string plain_math(std::string_view m) {
  std::string out;
  std::size_t i = 0;
  while (i < m.size()) {
    const char c = m[i];
    if (c == '{' || c == '}') {
      ++i;  // grouping
    } else if (c == '_' || c == '^') {
      ++i;
      const std::string arg = plain_argument(m, i);
      if (c == '^' && arg == "ᵀ") {
        out += arg;
      } else {
        out += c;
        out += is_word(arg) ? arg : "(" + arg + ")";
      }
    } else if (c == '\\' && i + 1 < m.size()) {
      std::size_t end = i + 1;
      while (end < m.size() && std::isalpha(static_cast<unsigned char>(m[end]))) ++end;
      if (end == i + 1) ++end;  // a one-character command: \| \, \{
      const std::string_view name = m.substr(i + 1, end - i - 1);
      i = end;
      const auto is = [&](std::string_view n) { return n == name; };
      if (std::any_of(std::begin(kPlainWrappers), std::end(kPlainWrappers), is)) {
        out += plain_argument(m, i);
      } else if (const auto* a = std::find_if(std::begin(kPlainAccents), std::end(kPlainAccents),
                                              [&](const PlainCommand& p) { return p.name == name; });
                 a != std::end(kPlainAccents)) {
        out += plain_argument(m, i);
        out += a->text;
      } else if (name == "frac" || name == "tfrac" || name == "dfrac") {
        const std::string num = plain_argument(m, i);
        out += parenthesised_unless_one(num) + "/" + parenthesised_unless_one(plain_argument(m, i));
      } else if (name == "sqrt") {
        out += "√" + parenthesised_unless_one(plain_argument(m, i));
      } else if (const auto* p = std::find_if(std::begin(kPlainCommands), std::end(kPlainCommands),
                                              [&](const PlainCommand& p) { return p.name == name; });
                 p != std::end(kPlainCommands)) {
        out += p->text;
      } else {
        out += name;  // unknown: its name is the most readable thing we have
      }
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string plain_text(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i] == '$') {  // same pairing rule as escape_with_math
      const std::size_t close = text.find('$', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        const std::string_view math = text.substr(i + 1, close - i - 1);
        if (braces_balanced(math)) {
          out += plain_math(math);
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

std::string heading(std::string_view text) {
  const std::string typeset = escape_with_math(text);
  if (typeset == escape(text)) return typeset;
  std::string bookmark;
  for (const char c : plain_text(text)) {
    switch (c) {
      case '\\': bookmark += "\\textbackslash{}"; break;
      case '^': bookmark += "\\textasciicircum{}"; break;
      case '~': bookmark += "\\textasciitilde{}"; break;
      case '{': case '}': case '_': case '%': case '#': case '&': case '$':
        bookmark += '\\';
        bookmark += c;
        break;
      default: bookmark += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;  // UTF-8 passes: hyperref's unicode bookmarks
    }
  }
  return "\\texorpdfstring{" + typeset + "}{" + bookmark + "}";
}

std::string number(double x, int significant) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "$\\infty$" : "$-\\infty$";
  if (x == 0) return "0";
  significant = std::clamp(significant, 1, 17);
  const double a = std::fabs(x);
  if (a >= 1e-2 && a < 1e5) {
    // Fixed notation with `significant` digits, trailing zeros kept (they are significant).
    const int exponent = static_cast<int>(std::floor(std::log10(a)));
    const int decimals = std::max(0, significant - 1 - exponent);
    return fmt::format("{:.{}f}", x, decimals);
  }
  std::string s = fmt::format("{:.{}e}", x, significant - 1);  // e.g. 1.23e-07
  const std::size_t e = s.find('e');
  const int exponent = std::stoi(s.substr(e + 1));
  return fmt::format("${}\\times10^{{{}}}$", s.substr(0, e), exponent);
}

std::string table(const Table& t) {
  const std::size_t columns = t.header.size();
  if (columns == 0) throw std::logic_error("latex::table: a table needs a header");
  std::string out = "\\begin{longtable}{" + t.column_spec + "}\n";
  if (!t.caption.empty()) {
    out += "\\caption{" + t.caption + "}";
    if (!t.label.empty()) out += "\\label{" + t.label + "}";
    out += "\\\\\n";
  }
  std::string head = "\\toprule\n";
  for (std::size_t c = 0; c < columns; ++c) head += (c ? " & " : "") + t.header[c];
  head += " \\\\\n\\midrule\n";
  out += head + "\\endfirsthead\n";
  out += fmt::format("\\multicolumn{{{}}}{{l}}{{\\small\\itshape (continued)}}\\\\\n", columns) +
         head + "\\endhead\n";
  out += "\\bottomrule\n\\endlastfoot\n";
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    // A row followed by a spanning (detail) row ends with \\* so no page break separates them.
    const bool keep_with_next = r + 1 < t.rows.size() && t.rows[r + 1].size() == 1 && columns > 1;
    const char* row_end = keep_with_next ? " \\\\*\n" : " \\\\\n";
    if (row.size() == 1 && columns > 1) {
      out += fmt::format("\\multicolumn{{{}}}{{p{{\\dimexpr\\linewidth-2\\tabcolsep\\relax}}}}{{{}}}{}",
                         columns, row[0], row_end);
      continue;
    }
    if (row.size() != columns) {
      throw std::logic_error(fmt::format("latex::table: row of {} cells in a table of {} columns",
                                         row.size(), columns));
    }
    for (std::size_t c = 0; c < columns; ++c) out += (c ? " & " : "") + row[c];
    out += row_end;
  }
  out += "\\end{longtable}\n";
  return out;
}

namespace {

std::size_t column_index(const std::vector<std::string>& names, const std::string& name,
                         const sweeps::FigureSpec& figure, std::string_view what) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    throw std::logic_error(fmt::format("figure '{}': {} '{}' is not a column of the table",
                                       figure.id, what, name));
  }
  return static_cast<std::size_t>(it - names.begin());
}

bool same_parameter(double a, double b) {
  return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

void check_figure_id(const std::string& id) {
  const bool ok = !id.empty() && id[0] != '.' &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                  });
  if (!ok) {
    throw std::invalid_argument(fmt::format(
        "figure id '{}': use letters, digits, '-', '_' and '.' only (it names files)", id));
  }
}

// 17 significant digits: the plotted number is the table's number.
std::string data_number(double x) { return fmt::format("{:.17g}", x); }

// A fixed colour per curve index (colour-blind-safe Okabe–Ito palette, defined in preamble).
constexpr const char* kCurveColours[] = {"acBlue", "acOrange", "acGreen", "acVermillion",
                                         "acPurple", "acSky", "acYellow", "black"};
constexpr const char* kMarks[] = {"*", "square*", "triangle*", "diamond*", "pentagon*", "o",
                                  "square", "triangle"};

}  // namespace

CurvePoints select_curve(const sweeps::FigureSpec& figure, const sweeps::CurveSpec& curve,
                         const sweeps::SweepTable& table) {
  const std::size_t xi = column_index(table.parameter_names, figure.x_parameter, figure, "x_parameter");
  std::vector<std::pair<std::size_t, double>> fixed;
  for (const auto& [name, value] : figure.fixed) {
    fixed.emplace_back(column_index(table.parameter_names, name, figure, "fixed parameter"), value);
  }
  const bool y_is_value = curve.y_column == "value";
  const std::size_t yi = y_is_value ? 0 : column_index(table.bound_names, curve.y_column, figure, "y_column");

  struct Point {
    double x, y, lo, hi;
  };
  std::vector<Point> points;
  for (const sweeps::SweepRow& row : table.rows) {
    if (row.series != curve.series || row.statistic != curve.statistic) continue;
    if (row.parameters.size() != table.parameter_names.size() ||
        row.bounds.size() != table.bound_names.size()) {
      throw std::logic_error(fmt::format("figure '{}': a row of {} does not match its columns",
                                         figure.id, table.experiment));
    }
    bool held = true;
    for (const auto& [k, v] : fixed) held = held && same_parameter(row.parameters[k], v);
    if (!held) continue;
    const std::optional<double> y = y_is_value ? std::optional<double>(row.value) : row.bounds[yi];
    if (!y) continue;
    Point p{row.parameters[xi], *y, *y, *y};
    if (curve.with_ci && row.ci_low && row.ci_high) p.lo = *row.ci_low, p.hi = *row.ci_high;
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    if ((figure.log_x && p.x <= 0) || (figure.log_y && p.y <= 0)) continue;
    if (!std::isfinite(p.lo) || !std::isfinite(p.hi)) p.lo = p.hi = p.y;
    // Log axis: an interval reaching 0 or below is drawn down to the axis floor (pgfplots
    // cannot place log(≤0)); a tenth of the point keeps the bar visibly open-ended.
    if (figure.log_y && p.lo <= 0) p.lo = p.y / 10;
    points.push_back(p);
  }
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  for (std::size_t k = 1; k < points.size(); ++k) {
    if (points[k].x == points[k - 1].x) {
      throw std::logic_error(fmt::format(
          "figure '{}', curve '{}': two rows at {} = {}; fix the other parameters in the "
          "figure's `fixed`",
          figure.id, curve.legend, figure.x_parameter, points[k].x));
    }
  }
  CurvePoints out;
  for (const Point& p : points) {
    out.x.push_back(p.x);
    out.y.push_back(p.y);
    out.ci_low.push_back(p.lo);
    out.ci_high.push_back(p.hi);
  }
  return out;
}

FigureFiles figure(const sweeps::FigureSpec& spec, const sweeps::SweepTable& table,
                   const std::string& data_prefix) {
  check_figure_id(spec.id);
  FigureFiles files;
  std::string plots;
  std::vector<std::string> empty_curves;
  // One colour and mark per measured curve (series × statistic); a bound drawn on the same
  // series × statistic takes that curve's colour, so a measurement and its bounds match. Bounds
  // are told apart by their bound column: dashed, dotted, dash-dotted.
  std::vector<std::string> group_order, bound_order;
  const auto index_in = [](std::vector<std::string>& order, const std::string& name) {
    const auto it = std::find(order.begin(), order.end(), name);
    if (it != order.end()) return static_cast<std::size_t>(it - order.begin());
    order.push_back(name);
    return order.size() - 1;
  };
  std::vector<std::size_t> curve_group;
  for (const sweeps::CurveSpec& curve : spec.curves) {  // measurements first: they own the colours
    if (!curve.is_bound) index_in(group_order, curve.series + '\x1f' + curve.statistic);
  }
  for (const sweeps::CurveSpec& curve : spec.curves) {
    curve_group.push_back(index_in(group_order, curve.series + '\x1f' + curve.statistic));
  }
  for (std::size_t k = 0; k < spec.curves.size(); ++k) {
    const sweeps::CurveSpec& curve = spec.curves[k];
    const std::size_t group = curve_group[k];
    const std::size_t bound_style = curve.is_bound ? index_in(bound_order, curve.y_column) : 0;
    const CurvePoints pts = select_curve(spec, curve, table);
    if (pts.x.empty()) {
      empty_curves.push_back(escape_with_math(curve.legend));
      continue;
    }
    std::string data = "x y ci_minus ci_plus\n";
    for (std::size_t i = 0; i < pts.x.size(); ++i) {
      data += data_number(pts.x[i]) + " " + data_number(pts.y[i]) + " " +
              data_number(std::max(0.0, pts.y[i] - pts.ci_low[i])) + " " +
              data_number(std::max(0.0, pts.ci_high[i] - pts.y[i])) + "\n";
    }
    const std::string path = fmt::format("{}-{}.dat", data_prefix, k);
    files.data_files.emplace_back(path, std::move(data));

    const char* colour = kCurveColours[group % std::size(kCurveColours)];
    std::string style = fmt::format("color={}", colour);
    if (curve.is_bound) {
      constexpr const char* kBoundLines[] = {"dashed", "densely dotted", "dashdotted"};
      style += fmt::format(", {}, thick, no markers", kBoundLines[bound_style % std::size(kBoundLines)]);
    } else {
      style += fmt::format(", solid, thick, mark={}, mark size=1.6pt", kMarks[group % std::size(kMarks)]);
    }
    std::string table_keys = "x=x, y=y";
    if (curve.with_ci) {
      style += ", error bars/.cd, y dir=both, y explicit, error bar style={line width=0.6pt}";
      table_keys += ", y error minus=ci_minus, y error plus=ci_plus";
    }
    // A lone point would be invisible as a dashed line: give bounds a mark then.
    if (curve.is_bound && pts.x.size() == 1) style += ", mark=-, mark size=4pt";
    plots += fmt::format("\\addplot+[{}] table[{}] {{{}}};\n\\addlegendentry{{{}}}\n", style,
                         table_keys, path, escape_with_math(curve.legend));
  }

  // Legend under the plot, at the text width: one row per series when every series has the
  // same two or three curves listed together (e.g. a measurement with its bounds), all in one
  // row when there are at most three curves, otherwise two columns.
  std::size_t legend_columns = spec.curves.size() <= 3 ? std::max<std::size_t>(1, spec.curves.size()) : 2;
  if (group_order.size() >= 2 && spec.curves.size() % group_order.size() == 0) {
    const std::size_t per_group = spec.curves.size() / group_order.size();
    bool together = per_group == 2 || per_group == 3;
    for (std::size_t k = 0; together && k < spec.curves.size(); ++k) {
      together = curve_group[k] == curve_group[k - k % per_group];
    }
    if (together) legend_columns = per_group;
  }
  // …but a legend wider than the text would push the plot off the page. At \footnotesize the
  // text width holds about 110 characters of legend, each column costing ~8 for mark and gap
  // (measured on this report's legends: 2 × 46 characters fit, 3 × 37 and 2 × 51 overflow).
  std::size_t longest = 0;
  for (const sweeps::CurveSpec& curve : spec.curves) {
    longest = std::max(longest, code_points(plain_text(curve.legend)));
  }
  while (legend_columns > 1 && (longest + 8) * legend_columns > 110) --legend_columns;
  std::string axis_options = fmt::format(
      "  width=0.95\\linewidth, height=0.4\\linewidth,\n"
      "  xlabel={{{}}}, ylabel={{{}}},\n"
      "  xmode={}, ymode={},\n"
      "  grid=major, grid style={{gray!25}},\n"
      "  legend cell align=left, legend columns={},\n"
      "  legend style={{at={{(xticklabel cs:0.5)}}, anchor=north, yshift=-1.7em, font=\\footnotesize, "
      "draw=none, /tikz/every even column/.append style={{column sep=0.8em}}}},\n"
      "  tick label style={{font=\\footnotesize}}, label style={{font=\\small}},\n"
      "  unbounded coords=discard, scaled ticks=false",
      escape_with_math(spec.x_label), escape_with_math(spec.y_label),
      spec.log_x ? "log" : "normal", spec.log_y ? "log" : "normal", legend_columns);
  if (spec.log_x) axis_options += ", log basis x=10";
  if (spec.log_y) axis_options += ", log basis y=10";
  if (plots.empty()) {
    // Nothing to draw: an empty axis with a fixed range still compiles and says so.
    axis_options += ",\n  xmin=1, xmax=10, ymin=1, ymax=10";
  }

  std::string caption = escape_with_math(spec.caption);
  if (!empty_curves.empty()) {
    std::string names;
    for (std::size_t i = 0; i < empty_curves.size(); ++i) names += (i ? ", " : "") + empty_curves[i];
    caption += fmt::format(" (No drawable point for: {}.)", names);
  }
  std::string& tex = files.tex;
  tex += "% Generated by attncert report: figure " + spec.id + ". Data: " + data_prefix + "-*.dat\n";
  tex += "\\begin{figure}[htbp]\n\\centering\n\\begin{tikzpicture}\n\\begin{axis}[\n" +
         axis_options + "]\n";
  tex += plots;
  if (plots.empty()) tex += "\\node at (axis cs:3.16,3.16) {\\small no data};\n";
  tex += "\\end{axis}\n\\end{tikzpicture}\n";
  tex += "\\caption{" + caption + "}\n\\label{fig:" + spec.id + "}\n\\end{figure}\n";
  return files;
}

std::string preamble(std::string_view title) {
  return "\\documentclass[11pt,a4paper]{article}\n"
         "% Packages from texlive-latex-base, texlive-latex-recommended, texlive-pictures only.\n"
         "\\usepackage[margin=2.3cm]{geometry}\n"
         "\\usepackage{amsmath,amssymb}\n"
         "\\usepackage{array,booktabs,longtable}\n"
         "\\usepackage[table]{xcolor}\n"
         "\\usepackage{microtype}\n"
         "\\usepackage{caption}\n"
         "\\usepackage{flafter}  % a figure never floats above the text that introduces it\n"
         "\\captionsetup{font=small,labelfont=bf}\n"
         "\\usepackage{pgfplots}\n"
         "\\pgfplotsset{compat=1.18}\n"
         "\\usepackage[hidelinks]{hyperref}\n"
         "\\definecolor{acBlue}{RGB}{0,114,178}\n"
         "\\definecolor{acOrange}{RGB}{230,159,0}\n"
         "\\definecolor{acGreen}{RGB}{0,158,115}\n"
         "\\definecolor{acVermillion}{RGB}{213,94,0}\n"
         "\\definecolor{acPurple}{RGB}{204,121,167}\n"
         "\\definecolor{acSky}{RGB}{86,180,233}\n"
         "\\definecolor{acYellow}{RGB}{200,180,0}\n"
         "\\setlength{\\LTcapwidth}{\\linewidth}\n"
         // Two figures and some text may share a page; a float page must be mostly full.
         "\\renewcommand{\\topfraction}{0.9}\\renewcommand{\\bottomfraction}{0.8}\n"
         "\\renewcommand{\\textfraction}{0.07}\\renewcommand{\\floatpagefraction}{0.75}\n"
         "\\setcounter{topnumber}{3}\\setcounter{totalnumber}{4}\n"
         "\\setlength{\\parindent}{0pt}\n"
         "\\setlength{\\parskip}{0.6ex plus 0.3ex}\n"
         "\\title{" + escape(title) + "}\n\\author{}\n\\date{}\n"
         "\\begin{document}\n";
}

}  // namespace attncert::latex
