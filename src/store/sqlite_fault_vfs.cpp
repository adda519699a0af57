#include "store/sqlite_fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/check.h"
#include "store/sqlite_vfs_shim.h"

namespace weft::store::testing {
namespace {

// One remembered change: restoring `old` at `offset` and truncating to
// `old_size` undoes it.
struct Undo {
  sqlite3_int64 offset;
  std::string old;
  sqlite3_int64 old_size;
  long seq;  // the file's count of changes when it was made
};

// What the "disk" knows of one file, shared by every handle open on it: an
// fsync through any descriptor makes every write to the file durable, not
// only the writes made through that descriptor (SQLite relies on this: a
// checkpoint syncs the WAL through the checkpointing connection's handle
// before it copies frames that another connection wrote).
// An orphan (unnamed, deleted, or removed behind the VFS's back) cannot be
// reached by its name after a power loss, so its writes are not undone.
struct Inode {
  std::string path;              // empty: an unnamed temporary file
  std::vector<Undo> undo;        // unsynced changes, oldest first
  long changes = 0;              // writes and truncates so far
  bool header_unsynced = false;  // WAL: its header written since a sync
  long header_writes = 0;        // WAL: writes to its header so far
  int handles = 0;               // open handles
  bool orphan = false;  // deleted or unnamed: freed with its last handle
  // A named file's identity when it was first opened: a file removed and
  // made again behind the VFS's back (a test's temporary directory) is
  // another file, and the old one's undo records must not touch it.
  std::string id;
};

// A file's identity: device, inode and, where the file system records it,
// birth time (ext4 hands a removed file's inode number to the next file).
// Empty when the file cannot be examined.
std::string FileId(int dirfd, const char* path, int flags) {
  struct statx st {};
  if (::statx(dirfd, path, flags, STATX_INO | STATX_BTIME, &st) != 0) {
    return {};
  }
  std::string id = std::to_string(st.stx_dev_major) + ":" +
                   std::to_string(st.stx_dev_minor) + ":" +
                   std::to_string(st.stx_ino);
  if ((st.stx_mask & STATX_BTIME) != 0) {
    id += ":" + std::to_string(st.stx_btime.tv_sec) + "." +
          std::to_string(st.stx_btime.tv_nsec);
  }
  return id;
}

struct State;

struct File {
  vfs_shim::FileHead head;  // must be first
  State* state;             // the VFS it was opened through
  Inode* inode;             // owned by State::inodes, or by its handles
  bool wal;                 // opened as a WAL file
};

struct State {
  std::mutex mu;
  bool crashed = false;
  long syncs = 0;
  long wal_writes = 0;
  bool fail_next_wal_write = false;
  bool fail_next_wal_sync = false;
  long wal_header_writes = 0;
  long frames_under_unsynced_header = 0;
  std::chrono::milliseconds wal_sync_delay{0};
  std::map<std::string, Inode*> inodes;  // by path; not orphans
  vfs_shim::VfsHead head{};
  sqlite3_vfs vfs{};
  sqlite3_io_methods methods{};
  std::unique_ptr<FaultVfs> owner;
};

std::map<std::string, std::unique_ptr<State>>& Registry() {
  static auto* r = new std::map<std::string, std::unique_ptr<State>>();
  return *r;
}

State* StateOf(sqlite3_vfs* vfs) {
  return static_cast<State*>(vfs_shim::Head(vfs)->owner);
}

sqlite3_int64 RealSize(File* f) {
  sqlite3_int64 size = 0;
  f->head.real->pMethods->xFileSize(f->head.real, &size);
  return size;
}

// Remembers the bytes [offset, offset + n) and the size before a change
// (of a named file: an orphan's are never undone).
void Remember(File* f, sqlite3_int64 offset, sqlite3_int64 n) {
  if (f->inode->orphan) return;
  sqlite3_int64 size = RealSize(f);
  Undo u{offset, {}, size, f->inode->changes++};
  if (offset < size) {
    sqlite3_int64 len = std::min(n, size - offset);
    u.old.resize(static_cast<std::size_t>(len));
    int rc = f->head.real->pMethods->xRead(f->head.real, u.old.data(),
                                           static_cast<int>(len), offset);
    WEFT_CHECK(rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ);
  }
  f->inode->undo.push_back(std::move(u));
}

// Undoes a named file's unsynced changes, newest first, through its path
// (whatever mode its handles were opened in). A failed undo stops the
// test: it would leave writes that a power loss takes away.
void DropUnsynced(Inode* inode) {
  if (inode->undo.empty()) return;
  int fd = ::open(inode->path.c_str(), O_RDWR);
  if (fd >= 0 && FileId(fd, "", AT_EMPTY_PATH) == inode->id) {
    for (auto it = inode->undo.rbegin(); it != inode->undo.rend(); ++it) {
      if (!it->old.empty()) {
        WEFT_CHECK(::pwrite(fd, it->old.data(), it->old.size(), it->offset) ==
                   static_cast<ssize_t>(it->old.size()));
      }
      WEFT_CHECK(::ftruncate(fd, it->old_size) == 0);
    }
  }  // else removed or replaced behind the VFS's back: nothing to undo
  if (fd >= 0) ::close(fd);
  inode->undo.clear();
}

int Close(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  State* s = f->state;
  std::lock_guard<std::mutex> lock(s->mu);
  int rc = f->head.real->pMethods->xClose(f->head.real);
  // Closing does not sync: the inode keeps its unsynced changes (and the
  // crash undoes them through the path) unless nothing can reach it.
  Inode* i = f->inode;
  if (--i->handles == 0 && (i->orphan || i->undo.empty())) {
    if (!i->orphan) s->inodes.erase(i->path);
    delete i;
  }
  return rc;
}

int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 off) {
  File* f = reinterpret_cast<File*>(file);
  State* s = f->state;
  std::lock_guard<std::mutex> lock(s->mu);
  return f->head.real->pMethods->xRead(f->head.real, buf, n, off);
}

int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 off) {
  File* f = reinterpret_cast<File*>(file);
  State* s = f->state;
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_WRITE;
  if (f->wal && s->fail_next_wal_write) {
    s->fail_next_wal_write = false;
    return SQLITE_IOERR_WRITE;
  }
  Remember(f, off, n);
  if (f->wal) {
    Inode* i = f->inode;
    ++s->wal_writes;
    // A WAL's header is its first 32 bytes (wal.c: WAL_HDRSIZE).
    if (off < 32) ++s->wal_header_writes;
    if ((off < 32 && off + n > 32) || (off >= 32 && i->header_unsynced)) {
      ++s->frames_under_unsynced_header;
    }
    if (off < 32) {
      i->header_unsynced = true;
      ++i->header_writes;
    }
  }
  return f->head.real->pMethods->xWrite(f->head.real, buf, n, off);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = reinterpret_cast<File*>(file);
  State* s = f->state;
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_TRUNCATE;
  sqlite3_int64 old = RealSize(f);
  if (size < old) Remember(f, size, old - size);
  return f->head.real->pMethods->xTruncate(f->head.real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = reinterpret_cast<File*>(file);
  State* s = f->state;
  // A sync makes durable what was written to the file (through any handle)
  // before it was called: writes made while it is delayed stay undoable.
  long covered;  // changes before this one are made durable by it
  long header_writes;
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    covered = f->inode->changes;
    header_writes = f->inode->header_writes;
    delay = f->wal ? s->wal_sync_delay : std::chrono::milliseconds(0);
  }
  std::this_thread::sleep_for(delay);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_FSYNC;
  if (f->wal && s->fail_next_wal_sync) {
    s->fail_next_wal_sync = false;
    return SQLITE_IOERR_FSYNC;
  }
  int rc = f->head.real->pMethods->xSync(f->head.real, flags);
  if (rc == SQLITE_OK) {
    Inode* i = f->inode;
    std::erase_if(i->undo, [&](const Undo& u) { return u.seq < covered; });
    if (i->header_writes == header_writes) i->header_unsynced = false;
    ++s->syncs;
  }
  return rc;
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  State* s = StateOf(vfs);
  File* f = reinterpret_cast<File*>(file);
  f->head.real = vfs_shim::RealFileAfter(file, sizeof(File));
  f->head.base.pMethods = nullptr;
  int rc =
      s->head.real->xOpen(s->head.real, name, f->head.real, flags, out_flags);
  if (rc != SQLITE_OK || f->head.real->pMethods == nullptr) {
    return rc;
  }
  f->state = s;
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    std::string id = name == nullptr ? "" : FileId(AT_FDCWD, name, 0);
    if (id.empty()) {
      // Unnamed (a temporary file), or already gone: nobody else can reach
      // it by its name.
      f->inode = new Inode();
      f->inode->orphan = true;
    } else {
      Inode*& i = s->inodes[name];
      if (i != nullptr && i->id != id) {
        // The file it tracked was removed behind the VFS's back.
        if (i->handles == 0) {
          delete i;
        } else {
          i->orphan = true;
        }
        i = nullptr;
      }
      if (i == nullptr) {
        i = new Inode();
        i->path = name;
        i->id = id;
      }
      f->inode = i;
    }
    ++f->inode->handles;
  }
  f->head.base.pMethods = &s->methods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  State* s = StateOf(vfs);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_DELETE;
  int rc = s->head.real->xDelete(s->head.real, name, sync_dir);
  if (rc != SQLITE_OK) return rc;
  // The file's unsynced changes go with it. (More lenient than a power
  // loss, which can bring back a file whose deletion was not synced to its
  // directory (sync_dir 0). SQLite deletes a WAL only after a complete,
  // synced checkpoint, so what such a file held is in the database.)
  auto it = s->inodes.find(name);
  if (it != s->inodes.end()) {
    Inode* i = it->second;
    s->inodes.erase(it);
    i->undo.clear();
    if (i->handles == 0) {
      delete i;
    } else {
      i->orphan = true;
    }
  }
  return rc;
}
State* StateByName(const std::string& name) {
  return Registry().at(name).get();
}

