// The report's output directory: only a real report is replaced (a fake one-line run.json or a
// report with the user's own file in it is refused, and the files survive), the swap is one
// step with renameat2 and never leaves neither without it, a replacement a dead run left half
// done is repaired, stale staging directories of dead runs go, and a run holding the directory
// keeps a second one out.
#include "reports/report_directory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/reports/scratch_directory_test_support.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

// What build_report writes, reduced to what recognition looks at.
void fill_like_a_report(const fs::path& dir, const std::string& tex) {
  std::ofstream(dir / "run.json")
      << R"({"generator": "attncert report", "version": "test", "seed": 1, "mode": "quick"})"
      << "\n";
  std::ofstream(dir / "report.tex") << tex;
  fs::create_directories(dir / "data");
  std::ofstream(dir / "data" / "x.csv") << "a,b\r\n";
}

void make_report(const fs::path& out, const std::string& tex) {
  ReportDirectory d(out.string());
  fill_like_a_report(d.staging(), tex);
  d.commit();
}

std::size_t entries_in(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(ReportDirectory, CreatesAndReplacesAReportLeavingNothingBeside) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  make_report(out, "first");
  EXPECT_EQ(test::read_file(out / "report.tex"), "first");
  EXPECT_EQ(test::read_file(out / kReportMarkerFile), kReportMarkerLine);
  EXPECT_EQ(why_not_replaceable(out), "");
  make_report(out, "second");
  EXPECT_EQ(test::read_file(out / "report.tex"), "second");
  EXPECT_EQ(entries_in(tmp.path()), 1u);
}

// The old check read one field: a one-line run.json made any directory "a report", and the
// user's files in it were deleted by the replacement.
TEST(ReportDirectory, AFakeRunJsonDoesNotMakeADirectoryAReport) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "mine";
  fs::create_directories(out);
  std::ofstream(out / "run.json") << R"({"generator": "attncert report"})";
  std::ofstream(out / "thesis.tex") << "my work";
  try {
    make_report(out, "new");
    FAIL() << "must refuse";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("is not a report written by attncert (no .attncert-report marker)"),
              std::string::npos)
        << msg;
  }
  EXPECT_EQ(test::read_file(out / "thesis.tex"), "my work");
  EXPECT_EQ(entries_in(tmp.path()), 1u);  // no staging directory left either
}

// A hostile directory whose marker or run.json is a FIFO: recognition must refuse it at once,
// not block forever opening the FIFO for reading.
TEST(ReportDirectory, AFifoInPlaceOfTheMarkerOrRunJsonIsRefusedWithoutHanging) {
  for (const char* name : {kReportMarkerFile, "run.json"}) {
    test::ScratchDirectory tmp;
    const fs::path out = tmp.path() / "rep";
    make_report(out, "x");
    fs::remove(out / name);
    ASSERT_EQ(::mkfifo((out / name).c_str(), 0600), 0);
    auto why = std::async(std::launch::async, [&out] { return why_not_replaceable(out); });
    if (why.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      // Unblock the reader so the test ends, then fail.
      const int fd = ::open((out / name).c_str(), O_WRONLY);
      if (fd >= 0) ::close(fd);
      why.wait();
      FAIL() << name << " as a FIFO: recognition blocked";
    }
    EXPECT_FALSE(why.get().empty()) << name;
  }
}

TEST(ReportDirectory, AReportWithTheUsersOwnFileInItIsNotReplaced) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  make_report(out, "first");
  std::ofstream(out / "notes.txt") << "mine";
  EXPECT_EQ(why_not_replaceable(out), "it holds 'notes.txt', which a report does not");
  EXPECT_THROW(make_report(out, "second"), std::runtime_error);
  EXPECT_EQ(test::read_file(out / "notes.txt"), "mine");
  EXPECT_EQ(test::read_file(out / "report.tex"), "first");
  // A marker with the wrong line, or a run.json missing a field, is not a report either.
  fs::remove(out / "notes.txt");
  std::ofstream(out / kReportMarkerFile) << "attncert report directory, format 0\n";
  EXPECT_EQ(why_not_replaceable(out), "no .attncert-report marker");
  std::ofstream(out / kReportMarkerFile) << kReportMarkerLine;
  std::ofstream(out / "run.json")
      << R"({"generator": "attncert report", "version": "test", "mode": "quick"})";
  EXPECT_EQ(why_not_replaceable(out), "its run.json is not one written by attncert report");
}

