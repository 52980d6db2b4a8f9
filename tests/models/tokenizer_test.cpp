// Tokenizers from tokenizer.json (models/tokenizer.hpp): ids equal to the Rust `tokenizers` on
// long texts (fixtures made by fixtures/make_tokenizer_fixtures.py), hand-checked small cases,
// the Unicode helpers, and one-line errors for bad files and bad text.
#include "models/model_cache.hpp"
#include "models/tokenizer.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/byte_level_bpe.hpp"
#include "models/unicode.hpp"
#include "models/word_piece.hpp"
#include "numerics/sha256.hpp"
#include "tests/models/small_tokenizers.hpp"

namespace attncert::models {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kFixtures = ATTNCERT_TOKENIZER_FIXTURES;
const fs::path kGpl3 = "/usr/share/common-licenses/GPL-3";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Where scripts/get-model puts MiniLM and GPT-2's tokenizer (scripts/test fetches both).
fs::path minilm_dir() { return attncert::models::cached_model_directory("all-minilm-l6-v2"); }
fs::path gpt2_tokenizer_dir() { return attncert::models::cached_model_directory("gpt2-tokenizer"); }

const json& reference() {
  static const json data = json::parse(read_file(kFixtures / "tokenizer_reference.json"));
  return data;
}

// The tokenizer.json the reference used for `name`, or "" when it is not on this machine.
fs::path tokenizer_path(const std::string& name) {
  if (name == "minilm") return minilm_dir() / "tokenizer.json";
  if (name == "gpt2") return gpt2_tokenizer_dir() / "tokenizer.json";
  return kFixtures / "tokenizer_bpe_small.json";
}

std::string describe_ids(const Tokenizer& tokenizer, const std::vector<TokenId>& ids,
                         std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < std::min(to, ids.size()); ++i) {
    out += fmt::format(
        "{}({}) ", ids[i],
        json(tokenizer.token(ids[i])).dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return out;
}

void expect_reference_ids(const std::string& tokenizer_name, const std::string& text_name) {
  const fs::path path = tokenizer_path(tokenizer_name);
  if (!fs::exists(path)) {
    GTEST_SKIP() << path << " is absent (MiniLM: scripts/get-model; GPT-2: "
                 << "make_tokenizer_fixtures.py --install-gpt2-only)";
  }
  const std::string expected_sha = reference()["tokenizers"][tokenizer_name]["sha256"];
  if (sha256_hex(read_file(path)) != expected_sha) {
    GTEST_SKIP() << path << " is not the file the reference ids were made from (SHA-256 "
                 << expected_sha << ")";
  }
  const json& text_info = reference()["texts"][text_name];
  const fs::path text_path =
      text_name == "gpl3" ? kGpl3 : kFixtures / text_info["path"].get<std::string>();
  const std::string text = read_file(text_path);
  if (sha256_hex(text) != text_info["sha256"].get<std::string>()) {
    GTEST_SKIP() << text_path << " is absent or differs from the text of the reference (SHA-256 "
                 << text_info["sha256"].get<std::string>() << ")";
  }
  const auto tokenizer = load_tokenizer(path);
  const std::vector<TokenId> ids = tokenizer->encode(text);
  const auto expected =
      reference()["ids"][tokenizer_name + "/" + text_name].get<std::vector<TokenId>>();
  std::size_t first_difference = 0;
  while (first_difference < ids.size() && first_difference < expected.size() &&
         ids[first_difference] == expected[first_difference]) {
    ++first_difference;
  }
  if (first_difference == ids.size() && ids.size() == expected.size()) {
    std::cout << tokenizer_name << "/" << text_name << ": " << ids.size()
              << " ids equal the reference\n";
    return;
  }
  const std::size_t from = first_difference >= 5 ? first_difference - 5 : 0;
  ADD_FAILURE() << tokenizer_name << "/" << text_name << ": " << ids.size() << " ids, reference "
                << expected.size() << "; first difference at position " << first_difference
                << "\n  ours:      " << describe_ids(*tokenizer, ids, from, first_difference + 6)
                << "\n  reference: "
                << describe_ids(*tokenizer, expected, from, first_difference + 6);
}

TEST(TokenizerReference, MiniLmOnGplText) { expect_reference_ids("minilm", "gpl3"); }
TEST(TokenizerReference, MiniLmOnTrickyText) { expect_reference_ids("minilm", "tricky"); }
TEST(TokenizerReference, Gpt2OnGplText) { expect_reference_ids("gpt2", "gpl3"); }
TEST(TokenizerReference, Gpt2OnTrickyText) { expect_reference_ids("gpt2", "tricky"); }
TEST(TokenizerReference, SmallBpeOnGplText) { expect_reference_ids("bpe_small", "gpl3"); }
TEST(TokenizerReference, SmallBpeOnTrickyText) { expect_reference_ids("bpe_small", "tricky"); }
TEST(TokenizerReference, MiniLmOnLongRuns) { expect_reference_ids("minilm", "runs"); }
TEST(TokenizerReference, Gpt2OnLongRuns) { expect_reference_ids("gpt2", "runs"); }
TEST(TokenizerReference, SmallBpeOnLongRuns) { expect_reference_ids("bpe_small", "runs"); }
TEST(TokenizerReference, MiniLmOnRandomText) { expect_reference_ids("minilm", "random"); }
TEST(TokenizerReference, Gpt2OnRandomText) { expect_reference_ids("gpt2", "random"); }
TEST(TokenizerReference, SmallBpeOnRandomText) { expect_reference_ids("bpe_small", "random"); }

// ---- hand-checked cases on small tokenizer files written here ------------------------------

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            fmt::format("attncert_tokenizer_test_{}_{}.json", ::getpid(), counter++);
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { fs::remove(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

json small_word_piece(const json& normalizer) {
  json vocab = json::object();
  const std::vector<std::string> tokens = {"[UNK]", "[CLS]", "[SEP]",  "un",   "##aff", "##able",
                                           "cafe",  ",",     "!",      "中",   "文",    "aaaa",
                                           "##a",   "a",     "[MASK]", "naive"};
  for (std::size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return {
      {"added_tokens",
       {{{"id", 14},
         {"content", "[MASK]"},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", false},
         {"special", true}}}},
      {"normalizer", normalizer},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "[CLS]"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"SpecialToken", {{"id", "[SEP]"}, {"type_id", 0}}}}}},
        {"special_tokens",
         {{"[CLS]", {{"id", "[CLS]"}, {"ids", {1}}, {"tokens", {"[CLS]"}}}},
          {"[SEP]", {{"id", "[SEP]"}, {"ids", {2}}, {"tokens", {"[SEP]"}}}}}}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", "[UNK]"},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 10},
        {"vocab", vocab}}},
  };
}

