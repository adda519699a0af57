#pragma once

// Plumbing shared by the store's SQLite VFSes that wrap another VFS
// (sqlite_wal_buffer_vfs.cpp, and the tests' sqlite_fault_vfs.cpp): methods
// that pass straight through to the wrapped VFS and its files, for a shim to
// replace the few it changes. Internal to src/store.

#include <sqlite3.h>

namespace weft::store::vfs_shim {

// How a shim's file struct begins. The wrapped VFS's file follows the whole
// shim file struct in memory (see PassThroughVfs).
struct FileHead {
  sqlite3_file base;  // pMethods: the shim's methods
  sqlite3_file* real;
};
inline sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<FileHead*>(f)->real;
}
// Where a shim's file struct of `size` bytes puts the wrapped VFS's file.
inline sqlite3_file* RealFileAfter(sqlite3_file* f, int size) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + size);
}

// What a shim VFS's pAppData points to.
struct VfsHead {
  sqlite3_vfs* real;  // the wrapped VFS
  void* owner;        // the shim's own state
};
inline VfsHead* Head(sqlite3_vfs* v) {
  return static_cast<VfsHead*>(v->pAppData);
}

// Every method passing through to FileHead::real. iVersion 2: no
// memory-mapped I/O, so that every write goes through xWrite.
sqlite3_io_methods PassThroughMethods();

// A VFS named `name` whose methods, xOpen aside (null: the caller's to set),
// pass through to head->real, for shim files of `file_size` bytes.
sqlite3_vfs PassThroughVfs(const char* name, VfsHead* head, int file_size);

}  // namespace weft::store::vfs_shim
