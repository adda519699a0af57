#include "store/sqlite_fault_vfs.h"

#include <sqlite3.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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

struct File {
  vfs_shim::FileHead head;  // must be first
  std::vector<Undo>* undo;  // owned; unsynced changes, oldest first
  bool wal;                 // opened as a WAL file
  bool header_unsynced;     // WAL: its header written since the last sync
  long header_writes;       // WAL: writes to its header so far
  long changes;             // writes and truncates so far
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
  std::set<File*> open_files;
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

State* StateOfFile(File* f);
std::map<File*, State*>& FileStates() {
  static auto* m = new std::map<File*, State*>();
  return *m;
}
std::mutex& FileStatesMu() {
  static auto* m = new std::mutex();
  return *m;
}
State* StateOfFile(File* f) {
  std::lock_guard<std::mutex> lock(FileStatesMu());
  return FileStates().at(f);
}

sqlite3_int64 RealSize(File* f) {
  sqlite3_int64 size = 0;
  f->head.real->pMethods->xFileSize(f->head.real, &size);
  return size;
}

// Remembers the bytes [offset, offset + n) and the size before a change.
void Remember(File* f, sqlite3_int64 offset, sqlite3_int64 n) {
  sqlite3_int64 size = RealSize(f);
  Undo u{offset, {}, size, f->changes++};
  if (offset < size) {
    sqlite3_int64 len = std::min(n, size - offset);
    u.old.resize(static_cast<std::size_t>(len));
    int rc = f->head.real->pMethods->xRead(f->head.real, u.old.data(),
                                           static_cast<int>(len), offset);
    WEFT_CHECK(rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ);
  }
  f->undo->push_back(std::move(u));
}

void DropUnsynced(File* f) {
  for (auto it = f->undo->rbegin(); it != f->undo->rend(); ++it) {
    if (!it->old.empty()) {
      f->head.real->pMethods->xWrite(f->head.real, it->old.data(),
                                     static_cast<int>(it->old.size()),
                                     it->offset);
    }
    f->head.real->pMethods->xTruncate(f->head.real, it->old_size);
  }
  f->undo->clear();
}

int Close(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  int rc;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->open_files.erase(f);
    rc = f->head.real->pMethods->xClose(f->head.real);
    delete f->undo;
  }
  std::lock_guard<std::mutex> lock(FileStatesMu());
  FileStates().erase(f);
  return rc;
}

int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 off) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  return f->head.real->pMethods->xRead(f->head.real, buf, n, off);
}

int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 off) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_WRITE;
  if (f->wal && s->fail_next_wal_write) {
    s->fail_next_wal_write = false;
    return SQLITE_IOERR_WRITE;
  }
  Remember(f, off, n);
  if (f->wal) {
    ++s->wal_writes;
    // A WAL's header is its first 32 bytes (wal.c: WAL_HDRSIZE).
    if (off < 32) ++s->wal_header_writes;
    if ((off < 32 && off + n > 32) || (off >= 32 && f->header_unsynced)) {
      ++s->frames_under_unsynced_header;
    }
    if (off < 32) {
      f->header_unsynced = true;
      ++f->header_writes;
    }
  }
  return f->head.real->pMethods->xWrite(f->head.real, buf, n, off);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_TRUNCATE;
  sqlite3_int64 old = RealSize(f);
  if (size < old) Remember(f, size, old - size);
  return f->head.real->pMethods->xTruncate(f->head.real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  // A sync makes durable what was written before it was called: writes
  // made while it is delayed stay undoable.
  long covered;  // changes before this one are made durable by it
  long header_writes;
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    covered = f->changes;
    header_writes = f->header_writes;
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
    std::erase_if(*f->undo, [&](const Undo& u) { return u.seq < covered; });
    if (f->header_writes == header_writes) f->header_unsynced = false;
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
  f->undo = new std::vector<Undo>();
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->header_unsynced = false;
  f->header_writes = 0;
  f->changes = 0;
  {
    std::lock_guard<std::mutex> lock(FileStatesMu());
    FileStates()[f] = s;
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->open_files.insert(f);
  }
  f->head.base.pMethods = &s->methods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  State* s = StateOf(vfs);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->crashed) return SQLITE_IOERR_DELETE;
  }
  return s->head.real->xDelete(s->head.real, name, sync_dir);
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
  for (File* f : s->open_files) DropUnsynced(f);
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