const json kBertNormalizer = {{"type", "BertNormalizer"},
                              {"clean_text", true},
                              {"handle_chinese_chars", true},
                              {"strip_accents", nullptr},
                              {"lowercase", true}};

std::vector<TokenId> encode_with(const json& file, std::string_view text) {
  TempFile temp(file.dump());
  return load_tokenizer(temp.path())->encode(text);
}

TEST(WordPiece, GreedyLongestMatchWithContinuationPrefix) {
  // un ##aff ##able; a word with a piece outside the vocabulary is one [UNK].
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "unaffable"),
            (std::vector<TokenId>{1, 3, 4, 5, 2}));
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "unaffablex"),
            (std::vector<TokenId>{1, 0, 2}));
  // "aaaaa": longest first ("aaaa"), then "##a".
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "aaaaa"),
            (std::vector<TokenId>{1, 11, 12, 2}));
}

TEST(WordPiece, WordsLongerThanTheLimitAreUnknown) {
  // max_input_chars_per_word is 10: ten a's are split, eleven are [UNK].
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "aaaaaaaaaa aaaaaaaaaaa"),
            (std::vector<TokenId>{1, 11, 12, 12, 12, 12, 12, 12, 0, 2}));
}

TEST(WordPiece, NormalizerLowercasesStripsAccentsSplitsPunctuationAndChinese) {
  // "CAFÉ" → "cafe" (NFD + Mn dropped, then lower-cased); punctuation alone; each CJK
  // ideograph a word; control characters dropped; tabs are spaces.
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "CAFÉ,\x01Naïve!\t中文"),
            (std::vector<TokenId>{1, 6, 7, 15, 8, 9, 10, 2}));
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "UNABLE"),
            (std::vector<TokenId>{1, 3, 5, 2}));
  // Without a normalizer nothing is lower-cased: "CAFE" is unknown.
  EXPECT_EQ(encode_with(small_word_piece(nullptr), "CAFE cafe"),
            (std::vector<TokenId>{1, 0, 6, 2}));
  // strip_accents false: "café" keeps its accent and is unknown.
  json keep_accents = kBertNormalizer;
  keep_accents["strip_accents"] = false;
  EXPECT_EQ(encode_with(small_word_piece(keep_accents), "café cafe"),
            (std::vector<TokenId>{1, 0, 6, 2}));
}

