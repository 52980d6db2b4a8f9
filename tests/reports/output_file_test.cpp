// write_file_atomically, check_output_file_target and OutputDirectoryLock: non-regular targets
// (FIFO, symbolic link, directory) are refused and left as they were, a planted temporary name
// is never followed, concurrent writers never mix their bytes, stale temporaries of dead runs
// go, errors carry the system's reason, and a locked directory refuses a second holder.
#include "reports/output_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "reports/temporary_path.hpp"
#include "tests/reports/scratch_directory_test_support.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CheckOutputFileTarget, AcceptsAbsentAndRegularFilesOnly) {
  test::ScratchDirectory tmp;
  EXPECT_NO_THROW(check_output_file_target(tmp.path() / "absent.csv", "--out"));
  std::ofstream(tmp.path() / "regular.csv") << "x";
  EXPECT_NO_THROW(check_output_file_target(tmp.path() / "regular.csv", "--out"));
  ASSERT_EQ(::mkfifo((tmp.path() / "fifo").c_str(), 0600), 0);
  fs::create_symlink(tmp.path() / "regular.csv", tmp.path() / "link");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"fifo", "is a FIFO"}, {"link", "is a symbolic link"}, {"", "is a directory"}};
  for (const auto& [name, kind] : refused) {
    SCOPED_TRACE(name);
    try {
      check_output_file_target(tmp.path() / name, "--out");
      ADD_FAILURE() << "must refuse";
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("--out ", 0), 0u) << msg;
      EXPECT_NE(msg.find(kind + ", not a regular file"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

// The old writer replaced a FIFO or a symbolic link (as root: /dev/null) with a regular file.
TEST(WriteFileAtomically, LeavesNonRegularTargetsAlone) {
  test::ScratchDirectory tmp;
  const fs::path fifo = tmp.path() / "fifo", link = tmp.path() / "link",
                 victim = tmp.path() / "victim";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, link);
  EXPECT_THROW(write_file_atomically(fifo.string(), "data"), std::invalid_argument);
  EXPECT_THROW(write_file_atomically(link.string(), "data"), std::invalid_argument);
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(test::read_file(victim), "precious");
  EXPECT_EQ(names_in(tmp.path()), (std::vector<std::string>{"fifo", "link", "victim"}));
}

// The old writer opened PATH.tmp with O_TRUNC, following a symbolic link planted there.
// The target is checked when the write starts; one that becomes a FIFO (or device, link) while
// the content is written must not be replaced by the rename either.
TEST(TemporaryFile, ATargetThatStopsBeingARegularFileIsNotReplaced) {
  test::ScratchDirectory tmp;
  const fs::path target = tmp.path() / "out.csv";
  std::ofstream(target) << "old";
  {
    TemporaryFile file(target);
    file.write_and_close("new");
    fs::remove(target);
    ASSERT_EQ(::mkfifo(target.c_str(), 0600), 0);
    EXPECT_THROW(file.commit(), std::runtime_error);
  }
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(target)));
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"out.csv"}) << "a temporary is left";
}

TEST(WriteFileAtomically, NeverFollowsAPlantedTemporaryName) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "out.csv", victim = tmp.path() / "victim";
  std::ofstream(victim) << "precious";
  fs::create_symlink(victim, tmp.path() / "out.csv.tmp");
  write_file_atomically(out.string(), "new content");
  EXPECT_EQ(test::read_file(out), "new content");
  EXPECT_EQ(test::read_file(victim), "precious");
}

TEST(WriteFileAtomically, ReplacesARegularFileAndLeavesNoTemporary) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "out.csv";
  std::ofstream(out) << "old";
  write_file_atomically(out.string(), "new");
  EXPECT_EQ(test::read_file(out), "new");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"out.csv"});
}

// Errors name the system's reason (the old message could read "cannot rename into place: Success").
TEST(WriteFileAtomically, ErrorsNameTheSystemsReason) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "missing-dir" / "out.csv";
  try {
    write_file_atomically(out.string(), "x");
    FAIL() << "must fail";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(out.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("Success"), std::string::npos) << msg;
  }
}

// Several processes rewrite one file at once, each with its own content (distinct lengths, so a
// mix of two would show as a wrong length or foreign bytes): the file is always one of them,
// whole. The old writer shared PATH.tmp among them and truncated it under the others' feet.
TEST(WriteFileAtomically, ConcurrentWritersNeverMixTheirBytes) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "results.jsonl";
  constexpr int kWriters = 4, kRounds = 200;
  const auto content_of = [](int w) {
    return std::string(40000 + 1000 * w, static_cast<char>('a' + w));
  };
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int status = 0;
      try {
        for (int r = 0; r < kRounds; ++r) write_file_atomically(out.string(), content_of(w));
      } catch (const std::exception&) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  int seen_ok = 0;
  for (int check = 0; check < 200; ++check) {  // read while they write
    const std::string now = test::read_file(out);
    if (now.empty()) continue;  // not yet created
    bool whole = false;
    for (int w = 0; w < kWriters; ++w) whole = whole || now == content_of(w);
    EXPECT_TRUE(whole) << "mixed or partial content of " << now.size() << " bytes";
    seen_ok += whole;
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a writer failed";
  }
  const std::string last = test::read_file(out);
  bool whole = false;
  for (int w = 0; w < kWriters; ++w) whole = whole || last == content_of(w);
  EXPECT_TRUE(whole);
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"results.jsonl"});
}

TEST(WriteFileAtomically, RemovesStaleTemporariesOfDeadRunsOnly) {
  test::ScratchDirectory tmp;
  const fs::path out = tmp.path() / "out.csv";
  const std::string stale = "out.csv.tmp-" + std::to_string(test::dead_pid()) + "-0123456789abcdef";
  const std::string live = "out.csv.tmp-" + std::to_string(::getppid()) + "-0123456789abcdef";
  const std::string other =
      "other.csv.tmp-" + std::to_string(test::dead_pid()) + "-0123456789abcdef";
  for (const std::string& name : {stale, live, other})
    std::ofstream(tmp.path() / name) << "partial";
  write_file_atomically(out.string(), "x");
  // The live process's temporary and another target's stay (the latter goes with its own next
  // write).
  std::vector<std::string> expected = {other, "out.csv", live};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names_in(tmp.path()), expected);
}

TEST(OutputDirectoryLock, ASecondHolderIsRefusedUntilTheFirstIsGone) {
  test::ScratchDirectory tmp;
  const fs::path dir = tmp.path() / "out";
  {
    OutputDirectoryLock first(dir);  // creates the directory
    EXPECT_TRUE(fs::is_directory(dir));
    // Another open of the directory (as another run makes) conflicts even in this process.
    try {
      OutputDirectoryLock second(dir);
      FAIL() << "a second holder must be refused";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), dir.string() + ": is in use by another attncert run");
    }
    // And in another process.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        OutputDirectoryLock other(dir);
      } catch (const std::runtime_error&) {
        ::_exit(7);
      }
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << "the other process got the lock";
  }
  EXPECT_NO_THROW(OutputDirectoryLock again(dir));
}

TEST(OutputDirectoryLock, NamesTheReasonWhenTheDirectoryCannotBeMade) {
  test::ScratchDirectory tmp;
  std::ofstream(tmp.path() / "file") << "x";
  EXPECT_THROW(OutputDirectoryLock(tmp.path() / "file" / "out"), std::runtime_error);
}

}  // namespace
}  // namespace attncert