// Runs f on the named VFS's state under its mutex.
template <typename F>
auto With(const std::string& name, F f) {
  State* s = StateByName(name);
  std::lock_guard<std::mutex> lock(s->mu);
  return f(*s);
}

}  // namespace

FaultVfs* FaultVfs::Get(const std::string& name) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& reg = Registry();
  auto it = reg.find(name);
  if (it != reg.end()) return it->second->owner.get();
  auto s = std::make_unique<State>();
  s->head.real = sqlite3_vfs_find(nullptr);
  WEFT_CHECK(s->head.real != nullptr);
  s->owner.reset(new FaultVfs(name));
  s->head.owner = s.get();
  s->methods = vfs_shim::PassThroughMethods();
  s->methods.xClose = Close;
  s->methods.xRead = Read;
  s->methods.xWrite = Write;
  s->methods.xTruncate = Truncate;
  s->methods.xSync = Sync;
  sqlite3_vfs& v = s->vfs;
  v = vfs_shim::PassThroughVfs(s->owner->name_.c_str(), &s->head,
                               static_cast<int>(sizeof(File)));
  v.xOpen = Open;
  v.xDelete = Delete;
  WEFT_CHECK(sqlite3_vfs_register(&v, 0) == SQLITE_OK);
  FaultVfs* out = s->owner.get();
  reg.emplace(name, std::move(s));
  return out;
}