TEST(WordPiece, EmptyOrBlankTextIsTheTemplateAlone) {
  // The reference gives [CLS] [SEP] for "", "   " and a lone control character; refusing an
  // empty text is the caller's decision, not the tokenizer's.
  for (std::string_view text : {"", "   ", "\x01"}) {
    EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), text), (std::vector<TokenId>{1, 2}));
  }
  EXPECT_TRUE(encode_with(small_bpe(), "").empty());
}

TEST(WordPiece, MarksPunctuationAndControlsAreThoseOfUnicode8) {
  // The reference's BERT pieces use Unicode 8.0 tables: U+08E3 (Mn, 8.0) is stripped, U+08D4
  // (Mn, 9.0) is kept; U+2E42 (Ps, 7.0) splits a word, U+061D (Po, 14.0) does not; U+08E2 (Cf,
  // 9.0) is not removed as a control character.
  TempFile temp(small_word_piece(kBertNormalizer).dump());
  const auto tokenizer = load_tokenizer(temp.path());
  const auto& word_piece = dynamic_cast<const WordPieceTokenizer&>(*tokenizer);
  EXPECT_EQ(word_piece.normalize(U"a\u08E3b\u08D4c\u08E2"), std::u32string(U"ab\u08D4c\u08E2"));
  EXPECT_EQ(tokenizer->encode("a\u2E42b"), (std::vector<TokenId>{1, 13, 0, 0, 2}));
  EXPECT_EQ(tokenizer->encode("a\u061Db"), (std::vector<TokenId>{1, 0, 2}));
}

TEST(WordPiece, AddedTokensMatchInTheRawText) {
  // "[MASK]" is matched before normalisation (lower-casing would break it), "[mask]" is not.
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "un[MASK]cafe"),
            (std::vector<TokenId>{1, 3, 14, 6, 2}));
  EXPECT_EQ(encode_with(small_word_piece(kBertNormalizer), "[mask]"),
            (std::vector<TokenId>{1, 0, 0, 0, 2}));
}

TEST(WordPiece, FileTruncationAndPaddingAreNotApplied) {
  json file = small_word_piece(kBertNormalizer);
  file["truncation"] = {{"max_length", 4}, {"strategy", "LongestFirst"}, {"stride", 0}};
  file["padding"] = {{"strategy", {{"Fixed", 16}}}, {"pad_id", 0}};
  EXPECT_EQ(encode_with(file, "cafe cafe cafe cafe cafe").size(), 7u);
}

TEST(ByteLevelBpe, MergesApplyByRank) {
  // "abc": (a,b) has rank 0 < (b,c) rank 3, so a b → ab, then ab c → abc.
  EXPECT_EQ(encode_with(small_bpe(), "abc"), (std::vector<TokenId>{257}));
  // "bc" alone merges by its own rule; " a" is one piece "Ġa"; é is two bytes, no merge.
  const auto ids = encode_with(small_bpe(), "bc a\xc3\xa9");
  TempFile temp(small_bpe().dump());
  const auto tokenizer = load_tokenizer(temp.path());
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], 259);
  EXPECT_EQ(ids[1], 258);
  // The two bytes of é: token strings "Ã" and "©" in GPT-2's alphabet, bytes C3 A9.
  EXPECT_EQ(tokenizer->token(ids[2]), "Ã");
  EXPECT_EQ(tokenizer->token(ids[3]), "©");
  const auto& bpe = dynamic_cast<const ByteLevelBpeTokenizer&>(*tokenizer);
  EXPECT_EQ(bpe.token_bytes(ids[2]) + bpe.token_bytes(ids[3]), "\xc3\xa9");
  // The added token is matched whole.
  EXPECT_EQ(encode_with(small_bpe(), "ab<|endoftext|>c"), (std::vector<TokenId>{256, 260, 99}));
}

// Random text from a mix of the classes the pipelines treat differently.
std::string random_text(std::mt19937_64& rng) {
  static const std::vector<std::pair<char32_t, char32_t>> ranges = {
      {0x20, 0x7E},     {0x00, 0x1F},     {0xA0, 0xFF},       {0x300, 0x36F},   {0x391, 0x3C9},
      {0x4E00, 0x4E40}, {0xAC00, 0xAC20}, {0x1F600, 0x1F64F}, {0x2000, 0x200F}, {0x3000, 0x3003}};
  std::uniform_int_distribution<std::size_t> length(0, 60), range(0, ranges.size() - 1);
  std::u32string text;
  for (std::size_t i = length(rng); i > 0; --i) {
    const auto& [lo, hi] = ranges[range(rng)];
    text.push_back(std::uniform_int_distribution<char32_t>(lo, hi)(rng));
  }
  return unicode::encode_utf8(text);
}

