#include "process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace weft::testing {

Result<std::uint16_t> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Unavailable(std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return Status::Unavailable("no free port: " + err);
  }
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

Result<std::string> MakeTempDir(const std::string& parent,
                                const std::string& prefix) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  std::string tmpl = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    return Status::Unavailable("mkdtemp " + tmpl + ": " + std::strerror(errno));
  return std::string(buf.data());
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool IsRoot() { return ::geteuid() == 0; }

Result<pid_t> Spawn(const std::vector<std::string>& argv,
                    const SpawnOptions& options) {
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_user = options.user.has_value() && IsRoot();
  if (switch_user) {
    passwd* pw = ::getpwnam(options.user->c_str());
    if (pw == nullptr) return Status::NotFound("no user " + *options.user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string log = options.log_path.empty() ? "/dev/null" : options.log_path;
  pid_t parent = ::getpid();
  // The child's environment, built before fork (no allocation after it).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& extra : options.env)
      if (extra.substr(0, extra.find('=')) == name) replaced = true;
    if (!replaced) env_strings.push_back(entry);
  }
  for (const auto& extra : options.env) env_strings.push_back(extra);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0)
    return Status::Unavailable(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (fd > 2) ::close(fd);
    }
    int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, 0);
    ::setsid();
    if (switch_user) {
      if (::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    }
    // After setuid: changing credentials clears the parent-death signal.
    ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    if (::getppid() != parent) ::_exit(125);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

Result<int> RunToCompletion(const std::vector<std::string>& argv,
                            const SpawnOptions& options) {
  auto pid = Spawn(argv, options);
  if (!pid.ok()) return pid.status();
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Internal("waitpid failed");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

Result<int> RunWithStdinLine(const std::vector<std::string>& argv,
                             const std::string& line, SpawnOptions options) {
  std::vector<std::string> sh = {"/bin/sh", "-c",
                                 "printf '%s\\n' \"$WEFT_STDIN_LINE\" | "
                                 "\"$0\" \"$@\""};
  sh.insert(sh.end(), argv.begin(), argv.end());
  options.env.push_back("WEFT_STDIN_LINE=" + line);
  return RunToCompletion(sh, options);
}

bool HasExited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

int StopProcess(pid_t pid, int signo, std::chrono::milliseconds grace) {
  ::kill(pid, signo);
  auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return status;
}

Status ChownTree(const std::string& path, const std::string& user) {
  if (!IsRoot()) return Status::Ok();
  passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) return Status::NotFound("no user " + user);
  std::error_code ec;
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    return Status::Unavailable("chown " + path + ": " + std::strerror(errno));
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (::lchown(it->path().c_str(), pw->pw_uid, pw->pw_gid) != 0)
      return Status::Unavailable("chown " + it->path().string());
  }
  return Status::Ok();
}

}  // namespace weft::testing
