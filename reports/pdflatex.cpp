#include "reports/pdflatex.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace attncert::latex {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// Runs argv in `directory` with stdin from /dev/null and stdout+stderr to `output_path`.
// Returns the exit status (or -1 when the program could not be started or was killed).
int run_in_directory(const std::vector<std::string>& argv, const std::string& directory,
                     const std::string& output_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (::chdir(directory.c_str()) != 0) ::_exit(127);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<std::string> find_program(const std::string& program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    return is_executable_file(program) ? std::optional<std::string>(program) : std::nullopt;
  }
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    const std::string dir = path.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') {  // relative PATH entries depend on the cwd: skip them
      const std::string candidate = dir + "/" + program;
      if (is_executable_file(candidate)) return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string first_latex_error(const std::string& log_text) {
  std::istringstream in(log_text);
  std::string line, error;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (error.empty()) {
      if (line.rfind("! ", 0) == 0) error = line;
      continue;
    }
    if (line.rfind("l.", 0) == 0 && line.size() > 2 && std::isdigit(static_cast<unsigned char>(line[2]))) {
      return error + " [" + line + "]";
    }
  }
  return error;
}

PdflatexRun run_pdflatex(const std::string& pdflatex, const std::string& directory,
                         const std::string& tex_file, int passes, const std::string& definitions) {
  PdflatexRun run;
  std::string stem = tex_file;
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".tex") == 0) stem.resize(stem.size() - 4);
  run.log_path = directory + "/" + stem + ".log";
  const std::string console = directory + "/" + stem + ".console";
  for (int pass = 1; pass <= passes; ++pass) {
    std::vector<std::string> argv = {pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                                     "-no-shell-escape"};
    if (definitions.empty()) {
      argv.push_back(tex_file);
    } else {
      argv.push_back("-jobname=" + stem);
      argv.push_back(definitions + "\\input{" + tex_file + "}");
    }
    const int status = run_in_directory(argv, directory, console);
    if (status != 0) {
      std::string error = first_latex_error(read_text(run.log_path));
      if (error.empty()) {
        error = status == 127 || status == -1
                    ? fmt::format("could not run {} in {}", pdflatex, directory)
                    : fmt::format("{} exited with status {} and no error line in {}", pdflatex,
                                  status, run.log_path);
      }
      run.error = fmt::format("pdflatex pass {}: {}", pass, error);
      return run;
    }
  }
  std::remove(console.c_str());
  run.ok = true;
  return run;
}

}  // namespace attncert::latex
