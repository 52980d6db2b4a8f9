// Temporaries beside an output: names carry the pid, and SIGTERM/SIGINT remove them before the
// process ends by that signal. The interrupt tests run in forked children, so this binary's
// own process never installs the watcher (a child must be the first to install it).
#include "reports/temporary_path.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "tests/reports/scratch_directory_test_support.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

TEST(TemporaryOwner, ParsesThePidOfItsOwnNamesOnly) {
  EXPECT_EQ(temporary_owner("rep.tmp-123-0123456789abcdef", "rep"), 123);
  EXPECT_EQ(temporary_owner("rep.old-77-0123456789abcdef", "rep", "old"), 77);
  EXPECT_EQ(temporary_owner("rep.old-77-0123456789abcdef", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("report.tmp-123-0123456789abcdef", "rep"), std::nullopt);
  // Only our own suffix (16 lowercase hex digits): a user's "rep.tmp-2024-draft" is not ours.
  EXPECT_EQ(temporary_owner("rep.tmp-2024-draft", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-123-abc", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-123-0123456789ABCDEF", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-123-0123456789abcdef0", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-123-0123456789abcdef.bak", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-123", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp--5-x", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-0-x", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-99999999999999999999-x", "rep"), std::nullopt);
  EXPECT_EQ(temporary_owner("rep.tmp-XXXXXX", "rep"), std::nullopt);  // the old mkdtemp names
}

// Stale-temporary cleanup removes whole directories: a user's file or directory whose name
// merely looks like one of ours (a dead pid, a suffix of their own) must survive it.
TEST(RemoveStaleTemporaries, LeavesTheUsersLookalikeNamesAlone) {
  test::ScratchDirectory tmp;
  const std::string dead = std::to_string(test::dead_pid());
  const fs::path user_dir = tmp.path() / ("out.csv.tmp-" + dead + "-backup");
  const fs::path user_file = tmp.path() / ("out.csv.tmp-" + dead + "-0123456789abcdef.orig");
  const fs::path ours = tmp.path() / ("out.csv.tmp-" + dead + "-0123456789abcdef");
  fs::create_directories(user_dir);
  std::ofstream(user_dir / "notes.txt") << "mine";
  std::ofstream(user_file) << "mine";
  std::ofstream(ours) << "half";
  remove_stale_temporaries(tmp.path() / "out.csv");
  EXPECT_TRUE(fs::exists(user_dir / "notes.txt"));
  EXPECT_TRUE(fs::exists(user_file));
  EXPECT_FALSE(fs::exists(ours));
}

TEST(TemporaryDirectory, IsRemovedUnlessKept) {
  test::ScratchDirectory tmp;
  fs::path made;
  {
    TemporaryDirectory d(tmp.path() / "rep");
    made = d.path();
    EXPECT_EQ(temporary_owner(made.filename().string(), "rep"), ::getpid());
    std::ofstream(made / "file") << "x";
  }
  EXPECT_FALSE(fs::exists(made));
  {
    TemporaryDirectory d(tmp.path() / "rep");
    made = d.path();
    d.keep();
  }
  EXPECT_TRUE(fs::is_directory(made));
}

// A child installs the watcher, makes a temporary directory and file, says so on a pipe and
// waits; the signal must remove both and end the child by that very signal.
void expect_interrupt_removes_temporaries(int sig) {
  test::ScratchDirectory tmp;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::signal(sig, SIG_DFL);  // ctest may start us with SIGINT ignored; a user's Ctrl-C is not
    install_interrupt_cleanup();
    TemporaryDirectory dir(tmp.path() / "rep");
    std::ofstream(dir.path() / "partial.tex") << "half";
    TemporaryFile file(tmp.path() / "results.jsonl");
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_FALSE(fs::is_empty(tmp.path()));
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
  EXPECT_TRUE(fs::is_empty(tmp.path())) << "a temporary survived the signal";
}

// The watched signals are blocked for the watcher's sake; a forked child (pdflatex) has no
// watcher and must get them unblocked, or SIGTERM could never stop it.
TEST(InterruptCleanup, ForkedChildrenHaveTheSignalsUnblocked) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);  // not inherited as ignored
    install_interrupt_cleanup();
    sigset_t here{};
    ::pthread_sigmask(SIG_BLOCK, nullptr, &here);
    if (!sigismember(&here, SIGTERM)) ::_exit(2);  // the watcher's own precondition
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      sigset_t mask{};
      ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      ::_exit(sigismember(&mask, SIGINT) || sigismember(&mask, SIGTERM) ||
                      sigismember(&mask, SIGHUP)
                  ? 1
                  : 0);
    }
    int status = 0;
    ::waitpid(grandchild, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 3);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: blocked in the forked child; 2: not blocked in the parent";
}

TEST(InterruptCleanup, SigtermRemovesTemporariesAndEndsTheProcessBySigterm) {
  expect_interrupt_removes_temporaries(SIGTERM);
}

TEST(InterruptCleanup, SigintRemovesTemporariesAndEndsTheProcessBySigint) {
  expect_interrupt_removes_temporaries(SIGINT);
}

}  // namespace
}  // namespace attncert
