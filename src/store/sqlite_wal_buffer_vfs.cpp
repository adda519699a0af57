#include "store/sqlite_wal_buffer_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "common/check.h"
#include "store/sqlite_vfs_shim.h"

namespace weft::store {
namespace {

// Writes pending for one WAL file: `bytes` belong at `offset`.
struct Pending {
  sqlite3_int64 offset = 0;
  std::string bytes;
  // A failed write of buffered bytes: reported by every call until a sync
  // has reported it, so that the commit whose frames were lost fails at its
  // sync even when the flush ran in a call whose result SQLite ignores.
  int error = SQLITE_OK;
  // A sync of this file has succeeded (only later ones may be deferred).
  bool synced = false;
  // The WAL header was written and not synced since: SQLite syncs it before
  // the frames that follow a restart of the WAL, so that no frame of the new
  // WAL reaches the disk under the old header (a power loss could then
  // replay a stale prefix of the old WAL); that sync is never deferred.
  bool header_unsynced = false;
  // The first failed fsync of this file; every later sync fails with it
  // (RealSync). Written and read by whichever thread syncs.
  std::atomic<int> sync_error{SQLITE_OK};
};

// The size of a WAL file's header (wal.c: WAL_HDRSIZE).
constexpr sqlite3_int64 kWalHeaderSize = 32;

// Set by DeferWalSyncs on its thread.
thread_local DeferredWalSync* t_defer = nullptr;

// Flushed early past this size, to bound the memory of a huge transaction.
constexpr std::size_t kMaxPending = 4 << 20;

struct File {
  vfs_shim::FileHead head;  // must be first
  Pending* pending;         // owned; null unless the file is a WAL
};

File* Of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

// The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the
// length with 0x1ffff), so larger buffers go down in pieces.
constexpr std::size_t kMaxWrite = 64 << 10;

int Flush(File* f) {
  if (f->pending == nullptr) return SQLITE_OK;
  Pending& p = *f->pending;
  if (!p.bytes.empty()) {
    int rc = SQLITE_OK;
    for (std::size_t at = 0; at < p.bytes.size() && rc == SQLITE_OK;
         at += kMaxWrite) {
      std::size_t n = std::min(kMaxWrite, p.bytes.size() - at);
      rc = f->head.real->pMethods->xWrite(
          f->head.real, p.bytes.data() + at, static_cast<int>(n),
          p.offset + static_cast<sqlite3_int64>(at));
    }
    p.bytes.clear();
    if (p.error == SQLITE_OK) p.error = rc;
  }
  return p.error;
}

// Flushes, then runs `call` on the wrapped file.
template <typename Call>
int FlushThen(sqlite3_file* file, Call call) {
  int rc = Flush(Of(file));
  return rc != SQLITE_OK ? rc : call(vfs_shim::Real(file));
}

int Close(sqlite3_file* file) {
  File* f = Of(file);
  int flushed = Flush(f);
  int rc = f->head.real->pMethods->xClose(f->head.real);
  delete f->pending;
  f->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Write(sqlite3_file* file, const void* buf, int n, sqlite3_int64 off) {
  File* f = Of(file);
  if (f->pending == nullptr) {
    return f->head.real->pMethods->xWrite(f->head.real, buf, n, off);
  }
  Pending& p = *f->pending;
  if (!p.bytes.empty() &&
      off != p.offset + static_cast<sqlite3_int64>(p.bytes.size())) {
    int rc = Flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (off < kWalHeaderSize) p.header_unsynced = true;
  if (p.bytes.empty()) p.offset = off;
  p.bytes.append(static_cast<const char*>(buf), static_cast<std::size_t>(n));
  return p.bytes.size() >= kMaxPending ? Flush(f) : SQLITE_OK;
}

int Read(sqlite3_file* file, void* buf, int n, sqlite3_int64 off) {
  return FlushThen(file, [&](sqlite3_file* r) {
    return r->pMethods->xRead(r, buf, n, off);
  });
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return FlushThen(
      file, [&](sqlite3_file* r) { return r->pMethods->xTruncate(r, size); });
}
// Syncs the wrapped file. A WAL's first failure sticks: every later sync
// of the file fails with it. The kernel reports a failed writeback to one
// fsync only, and a WAL is read back in order, so a commit whose frames
// follow lost ones would be lost too, however well its own fsync went.
int RealSync(File* f, int flags) {
  Pending* p = f->pending;
  if (p != nullptr) {
    int failed = p->sync_error.load();
    if (failed != SQLITE_OK) return failed;
  }
  sqlite3_file* r = f->head.real;
  int rc = r->pMethods->xSync(r, flags);
  if (rc != SQLITE_OK && p != nullptr) {
    int ok = SQLITE_OK;
    p->sync_error.compare_exchange_strong(ok, rc);
  }
  return rc;
}

int Sync(sqlite3_file* file, int flags) {
  File* f = Of(file);
  Pending* p = f->pending;
  int rc = Flush(f);
  if (rc != SQLITE_OK) {
    // Reported (below); the sync does not run.
  } else if (p != nullptr && p->synced && !p->header_unsynced &&
             t_defer != nullptr && p->sync_error.load() == SQLITE_OK) {
    t_defer->flags.store(flags, std::memory_order_relaxed);
    t_defer->file.store(file, std::memory_order_release);
  } else {
    rc = RealSync(f, flags);
    if (p != nullptr && rc == SQLITE_OK) {
      p->synced = true;
      p->header_unsynced = false;
    }
  }
  if (p != nullptr) p->error = SQLITE_OK;  // reported
  return rc;
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return FlushThen(
      file, [&](sqlite3_file* r) { return r->pMethods->xFileSize(r, size); });
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return FlushThen(file, [&](sqlite3_file* r) {
    return r->pMethods->xFileControl(r, op, arg);
  });
}
struct Vfs {
  std::string name;
  vfs_shim::VfsHead head{};
  sqlite3_vfs vfs{};
  sqlite3_io_methods methods{};
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  auto* v = static_cast<Vfs*>(vfs_shim::Head(vfs)->owner);
  File* f = Of(file);
  f->head.real = vfs_shim::RealFileAfter(file, sizeof(File));
  f->head.base.pMethods = nullptr;
  f->pending = nullptr;
  sqlite3_vfs* real = v->head.real;
  int rc = real->xOpen(real, name, f->head.real, flags, out_flags);
  if (rc != SQLITE_OK || f->head.real->pMethods == nullptr) return rc;
  if ((flags & SQLITE_OPEN_WAL) != 0) f->pending = new Pending();
  f->head.base.pMethods = &v->methods;
  return rc;
}

}  // namespace

DeferWalSyncs::DeferWalSyncs(DeferredWalSync* into) { t_defer = into; }
DeferWalSyncs::~DeferWalSyncs() { t_defer = nullptr; }

int SyncDeferredWal(const DeferredWalSync& d) {
  sqlite3_file* file = d.file.load(std::memory_order_acquire);
  if (file == nullptr) return SQLITE_OK;
  return RealSync(Of(file), d.flags.load(std::memory_order_relaxed));
}

std::string WalBufferVfs(const std::string& base) {
  static std::mutex mu;
  static auto* registry = new std::map<std::string, std::unique_ptr<Vfs>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = registry->find(base);
  if (it != registry->end()) return it->second->name;
  auto v = std::make_unique<Vfs>();
  v->name = "weft-walbuf" + (base.empty() ? "" : "-" + base);
  v->head.real = sqlite3_vfs_find(base.empty() ? nullptr : base.c_str());
  v->head.owner = v.get();
  WEFT_CHECK_MSG(v->head.real != nullptr, "no such sqlite VFS");
  v->methods = vfs_shim::PassThroughMethods();
  v->methods.xClose = Close;
  v->methods.xRead = Read;
  v->methods.xWrite = Write;
  v->methods.xTruncate = Truncate;
  v->methods.xSync = Sync;
  v->methods.xFileSize = FileSize;
  v->methods.xFileControl = FileControl;
  v->vfs = vfs_shim::PassThroughVfs(v->name.c_str(), &v->head,
                                    static_cast<int>(sizeof(File)));
  v->vfs.xOpen = Open;
  WEFT_CHECK(sqlite3_vfs_register(&v->vfs, 0) == SQLITE_OK);
  std::string name = v->name;
  registry->emplace(base, std::move(v));
  return name;
}

}  // namespace weft::store
