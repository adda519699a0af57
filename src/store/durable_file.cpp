#include "store/durable_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace weft::store {

Result<bool> Exists(const std::string& path) {
  std::error_code ec;
  bool there = std::filesystem::exists(path, ec);
  if (ec)
    return Status::Unavailable("cannot look at " + path + ": " + ec.message());
  return there;
}

Status Sync(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::Unavailable("cannot open " + path + ": " +
                               std::strerror(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return Status::Unavailable("fsync " + path + ": " + std::strerror(err));
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

Status NameWithoutReplacing(const std::string& from, const std::string& to,
                            const std::string& what) {
  auto taken = [&] {
    return Status::AlreadyExists(what + " target " + to + " exists");
  };
  if (::link(from.c_str(), to.c_str()) == 0) return Status::Ok();
  int err = errno;
  if (err == EEXIST) return taken();
  if (err != EPERM && err != ENOTSUP && err != ENOSYS && err != EOPNOTSUPP &&
      err != EMLINK) {
    return Status::Unavailable("cannot name the " + what + " " + to + ": " +
                               std::strerror(err));
  }
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE) == 0) {
    return Status::Ok();
  }
  err = errno;
  if (err == EEXIST) return taken();
  if (err != EINVAL && err != ENOSYS) {
    return Status::Unavailable("cannot name the " + what + " " + to + ": " +
                               std::strerror(err));
  }
  auto there = Exists(to);
  if (!there.ok()) return there.status();
  if (*there) return taken();
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec) {
    return Status::Unavailable("cannot name the " + what + " " + to + ": " +
                               ec.message());
  }
  return Status::Ok();
}

Status WriteNewFile(const std::string& path, const std::string& bytes,
                    const std::string& what) {
  auto there = Exists(path);
  if (!there.ok()) return there.status();
  if (*there)
    return Status::AlreadyExists(what + " target " + path + " exists");
  std::string tmp = path + ".partial-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return Status::Unavailable("cannot create a file beside " + path + ": " +
                               std::strerror(errno));
  }
  // Every failure says why (errno) and leaves no file of ours behind.
  auto failed = [&](const std::string& why) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Unavailable(why);
  };
  ::fchmod(fd, 0644);  // mkstemp makes it 0600; a document file is not secret
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;  // nothing written and no reason given
    if (n <= 0) {
      return failed("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return failed("cannot fsync " + tmp + ": " + std::strerror(errno));
  }
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0)
    return failed("cannot close " + tmp + ": " + std::strerror(errno));
  Status named = NameWithoutReplacing(tmp, path, what);
  if (!named.ok()) {
    ::unlink(tmp.c_str());
    return named;
  }
  ::unlink(tmp.c_str());  // the hard link's other name (gone after a rename)
  return Sync(DirectoryOf(path));
}

}  // namespace weft::store