void FaultVfs::Crash() {
  State* s = StateByName(name_);
  std::lock_guard<std::mutex> lock(s->mu);
  // Every named file loses its unsynced writes; those no handle holds have
  // nothing left to track.
  std::erase_if(s->inodes, [](const auto& entry) {
    DropUnsynced(entry.second);
    if (entry.second->handles > 0) return false;
    delete entry.second;
    return true;
  });
  s->crashed = true;
}

void FaultVfs::Reset() {
  With(name_, [](State& s) {
    s.crashed = false;
    s.fail_next_wal_write = false;
    s.fail_next_wal_sync = false;
    s.wal_sync_delay = std::chrono::milliseconds(0);
  });
}

long FaultVfs::syncs() const {
  return With(name_, [](State& s) { return s.syncs; });
}

void FaultVfs::SetWalSyncDelay(std::chrono::milliseconds delay) {
  With(name_, [&](State& s) { s.wal_sync_delay = delay; });
}

long FaultVfs::wal_header_writes() const {
  return With(name_, [](State& s) { return s.wal_header_writes; });
}

long FaultVfs::frames_under_unsynced_header() const {
  return With(name_, [](State& s) { return s.frames_under_unsynced_header; });
}

void FaultVfs::FailNextWalWrite() {
  With(name_, [](State& s) { s.fail_next_wal_write = true; });
}

void FaultVfs::FailNextWalSync() {
  With(name_, [](State& s) { s.fail_next_wal_sync = true; });
}

long FaultVfs::wal_writes() const {
  return With(name_, [](State& s) { return s.wal_writes; });
}

}  // namespace weft::store::testing
