#include "reports/temporary_path.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "reports/errno_text.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kNameAttempts = 100;
constexpr std::size_t kSuffixDigits = 16;  // random_hex(), and report_directory's aside names

// The temporaries to remove on an interrupt. Never destroyed: the watcher thread may use it
// while static destructors run at exit.
struct Registry {
  std::mutex mutex;
  std::set<std::string> paths;
  sigset_t watched{};
};

Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

void add_to_registry(const fs::path& p) { registry().paths.insert(p.string()); }
void remove_from_registry(const fs::path& p) { registry().paths.erase(p.string()); }

// Normal thread context (not a signal handler), so std::filesystem is safe here. The main
// thread may still be writing into a directory being removed: a few attempts catch files it
// adds meanwhile; whatever remains is stale for the next run.
[[noreturn]] void watch_interrupts() {
  Registry& r = registry();
  int sig = 0;
  while (::sigwait(&r.watched, &sig) != 0) {
  }
  r.mutex.lock();  // never released: the process ends below
  for (const std::string& p : r.paths) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::error_code ec;
      fs::remove_all(p, ec);
      if (!fs::exists(fs::symlink_status(p, ec))) break;
    }
  }
  ::signal(sig, SIG_DFL);
  sigset_t only{};
  sigemptyset(&only);
  sigaddset(&only, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
  ::raise(sig);        // ends the process by that signal
  ::_exit(128 + sig);  // unreachable unless the default action was changed meanwhile
}

// A forked child has no watcher thread: it must receive the signals normally (before exec too).
void unblock_in_child() { ::pthread_sigmask(SIG_UNBLOCK, &registry().watched, nullptr); }

std::string random_hex() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

fs::path temporary_name(const fs::path& target) {
  return target.parent_path() /
         fmt::format("{}.tmp-{}-{}", target.filename().string(), ::getpid(), random_hex());
}

}  // namespace

void install_interrupt_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    Registry& r = registry();
    sigemptyset(&r.watched);
    for (int sig : kInterruptSignals) {
      struct sigaction current {};
      // Inherited "ignore" (nohup, `cmd &` in a non-interactive shell) is the caller's wish:
      // blocking such a signal would queue it for sigwait and end the run after all.
      if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
      sigaddset(&r.watched, sig);
    }
    if (sigisemptyset(&r.watched)) return;  // all ignored: nothing to watch
    ::pthread_sigmask(SIG_BLOCK, &r.watched, nullptr);
    ::pthread_atfork(nullptr, nullptr, unblock_in_child);
    std::thread(watch_interrupts).detach();
  });
}

std::unique_lock<std::mutex> hold_interrupt_cleanup() {
  return std::unique_lock<std::mutex>(registry().mutex);
}

std::optional<pid_t> temporary_owner(std::string_view name, std::string_view prefix,
                                     std::string_view marker) {
  const std::string head = fmt::format("{}.{}-", prefix, marker);
  if (name.size() <= head.size() || name.substr(0, head.size()) != head) return std::nullopt;
  const std::string_view rest = name.substr(head.size());
  long long pid = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc() || end == rest.data() || end == rest.data() + rest.size() || *end != '-' ||
      pid <= 0 || pid > std::numeric_limits<pid_t>::max()) {
    return std::nullopt;
  }
  // Exactly the suffix our names get (16 lowercase hex digits): whatever is found is removed
  // whole, so a user's "out.tmp-2024-draft" must not match.
  const std::string_view suffix = rest.substr(static_cast<std::size_t>(end - rest.data()) + 1);
  if (suffix.size() != kSuffixDigits ||
      suffix.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return static_cast<pid_t>(pid);
}

bool is_dead_process(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

void remove_stale_temporaries(const fs::path& target) {
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = target.filename().string();
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::optional<pid_t> owner = temporary_owner(it->path().filename().string(), prefix);
    if (owner && *owner != ::getpid() && is_dead_process(*owner)) {
      std::error_code ignored;  // another run may be removing it too
      fs::remove_all(it->path(), ignored);
    }
  }
}

TemporaryFile::TemporaryFile(const fs::path& target) : target_(target) {
  const auto hold = hold_interrupt_cleanup();  // created and registered as one step
  for (int attempt = 0; attempt < kNameAttempts && fd_ < 0; ++attempt) {
    path_ = temporary_name(target);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) {
      const int err = errno;
      const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
      throw std::runtime_error(fmt::format("{}: cannot create a file in {}: {}", target.string(),
                                           dir.string(), errno_text(err)));
    }
  }
  if (fd_ < 0)
    throw std::runtime_error(fmt::format("{}: no free temporary name beside it", target.string()));
  add_to_registry(path_);
}

TemporaryFile::~TemporaryFile() {
  if (fd_ >= 0) ::close(fd_);
  if (path_.empty()) return;
  const auto hold = hold_interrupt_cleanup();
  ::unlink(path_.c_str());
  remove_from_registry(path_);
}

void TemporaryFile::write_and_close(std::string_view content) {
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      throw std::runtime_error(
          fmt::format("{}: write failed: {}", target_.string(), errno_text(err)));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // A crash right after the rename must not leave an empty file under the final name.
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    const int err = errno;
    throw std::runtime_error(
        fmt::format("{}: cannot flush to disk: {}", target_.string(), errno_text(err)));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    throw std::runtime_error(
        fmt::format("{}: write failed on close: {}", target_.string(), errno_text(err)));
  }
}

void TemporaryFile::commit() {
  const auto hold = hold_interrupt_cleanup();
  // Checked again right before the rename: the target may have become a device, FIFO or link
  // while the content was written, and rename() would replace it with no questions.
  struct stat st {};
  if (::lstat(target_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw std::runtime_error(
        fmt::format("{}: is no longer a regular file; not replaced", target_.string()));
  }
  if (::rename(path_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    throw std::runtime_error(
        fmt::format("{}: cannot rename into place: {}", target_.string(), errno_text(err)));
  }
  remove_from_registry(path_);
  path_.clear();
}

TemporaryDirectory::TemporaryDirectory(const fs::path& target) {
  const auto hold = hold_interrupt_cleanup();
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const fs::path candidate = temporary_name(target);
    if (::mkdir(candidate.c_str(), 0777) == 0) {
      path_ = candidate;
      owned_ = true;
      add_to_registry(path_);
      return;
    }
    if (errno != EEXIST) {
      const int err = errno;
      throw std::runtime_error(fmt::format("{}: cannot write in {}: {}", target.string(),
                                           target.parent_path().string(), errno_text(err)));
    }
  }
  throw std::runtime_error(fmt::format("{}: no free temporary name beside it", target.string()));
}

TemporaryDirectory::~TemporaryDirectory() {
  if (!owned_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  const auto hold = hold_interrupt_cleanup();
  remove_from_registry(path_);
}

void TemporaryDirectory::keep() {
  const auto hold = hold_interrupt_cleanup();
  remove_from_registry(path_);
  owned_ = false;
}

void TemporaryDirectory::release() {
  // The caller holds hold_interrupt_cleanup() (see the header), so no lock here.
  remove_from_registry(path_);
  owned_ = false;
}

}  // namespace attncert
