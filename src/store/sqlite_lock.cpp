#include "store/sqlite_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace weft::store {

namespace {

std::string ReadHolder(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
    pid.pop_back();
  }
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<SqliteStoreLock> SqliteStoreLock::Acquire(
    const std::string& store_path) {
  std::string path = store_path + ".lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  bool writable = fd >= 0;
  if (fd < 0 && errno == EACCES) {
    // Made by another user (say, `sudo weft restore`): flock needs only a
    // descriptor, so the lock holds; the pid just is not written.
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    return Status::Unavailable("cannot open " + path + ": " +
                               std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = ReadHolder(fd);
    close(fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          "another process (pid " + holder + ") is using the store " +
          store_path + " (" + path +
          " is locked): stop the other weftd, or give this one its own "
          "--data-dir");
    }
    return Status::Unavailable("cannot lock " + path + ": " +
                               std::strerror(err));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  // The pid is for the operator and the error above; the lock holds
  // without it.
  if (writable && ftruncate(fd, 0) == 0) {
    (void)!pwrite(fd, pid.data(), pid.size(), 0);
  }
  return SqliteStoreLock(fd);
}

SqliteStoreLock::SqliteStoreLock(SqliteStoreLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

SqliteStoreLock& SqliteStoreLock::operator=(SqliteStoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

SqliteStoreLock::~SqliteStoreLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace weft::store
