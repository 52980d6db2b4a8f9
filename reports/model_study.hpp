// Paper A's experiments (THEORY.md, A.gpt2) on every attention head of a pretrained transformer
// reading a long text: the real-model counterpart of the synthetic sweeps.
//
// The text is tokenised and read in windows of L tokens (models/text_windows.hpp; BERT windows
// are [CLS] piece [SEP]); each window runs through the model once (models/forward_pass.hpp), and
// every head's attention rows are the rows of the study. A row is query t's attention over the
// keys it sees (all L for BERT, t + 1 for a causal model) with token vectors x_j = that head's
// value vectors v_j (what the head averages). Rows are sampled per window (the same rows for
// every head), seeded. Per head:
//   - dtilde-vs-L:   d̃ readings B and C of the top-N set (N = fixed_n) for each L; the log-log
//                    slope of the mean over L (the paper: "roughly linear" for N ≪ L).
//   - dtilde-vs-N:   d̃ B and C at the longest L for each N of `counts`.
//   - critical-N:    our reconstruction of the paper's KS protocol (its text gives only "critical
//                    N by a two-sample KS test, ≈ 0.06·L"): for each L and N = ⌈f·L⌉ over
//                    `critical_fractions`, a two-sample KS test between d̃_B of the top-N set on
//                    the even-numbered sampled rows and d̃_B of a uniformly random N-set on the
//                    odd-numbered ones (two samples of distinct rows; rows of one window share
//                    keys and values, so they are not independent and the p-values are
//                    optimistic); the critical N is the smallest N of the grid at which the test
//                    no longer separates them (p >= 0.05), which grows with the number of rows.
//                    Reported as N/L; none when every N of the grid separates. Not compared with
//                    the paper's 0.06: the protocol is ours.
//   - separability:  N_s/N under the paper's protocol (theory/distance_collapse.hpp) at the
//                    longest L for each N of `separability_counts`.
//   - sensitivity:   g(T, ε) (paper A, Algorithm 5) on the row's logits at each T and ε, one
//                    random unit direction per row; per head the mean and the median over rows
//                    (the mean is dominated by a few near-tied rows). T divides the model's own
//                    logits q·k/√d_head, so T = 1 is the model's softmax; on raw q·k (as THEORY.md
//                    writes F(qᵀk/T)) the same temperature is √d_head·T.
//   - vanishing:     L·α_max per row at each L (A.cor1 says it stays within e^{±2Δ/T}).
//   - jacobian:      the catalog engine certifies, on real rows at T = 1 (the model's own
//                    softmax), the classical bound C.jacobian-softmax (‖J‖₂ <= 1/(2T)) and the
//                    printed A.cor3 (‖J‖₂ <= min{1/(4T), √2}): per head the `certified_rows` rows
//                    of largest double ‖J‖₂ at the longest L, each an Arb verdict
//                    (certify_instance), never a double comparison.
// Every statistic says how many rows it averages. Same options and seed → byte-identical CSVs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace attncert {

struct ModelStudyOptions {
  std::filesystem::path model_dir;  // config.json, model.safetensors, tokenizer.json
  std::filesystem::path text_path;  // UTF-8 prose
  std::vector<long> lengths = {32, 64, 128, 256, 512};  // window lengths L (the last: "longest")
  long fixed_n = 5;                                     // N of dtilde-vs-L
  std::vector<long> counts = {1, 5, 10, 20, 100};       // N of dtilde-vs-N (at the longest L)
  std::vector<long> separability_counts = {1, 2, 4, 8, 16, 32, 64};
  std::vector<double> critical_fractions = {0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08,
                                            0.12,  0.16, 0.25, 0.35, 0.5};
  std::vector<double> temperatures = {0.01, 0.02, 0.03, 0.05, 0.1, 0.3, 1, 3, 10};
  std::vector<double> epsilons = {1e-3, 1e-1, 10};
  std::size_t windows = 4;        // windows per L, spread over the text
  std::size_t rows_per_window = 64;  // query rows sampled per window (all rows when L is smaller)
  std::size_t certified_rows = 2;    // per head, for the jacobian experiment
  std::uint64_t seed = 1;
  int jobs = 0;  // threads over heads; 0: all cores
  /// Progress: stage ("forward L=512", "heads L=512", "certify"), done, total.
  std::function<void(const std::string&, std::size_t, std::size_t)> progress;

