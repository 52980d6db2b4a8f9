#include "reports/output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "reports/errno_text.hpp"
#include "reports/temporary_path.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "directory";
  if (S_ISLNK(mode)) return "symbolic link";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISSOCK(mode)) return "socket";
  return "special file";
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

void check_output_file_target(const fs::path& path, std::string_view what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent (or unreachable: the write will say why)
  if (S_ISREG(st.st_mode)) return;
  throw std::invalid_argument(
      fmt::format("{} {}: is a {}, not a regular file; name a file to create or replace", what,
                  path.string(), kind_of(st.st_mode)));
}

void check_output_file_writable(const fs::path& path, std::string_view what) {
  check_output_file_target(path, what);
  try {
    TemporaryFile probe(path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(
        fmt::format("{} {}", what, e.what()));  // "--out PATH: cannot create …"
  }
}

void write_file_atomically(const std::string& path, const std::string& content, StaleTemporaries stale) {
  check_output_file_target(path, "output file");
  if (stale == StaleTemporaries::Removed) remove_stale_temporaries(path);
  TemporaryFile tmp(path);
  tmp.write_and_close(content);
  tmp.commit();
}

OutputDirectoryLock::OutputDirectoryLock(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("{}: cannot create the directory: {}", dir.string(), ec.message()));
  // The directory may be replaced (renamed) by the run that holds it; a lock taken on the
  // replaced inode guards nothing, so lock, then check that the name still leads to it.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      throw std::runtime_error(
          fmt::format("{}: cannot open the directory: {}", dir.string(), errno_text(err)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        throw std::runtime_error(
            fmt::format("{}: is in use by another attncert run", dir.string()));
      }
      if (err == ENOLCK || err == EOPNOTSUPP || err == EINVAL || err == EBADF)
        return;  // no flock here
      throw std::runtime_error(
          fmt::format("{}: cannot lock the directory: {}", dir.string(), errno_text(err)));
    }
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(dir.c_str(), &named) == 0 && same_file(held, named)) {
      fd_ = fd;
      return;
    }
    ::close(fd);  // replaced meanwhile: lock the new one
  }
  throw std::runtime_error(fmt::format("{}: is in use by another attncert run", dir.string()));
}

OutputDirectoryLock::~OutputDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace attncert