// OUT is checked when the run starts, but the user may create it (or add a file to the old
// report) while the report is built: the final swap must not delete those files.
TEST(ReportDirectory, FilesTheUserPutAtOutDuringTheRunSurvive) {
  for (const bool existed : {false, true}) {
    test::ScratchDirectory tmp;
    const fs::path out = tmp.path() / "rep";
    if (existed) make_report(out, "first");
    ReportDirectory d(out.string());
    fill_like_a_report(d.staging(), "second");
    fs::create_directories(out);
    std::ofstream(out / "notes.txt") << "mine";
    try {
      d.commit();
      FAIL() << "must refuse (existed " << existed << ")";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("changed while the report was built"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(test::read_file(out / "notes.txt"), "mine");
    if (existed) EXPECT_EQ(test::read_file(out / "report.tex"), "first");
    // The new report is kept for the user, not lost.
    EXPECT_EQ(test::read_file(d.staging() / "report.tex"), "second");
  }
}

TEST(ReportDirectory, RefusesASymbolicLinkAndAFile) {
  test::ScratchDirectory tmp;
  fs::create_directories(tmp.path() / "real");
  fs::create_directory_symlink(tmp.path() / "real", tmp.path() / "link");
  std::ofstream(tmp.path() / "file") << "x";
  EXPECT_THROW(make_report(tmp.path() / "link", "x"), std::runtime_error);
  EXPECT_THROW(make_report(tmp.path() / "file", "x"), std::runtime_error);
  EXPECT_TRUE(fs::is_symlink(tmp.path() / "link"));
  EXPECT_TRUE(fs::is_empty(tmp.path() / "real"));
  EXPECT_EQ(test::read_file(tmp.path() / "file"), "x");
}

// Without RENAME_EXCHANGE (a filesystem lacking it) the fallback renames the old report aside
// first; the result is the same and nothing is left beside.
TEST(ReplaceDirectory, FallbackWithoutExchangeReplacesToo) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  make_report(out, "first");
  {
    TemporaryDirectory staging(out);
    fill_like_a_report(staging.path(), "second");
    replace_directory(staging, out, /*exchange=*/false);
  }
  EXPECT_EQ(test::read_file(out / "report.tex"), "second");
  EXPECT_EQ(entries_in(tmp.path()), 1u);
  {  // and creating a new one
    TemporaryDirectory staging(tmp.path() / "new");
    fill_like_a_report(staging.path(), "third");
    replace_directory(staging, tmp.path() / "new", /*exchange=*/false);
  }
  EXPECT_EQ(test::read_file(tmp.path() / "new" / "report.tex"), "third");
}

// A run killed between the fallback's two renames leaves OUT missing and the previous report
// at OUT.old-<pid>-*: the next run puts it back before anything else, so there is never
// neither. With OUT present, such a leftover is the old copy and goes.
TEST(ReplaceDirectory, AReplacementADeadRunLeftHalfDoneIsRepaired) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  make_report(out, "previous");
  const fs::path aside =
      tmp.path() / ("rep.old-" + std::to_string(test::dead_pid()) + "-00000000deadbeef");
  fs::rename(out, aside);
  recover_interrupted_replacement(out);
  EXPECT_EQ(test::read_file(out / "report.tex"), "previous");
  EXPECT_FALSE(fs::exists(aside));

  fs::create_directories(aside);
  std::ofstream(aside / "report.tex") << "older";
  recover_interrupted_replacement(out);
  EXPECT_EQ(test::read_file(out / "report.tex"), "previous");
  EXPECT_FALSE(fs::exists(aside));
}

// The repair renames or removes OUT.old-<pid>-*: a user's own "rep.old-2024-notes" beside the
// report looks alike but is not ours, whether OUT is there or not.
TEST(ReplaceDirectory, RepairLeavesTheUsersLookalikeDirectoriesAlone) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  const fs::path users = tmp.path() / ("rep.old-" + std::to_string(test::dead_pid()) + "-notes");
  fs::create_directories(users);
  std::ofstream(users / "report.tex") << "mine";
  recover_interrupted_replacement(out);  // OUT missing: must not become the user's directory
  EXPECT_FALSE(fs::exists(out));
  make_report(out, "x");  // OUT present: must not remove it
  EXPECT_EQ(test::read_file(users / "report.tex"), "mine");
  EXPECT_EQ(test::read_file(out / "report.tex"), "x");
}

// OUT appearing (or vanishing) between the final rename's "is it there?" and renameat2 makes
// the swap fail. A thread creating and removing OUT hits that window many times; each run must
// end with a result or an error that keeps the new report, never hang. In a child with an
// alarm, so a hang fails the test instead of blocking it.
TEST(ReplaceDirectory, OutAppearingDuringTheRenameNeverHangs) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::alarm(30);  // SIGALRM's default action ends a hung child
    std::atomic<bool> stop{false};
    std::thread toggler([&] {
      while (!stop) {
        ::mkdir(out.c_str(), 0700);
        ::rmdir(out.c_str());
      }
    });
    int appeared = 0, failed = 0;
    for (int i = 0; i < 3000; ++i) {
      fs::path kept;
      std::string message;
      {
        TemporaryDirectory staging(out);
        std::ofstream(staging.path() / "report.tex") << "x";
        try {
          replace_directory(staging, out);
          std::error_code ec;
          fs::remove_all(out, ec);
        } catch (const std::runtime_error& e) {
          message = e.what();
          kept = staging.path();
        }
      }
      if (kept.empty()) continue;
      ++failed;
      if (message.find("appeared while") != std::string::npos) ++appeared;
      // Whatever the failure (OUT appeared, or vanished before the swap), the new report is
      // kept where the message says.
      if (!fs::exists(kept / "report.tex") || message.find(kept.string()) == std::string::npos) {
        std::printf("new report lost: %s\n", message.c_str());
        std::fflush(stdout);
        ::_exit(1);
      }
      std::error_code ec;
      fs::remove_all(kept, ec);
    }
    stop = true;
    toggler.join();
    std::printf("swap failed %d times, %d of them as OUT appeared\n", failed, appeared);
    std::fflush(stdout);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the child hung or failed (status " << status << ")";
}

TEST(ReportDirectory, StaleStagingDirectoriesOfDeadRunsGo) {
  test::ScratchDirectory tmp;
  const fs::path stale =
      tmp.path() / ("rep.tmp-" + std::to_string(test::dead_pid()) + "-0123456789abcdef");
  fs::create_directories(stale / "data");
  std::ofstream(stale / "report.tex") << "half";
  make_report(tmp.path() / "rep", "x");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(entries_in(tmp.path()), 1u);
}

TEST(ReportDirectory, ASecondRunOnTheSameDirectoryIsRefused) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "rep";
  make_report(out, "first");
  ReportDirectory running(out.string());
  try {
    make_report(out, "second");
    FAIL() << "must refuse";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is in use by another attncert run"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(test::read_file(out / "report.tex"), "first");
}

}  // namespace
}  // namespace attncert