  /// The smaller protocol of --quick: L ∈ {32, 128, 512}, 2 windows, 16 rows, 1 certified row.
  static ModelStudyOptions quick();
};

/// One tidy table (data/model-<name>.csv): columns layer, head, then `columns`.
struct ModelStudyTable {
  std::string name;                  // "dtilde-vs-L", …
  std::vector<std::string> columns;  // after layer and head; numeric
  struct Row {
    std::size_t layer = 0, head = 0;
    std::vector<double> values;  // one per column; NaN where undefined
  };
  std::vector<Row> rows;
};

/// A per-head statistic as a layer × head matrix, for a heatmap.
struct HeadHeatmap {
  std::string id;       // file stem, e.g. "model-dtilde-B-slope"
  std::string title;    // text rule of reports/sweep.hpp ($…$ is math)
  std::string caption;  // what is drawn and how to read it (text rule)
  std::size_t layers = 0, heads = 0;
  std::vector<double> values;  // layer-major; NaN: undefined for that head
};

/// The paper's GPT-2 finding and what this model shows, for the comparison table.
struct PaperComparison {
  std::string quantity;  // text rule
  std::string paper;      // the paper's GPT-2 statement as THEORY.md records it, text rule
  std::string criterion;  // ours: when the model's numbers count as agreeing, text rule
  std::string model;      // this model's number(s), text rule
  std::string verdict;   // "agrees", "disagrees", "partly" or "not comparable"
};

struct ModelStudy {
  std::string model_name;  // the model directory's last component
  std::string family;      // "bert" or "gpt2"
  bool causal = false;
  std::size_t layers = 0, heads = 0, head_dim = 0, max_positions = 0;
  std::string text_path, text_sha256;
  std::size_t text_bytes = 0, text_tokens = 0;  // tokens without special tokens
  std::size_t distinct_tokens = 0, unknown_tokens = 0;
  std::vector<long> lengths;
  std::size_t windows = 0, rows_per_window = 0;  // as asked
  std::vector<std::size_t> windows_per_length;    // as used: a short text holds fewer
  std::uint64_t seed = 0;
  std::vector<ModelStudyTable> tables;
  std::vector<HeadHeatmap> heatmaps;
  std::vector<PaperComparison> comparison;
  // The jacobian experiment: certified rows are each head's rows of largest double ‖J‖₂ among
  // its sampled rows at the longest L, so cor3_refuted is a count of extremes, not a rate;
  // cor3_exceeding_rows_double is the rate, screened in double over all sampled rows there.
  std::size_t certified_rows = 0, cor3_refuted = 0, classical_proved = 0, undecided = 0;
  std::size_t heads_refuting_cor3 = 0;
  std::size_t sampled_rows_longest = 0, cor3_exceeding_rows_double = 0;
  double forward_seconds = 0, seconds = 0;
};

/// Runs the study. Throws std::runtime_error / std::invalid_argument with one line naming the
/// problem (a missing or corrupt model directory or file, an unsupported architecture, a
/// tokenizer of the other family, an empty text, one shorter than a window of the longest L or
/// one of fewer than 16 distinct tokens or mostly unknown ones, an L above the model's positions, empty
/// or inadmissible option lists) before the long work starts.
ModelStudy run_model_study(const ModelStudyOptions& options);

/// data/model-<table>.csv for each table and data/model-heads.csv … into `dir`, each written
/// atomically (reports/output_file.hpp). Returns the paths written.
std::vector<std::filesystem::path> write_model_study_csvs(const ModelStudy& study,
                                                          const std::filesystem::path& dir);

/// The model section of the report (LaTeX, pgfplots heatmaps in figures/<id>.tex + .dat under
/// `report_dir`) with the comparison table. Returns the section's LaTeX.
std::string model_study_latex(const ModelStudy& study, const std::filesystem::path& report_dir);

/// Plain-text summary for the terminal: the comparison table and the per-experiment medians.
std::string model_study_summary(const ModelStudy& study);

}  // namespace attncert