TEST(ByteLevelBpe, RandomTextRoundTripsThroughTheTokenBytes) {
  // Byte-level BPE loses nothing: the tokens' bytes, concatenated, are the text again.
  const std::uint64_t seed = 20261203;  // fixed; a failure prints it with the text
  SCOPED_TRACE("seed = " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto tokenizer = load_tokenizer(kFixtures / "tokenizer_bpe_small.json");
  const auto& bpe = dynamic_cast<const ByteLevelBpeTokenizer&>(*tokenizer);
  TempFile word_piece_file(small_word_piece(kBertNormalizer).dump());
  const auto word_piece = load_tokenizer(word_piece_file.path());
  for (int trial = 0; trial < 2000; ++trial) {
    const std::string text = random_text(rng);
    std::string round_trip;
    for (TokenId id : bpe.encode(text)) round_trip += bpe.token_bytes(id);
    ASSERT_EQ(round_trip, text) << "trial " << trial;
    for (TokenId id : word_piece->encode(text)) {
      ASSERT_LT(static_cast<std::size_t>(id), word_piece->vocab_size()) << "trial " << trial;
    }
  }
}

std::vector<std::string> pieces_of(std::string_view text) {
  const std::u32string wide = unicode::decode_utf8(text);
  std::vector<std::string> out;
  for (std::u32string_view piece : ByteLevelBpeTokenizer::split_pieces(wide)) {
    out.push_back(unicode::encode_utf8(piece));
  }
  return out;
}

TEST(ByteLevelBpe, Gpt2SplitRegex) {
  using Pieces = std::vector<std::string>;
  EXPECT_EQ(pieces_of("Hello  world"), (Pieces{"Hello", " ", " world"}));
  EXPECT_EQ(pieces_of("it's they'LL we've"),
            (Pieces{"it", "'s", " they", "'", "LL", " we", "'ve"}));
  EXPECT_EQ(pieces_of("x = 3.14!!\n\n  y"),
            (Pieces{"x", " =", " 3", ".", "14", "!!", "\n\n ", " y"}));
  EXPECT_EQ(pieces_of("end   "), (Pieces{"end", "   "}));
  EXPECT_EQ(pieces_of("a\tb"), (Pieces{"a", "\t", "b"}));
  EXPECT_EQ(pieces_of("naïve日本 ٣٤"), (Pieces{"naïve日本", " ٣٤"}));
}

// ---- Unicode helpers ------------------------------------------------------------------------

TEST(Unicode, DecompositionOrderingAndLowercase) {
  std::u32string out;
  unicode::append_nfd(U"é한", out);  // é → e + U+0301; Hangul syllable → three jamo
  EXPECT_EQ(out, std::u32string(U"e\u0301\u1112\u1161\u11AB"));
  out.clear();
  unicode::append_nfd(U"q\u0307\u0323", out);  // dot below (220) before dot above (230)
  EXPECT_EQ(out, std::u32string(U"q\u0323\u0307"));
  out.clear();
  unicode::append_lowercase(U'\u0130', out);  // İ → i + combining dot above
  unicode::append_lowercase(U'Σ', out);       // no final-sigma context per character
  unicode::append_lowercase(U'Ⅻ', out);
  EXPECT_EQ(out, std::u32string(U"i\u0307σⅻ"));
  EXPECT_TRUE(unicode::is_letter(U'中'));
  EXPECT_TRUE(unicode::is_number(U'٣'));
  EXPECT_TRUE(unicode::is_punctuation(U'«'));
  EXPECT_FALSE(unicode::is_punctuation(U'$'));
  EXPECT_TRUE(unicode::is_other(U'\u200b'));
  EXPECT_FALSE(unicode::is_other(U'\u0378'));  // unassigned: Cn is not "other" here
  EXPECT_TRUE(unicode::is_white_space(U'\u3000'));
  EXPECT_FALSE(unicode::is_white_space(U'\u200b'));
  std::cout << "Unicode tables: version " << unicode::unicode_version() << "\n";
}

TEST(Unicode, Utf8RoundTripsAndRefusesInvalidBytes) {
  const std::string text = "a\u00e9\u4e2d\U0001F600";
  EXPECT_EQ(unicode::encode_utf8(unicode::decode_utf8(text)), text);
  for (const std::string& bad :
       {std::string("ab\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\xe4\xb8")}) {
    try {
      unicode::decode_utf8(bad);
      ADD_FAILURE() << "accepted invalid UTF-8 "
                    << json(bad).dump(-1, ' ', true, json::error_handler_t::replace);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte"), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

// ---- bad input: one line naming the file and the field --------------------------------------

std::string load_error(const std::string& contents) {
  TempFile temp(contents);
  try {
    load_tokenizer(temp.path());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(temp.path().string()), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "loaded without error: " << contents.substr(0, 200);
  return "";
}

TEST(TokenizerBadInput, OneLineErrorsNameTheFileAndField) {
  EXPECT_NE(load_error("{\"model\": {\"type\": \"WordPiece\",").find("not valid JSON"),
            std::string::npos);
  json unigram = small_word_piece(kBertNormalizer);
  unigram["model"]["type"] = "Unigram";
  EXPECT_NE(load_error(unigram.dump()).find("field model.type: unsupported model type \"Unigram\""),
            std::string::npos);
  json no_vocab = small_word_piece(kBertNormalizer);
  no_vocab["model"].erase("vocab");
  EXPECT_NE(load_error(no_vocab.dump()).find("field model.vocab: missing"), std::string::npos);
  json no_merges = small_bpe();
  no_merges["model"].erase("merges");
  EXPECT_NE(load_error(no_merges.dump()).find("field model.merges: missing"), std::string::npos);
  json bad_unk = small_word_piece(kBertNormalizer);
  bad_unk["model"]["unk_token"] = "[NOPE]";
  EXPECT_NE(load_error(bad_unk.dump()).find("field model.unk_token"), std::string::npos);
  json huge_id = small_word_piece(kBertNormalizer);
  huge_id["model"]["vocab"]["un"] = 2147483647;  // would size the id table at 2^31 strings
  EXPECT_NE(load_error(huge_id.dump()).find("field model.vocab[\"un\"]"), std::string::npos);
  json lstrip = small_word_piece(kBertNormalizer);
  lstrip["added_tokens"][0]["lstrip"] = true;
  EXPECT_NE(load_error(lstrip.dump()).find("field added_tokens[0].lstrip"), std::string::npos);
  json dropout = small_bpe();
  dropout["model"]["dropout"] = 0.1;
  EXPECT_NE(load_error(dropout.dump()).find("field model.dropout"), std::string::npos);
  json bad_merge = small_bpe();
  bad_merge["model"]["merges"].push_back("x y");
  EXPECT_NE(load_error(bad_merge.dump()).find("field model.merges[4]"), std::string::npos);
  json metaspace = small_bpe();
  metaspace["pre_tokenizer"]["type"] = "Metaspace";
  EXPECT_NE(load_error(metaspace.dump()).find("field pre_tokenizer.type"), std::string::npos);
  EXPECT_NE(load_error("[1, 2]").find("top level is not an object"), std::string::npos);
  json duplicate_id = small_word_piece(kBertNormalizer);
  duplicate_id["model"]["vocab"]["un"] = duplicate_id["model"]["vocab"]["##aff"];
  const std::string duplicate = load_error(duplicate_id.dump());
  EXPECT_NE(duplicate.find("is also the id of"), std::string::npos) << duplicate;
  json ignore_merges = small_bpe();
  ignore_merges["model"]["ignore_merges"] = true;
  EXPECT_NE(load_error(ignore_merges.dump()).find("field model.ignore_merges"), std::string::npos);
  ignore_merges["model"]["ignore_merges"] = false;  // the default behaviour: accepted
  EXPECT_NO_THROW(load_tokenizer(TempFile(ignore_merges.dump()).path()));
  try {
    load_tokenizer(kFixtures);
    ADD_FAILURE() << "read a directory as a tokenizer.json";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }

  try {
    load_tokenizer(kFixtures / "no_such_tokenizer.json");
    ADD_FAILURE() << "opened a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_tokenizer.json: cannot open"), std::string::npos);
  }
}

TEST(TokenizerBadInput, InvalidUtf8TextIsOneLine) {
  TempFile temp(small_word_piece(kBertNormalizer).dump());
  const auto tokenizer = load_tokenizer(temp.path());
  try {
    tokenizer->encode("caf\xe9 au lait");  // Latin-1 é
    ADD_FAILURE() << "encoded invalid UTF-8";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "text: invalid UTF-8 at byte 3 (0xE9): lead byte not followed by continuation "
                 "bytes");
  }
}

}  // namespace
}  // namespace attncert::models
