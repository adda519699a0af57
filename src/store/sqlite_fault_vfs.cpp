#include "store/sqlite_fault_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "common/check.h"

namespace weft::store::testing {
namespace {

// One remembered change: restoring `old` at `offset` and truncating to
// `old_size` undoes it.
struct Undo {
  sqlite3_int64 offset;
  std::string old;
  sqlite3_int64 old_size;
};

struct File {
  sqlite3_file base;  // must be first
  sqlite3_file* real;
  std::vector<Undo>* undo;  // owned; unsynced changes, oldest first
};

struct State {
  std::mutex mu;
  bool crashed = false;
  long syncs = 0;
  std::set<File*> open_files;
  sqlite3_vfs* real = nullptr;
  sqlite3_vfs vfs{};
  sqlite3_io_methods methods{};
  std::unique_ptr<FaultVfs> owner;
};

std::map<std::string, std::unique_ptr<State>>& Registry() {
  static auto* r = new std::map<std::string, std::unique_ptr<State>>();
  return *r;
}

State* StateOf(sqlite3_vfs* vfs) { return static_cast<State*>(vfs->pAppData); }

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
  f->real->pMethods->xFileSize(f->real, &size);
  return size;
}

// Remembers the bytes [offset, offset + n) and the size before a change.
void Remember(File* f, sqlite3_int64 offset, sqlite3_int64 n) {
  sqlite3_int64 size = RealSize(f);
  Undo u{offset, {}, size};
  if (offset < size) {
    sqlite3_int64 len = std::min(n, size - offset);
    u.old.resize(static_cast<std::size_t>(len));
    int rc = f->real->pMethods->xRead(f->real, u.old.data(),
                                      static_cast<int>(len), offset);
    WEFT_CHECK(rc == SQLITE_OK || rc == SQLITE_IOERR_SHORT_READ);
  }
  f->undo->push_back(std::move(u));
}

void DropUnsynced(File* f) {
  for (auto it = f->undo->rbegin(); it != f->undo->rend(); ++it) {
    if (!it->old.empty()) {
      f->real->pMethods->xWrite(f->real, it->old.data(),
                                static_cast<int>(it->old.size()), it->offset);
    }
    f->real->pMethods->xTruncate(f->real, it->old_size);
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
    rc = f->real->pMethods->xClose(f->real);
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
  return f->real->pMethods->xRead(f->real, buf, n, off);
}

int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 off) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_WRITE;
  Remember(f, off, n);
  return f->real->pMethods->xWrite(f->real, buf, n, off);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_TRUNCATE;
  sqlite3_int64 old = RealSize(f);
  if (size < old) Remember(f, size, old - size);
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = reinterpret_cast<File*>(file);
  State* s = StateOfFile(f);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->crashed) return SQLITE_IOERR_FSYNC;
  int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK) {
    f->undo->clear();
    ++s->syncs;
  }
  return rc;
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xFileSize(f->real, size);
}
int Lock(sqlite3_file* file, int l) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xLock(f->real, l);
}
int Unlock(sqlite3_file* file, int l) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xUnlock(f->real, l);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
int SectorSize(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xSectorSize(f->real);
}
int DeviceCharacteristics(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}
int ShmMap(sqlite3_file* file, int page, int size, int extend,
           void volatile** out) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  f->real->pMethods->xShmBarrier(f->real);
}
int ShmUnmap(sqlite3_file* file, int del) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmUnmap(f->real, del);
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  State* s = StateOf(vfs);
  File* f = reinterpret_cast<File*>(file);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) +
                                            sizeof(File));
  f->base.pMethods = nullptr;
  int rc = s->real->xOpen(s->real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) {
    return rc;
  }
  f->undo = new std::vector<Undo>();
  {
    std::lock_guard<std::mutex> lock(FileStatesMu());
    FileStates()[f] = s;
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->open_files.insert(f);
  }
  f->base.pMethods = &s->methods;
  return rc;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  State* s = StateOf(vfs);
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->crashed) return SQLITE_IOERR_DELETE;
  }
  return s->real->xDelete(s->real, name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  State* s = StateOf(vfs);
  return s->real->xAccess(s->real, name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  State* s = StateOf(vfs);
  return s->real->xFullPathname(s->real, name, n, out);
}
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  State* s = StateOf(vfs);
  return s->real->xRandomness(s->real, n, out);
}
int Sleep(sqlite3_vfs* vfs, int us) {
  State* s = StateOf(vfs);
  return s->real->xSleep(s->real, us);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  State* s = StateOf(vfs);
  return s->real->xCurrentTime(s->real, out);
}
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  State* s = StateOf(vfs);
  return s->real->xGetLastError(s->real, n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  State* s = StateOf(vfs);
  return s->real->xCurrentTimeInt64(s->real, out);
}

State* StateByName(const std::string& name) {
  return Registry().at(name).get();
}

}  // namespace

FaultVfs* FaultVfs::Get(const std::string& name) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& reg = Registry();
  auto it = reg.find(name);
  if (it != reg.end()) return it->second->owner.get();
  auto s = std::make_unique<State>();
  s->real = sqlite3_vfs_find(nullptr);
  WEFT_CHECK(s->real != nullptr);
  s->owner.reset(new FaultVfs(name));
  sqlite3_io_methods& m = s->methods;
  m.iVersion = 2;  // no memory-mapped I/O: every write goes through Write
  m.xClose = Close;
  m.xRead = Read;
  m.xWrite = Write;
  m.xTruncate = Truncate;
  m.xSync = Sync;
  m.xFileSize = FileSize;
  m.xLock = Lock;
  m.xUnlock = Unlock;
  m.xCheckReservedLock = CheckReservedLock;
  m.xFileControl = FileControl;
  m.xSectorSize = SectorSize;
  m.xDeviceCharacteristics = DeviceCharacteristics;
  m.xShmMap = ShmMap;
  m.xShmLock = ShmLock;
  m.xShmBarrier = ShmBarrier;
  m.xShmUnmap = ShmUnmap;
  sqlite3_vfs& v = s->vfs;
  v.iVersion = 2;
  v.szOsFile = static_cast<int>(sizeof(File)) + s->real->szOsFile;
  v.mxPathname = s->real->mxPathname;
  v.zName = s->owner->name_.c_str();
  v.pAppData = s.get();
  v.xOpen = Open;
  v.xDelete = Delete;
  v.xAccess = Access;
  v.xFullPathname = FullPathname;
  v.xRandomness = Randomness;
  v.xSleep = Sleep;
  v.xCurrentTime = CurrentTime;
  v.xGetLastError = GetLastError;
  v.xCurrentTimeInt64 = CurrentTimeInt64;
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
  State* s = StateByName(name_);
  std::lock_guard<std::mutex> lock(s->mu);
  s->crashed = false;
}

long FaultVfs::syncs() const {
  State* s = StateByName(name_);
  std::lock_guard<std::mutex> lock(s->mu);
  return s->syncs;
}

}  // namespace weft::store::testing
