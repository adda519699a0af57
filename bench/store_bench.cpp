// store_bench: durable append throughput/latency with group commit, and
// document load time through snapshot + trailing ops, on SQLite and
// PostgreSQL. Results and commands: bench/RESULTS.md.
//
//   store_bench append --backend sqlite|postgres [--writers 64] [--seconds 5]
//                      [--docs 64] [--payload 32] [--async 1]
//                      [--wal-pages N]  (SQLite: wal_checkpoint_pages)
//                      [--defer-sync 0] (SQLite: fsync inside each commit)
//                      [--pg-socket 1]  (PostgreSQL: Unix socket, not TCP)
//
// A writer keeps one single-op append outstanding and appends again when it
// is acknowledged. By default each writer is a thread blocked in Append;
// with --async 1 writers are completion chains on AppendAsync (the next
// append is issued from the previous one's callback), as weftd's document
// hub drives the store: the same concurrency without 64 threads to wake.
// A second line gives the group commits (count, mean size, commit time:
// mean, 99th percentile, max) and this process's CPU time and write(2)
// bytes/calls per append: on a shared machine these vary less than throughput,
// so they show what a change saves.
//   store_bench load   --backend sqlite|postgres [--ops 1000000]
//                      [--trailing 1000] [--snapshot-bytes 2000000]
//
// SQLite uses a file under $TMPDIR; PostgreSQL a throwaway server (fsync on)
// started by the test harness, unless --conninfo is given.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "pg_server.h"
#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;
using weft::store::NewOp;
using weft::store::Store;

struct Args {
  std::string mode;
  std::string backend = "sqlite";
  std::string conninfo;
  int writers = 64;
  double seconds = 5;
  int docs = 64;
  std::size_t payload = 32;
  std::int64_t ops = 1'000'000;
  std::int64_t trailing = 1000;
  std::size_t snapshot_bytes = 2'000'000;
  bool async = false;
  int wal_pages = 0;       // SqliteOptions::wal_checkpoint_pages; 0 = default
  bool pg_socket = false;  // the throwaway server over its Unix socket
  bool defer_sync = true;  // SqliteOptions::defer_wal_sync
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

Args Parse(int argc, char** argv) {
  Args a;
  if (argc < 2) Die("usage: store_bench append|load --backend sqlite|postgres");
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--backend")
      a.backend = v;
    else if (k == "--conninfo")
      a.conninfo = v;
    else if (k == "--writers")
      a.writers = std::stoi(v);
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--docs")
      a.docs = std::stoi(v);
    else if (k == "--payload")
      a.payload = std::stoul(v);
    else if (k == "--ops")
      a.ops = std::stoll(v);
    else if (k == "--trailing")
      a.trailing = std::stoll(v);
    else if (k == "--snapshot-bytes")
      a.snapshot_bytes = std::stoul(v);
    else if (k == "--async")
      a.async = v == "1";
    else if (k == "--wal-pages")
      a.wal_pages = std::stoi(v);
    else if (k == "--pg-socket")
      a.pg_socket = v == "1";
    else if (k == "--defer-sync")
      a.defer_sync = v != "0";
    else
      Die("unknown flag " + k);
  }
  return a;
}

// What the group committer reports (CommitObserver), for the summary line.
struct CommitStats {
  std::mutex mu;
  std::uint64_t ops = 0;        // guarded by mu
  std::vector<double> took_ms;  // guarded by mu: per group
  void Observe(std::size_t n, Clock::duration took) {
    std::lock_guard lock(mu);
    ops += n;
    took_ms.push_back(std::chrono::duration<double, std::milli>(took).count());
  }
};

// CPU seconds of the processes descending from this one (the throwaway
// PostgreSQL server and its backends), from /proc/<pid>/stat.
double DescendantCpuSeconds() {
  std::map<long, long> parent;
  std::map<long, double> cpu;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    std::vector<std::string> f;
    while (rest >> field && f.size() < 13) f.push_back(field);
    if (f.size() < 13) continue;  // state ppid ... utime(12) stime(13)
    long pid = std::stol(name);
    parent[pid] = std::stol(f[1]);
    cpu[pid] = (std::stod(f[11]) + std::stod(f[12])) / tick;
  }
  double total = 0;
  const long self = ::getpid();
  for (const auto& [pid, seconds] : cpu) {
    for (long p = parent[pid]; p > 1; p = parent.count(p) ? parent[p] : 0) {
      if (p == self) {
        total += seconds;
        break;
      }
    }
  }
  return total;
}

// This process's CPU seconds (all threads), its children's (PostgreSQL),
// and bytes/calls of write(2) family syscalls (/proc/self/io), to compare
// changes on a shared machine where throughput alone is noisy.
struct ProcessCost {
  double cpu_s = 0, children_cpu_s = 0;
  std::uint64_t wchar = 0, syscw = 0;
  static ProcessCost Now() {
    ProcessCost c;
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    c.cpu_s =
        static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
        static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    c.children_cpu_s = DescendantCpuSeconds();
    std::ifstream io("/proc/self/io");
    std::string key;
    std::uint64_t value = 0;
    while (io >> key >> value) {
      if (key == "wchar:") c.wchar = value;
      if (key == "syscw:") c.syscw = value;
    }
    return c;
  }
};

// Owns whatever the store lives in (a temp file or a throwaway server).
struct Backend {
  CommitStats commits;
  std::string dir;
  std::unique_ptr<weft::testing::PgServer> server;
  std::unique_ptr<Store> store;
  ~Backend() {
    store.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

void OpenBackend(const Args& a, Backend& b) {
  if (a.backend == "sqlite") {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(t != nullptr && *t ? t : "/tmp") + "/weft-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
    b.dir = tmpl;
    weft::store::SqliteOptions o;
    o.path = b.dir + "/bench.db";
    if (a.wal_pages > 0) o.wal_checkpoint_pages = a.wal_pages;
    o.defer_wal_sync = a.defer_sync;
    o.on_commit = [&b](std::size_t n, Clock::duration d) {
      b.commits.Observe(n, d);
    };
    auto s = weft::store::OpenSqliteStore(o);
    if (!s.ok()) Die(s.status().ToString());
    b.store = std::move(*s);
  } else if (a.backend == "postgres") {
    weft::store::PgOptions o;
    o.conninfo = a.conninfo;
    o.on_commit = [&b](std::size_t n, Clock::duration d) {
      b.commits.Observe(n, d);
    };
    if (o.conninfo.empty()) {
      auto server = weft::testing::PgServer::Start();
      if (!server.ok()) Die(server.status().ToString());
      b.server = std::move(*server);
      auto db = b.server->CreateDatabase("weft_bench");
      if (!db.ok()) Die(db.status().ToString());
      o.conninfo = b.server->ConnInfo(*db, a.pg_socket);
    }
    auto s = weft::store::OpenPgStore(o);
    if (!s.ok()) Die(s.status().ToString());
    b.store = std::move(*s);
  } else {
    Die("unknown backend " + a.backend);
  }
}

NewOp BenchOp(int writer, std::uint64_t i, const std::string& payload) {
  NewOp op;
  op.id = {static_cast<std::uint64_t>(writer) + 1, i};
  op.user_id = "bench";
  op.payload = payload;
  return op;
}

std::string BenchDoc(const Args& a, int writer) {
  return "doc-" + std::to_string(writer % a.docs);
}

// Writers as threads, each blocked in Append. Fills `lat` per writer.
void ThreadWriters(const Args& a, Store& store,
                   std::vector<std::vector<double>>& lat) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::string payload(a.payload, 'p');
  for (int w = 0; w < a.writers; ++w) {
    threads.emplace_back([&, w] {
      std::string doc = BenchDoc(a, w);
      auto& l = lat[static_cast<std::size_t>(w)];
      l.reserve(200'000);
      for (std::uint64_t i = 1; !stop.load(std::memory_order_relaxed); ++i) {
        NewOp op = BenchOp(w, i, payload);
        auto t0 = Clock::now();
        auto r = store.Append(doc, std::span<const NewOp>(&op, 1));
        auto t1 = Clock::now();
        if (!r.ok()) Die(r.status().ToString());
        l.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  stop = true;
  for (auto& t : threads) t.join();
}

// Writers as completion chains on AppendAsync: a writer's next append is
// issued from the callback of its previous one. What the callbacks touch is
// shared with them (each holds a reference), so that the last callback
// finishing after this function returned touches nothing of its frame.
void AsyncWriters(const Args& a, Store& store,
                  std::vector<std::vector<double>>& lat) {
  struct Chains {
    Store* store = nullptr;
    std::string payload;
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::condition_variable cv;
    int running = 0;  // guarded by mu
    // Per writer: its document, next local seq, latencies and send time;
    // each touched by one chain at a time.
    std::vector<std::string> docs;
    std::vector<std::uint64_t> next;
    std::vector<std::vector<double>> lat;
    std::vector<Clock::time_point> sent;

    static void Issue(const std::shared_ptr<Chains>& c, int w) {
      const auto i = static_cast<std::size_t>(w);
      if (c->stop.load(std::memory_order_relaxed)) {
        std::lock_guard lock(c->mu);
        if (--c->running == 0) c->cv.notify_all();
        return;
      }
      c->sent[i] = Clock::now();
      std::vector<NewOp> ops;
      ops.push_back(BenchOp(w, c->next[i]++, c->payload));
      c->store->AppendAsync(
          c->docs[i], std::move(ops),
          [c, w, i](weft::Result<weft::store::AppendResult> r) {
            if (!r.ok()) Die(r.status().ToString());
            c->lat[i].push_back(std::chrono::duration<double, std::milli>(
                                    Clock::now() - c->sent[i])
                                    .count());
            Issue(c, w);
          });
    }
  };
  auto c = std::make_shared<Chains>();
  const auto n = static_cast<std::size_t>(a.writers);
  c->store = &store;
  c->payload.assign(a.payload, 'p');
  c->running = a.writers;
  c->next.assign(n, 1);
  c->lat.resize(n);
  c->sent.resize(n);
  for (int w = 0; w < a.writers; ++w) {
    c->docs.push_back(BenchDoc(a, w));
    c->lat[static_cast<std::size_t>(w)].reserve(200'000);
  }
  for (int w = 0; w < a.writers; ++w) Chains::Issue(c, w);
  std::this_thread::sleep_for(std::chrono::duration<double>(a.seconds));
  c->stop = true;
  {
    std::unique_lock lock(c->mu);
    c->cv.wait(lock, [&] { return c->running == 0; });
  }
  // Every chain has ended: no callback writes the latencies any more.
  lat = std::move(c->lat);
}

void RunAppend(const Args& a) {
  Backend b;
  OpenBackend(a, b);
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(a.writers));
  auto cost0 = ProcessCost::Now();
  auto start = Clock::now();
  if (a.async) {
    AsyncWriters(a, *b.store, lat);
  } else {
    ThreadWriters(a, *b.store, lat);
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto cost1 = ProcessCost::Now();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all[std::min(
        all.size() - 1,
        static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "append backend=%s writers=%d%s docs=%d payload=%zuB: %zu durable "
      "appends in %.2f s = %.0f/s; latency ms p50=%.2f p99=%.2f p99.9=%.2f "
      "max=%.2f\n",
      a.backend.c_str(), a.writers, a.async ? " (async)" : "", a.docs,
      a.payload, all.size(), elapsed, static_cast<double>(all.size()) / elapsed,
      pct(0.5), pct(0.99), pct(0.999), all.back());
  double n = static_cast<double>(all.size());
  std::lock_guard commits_lock(b.commits.mu);
  std::vector<double>& took = b.commits.took_ms;
  double groups = static_cast<double>(took.size());
  double busy = 0;
  for (double t : took) busy += t;
  std::sort(took.begin(), took.end());
  std::printf(
      "  %.0f groups, %.1f ops/group, commit ms mean %.3f p99 %.2f max %.2f; "
      "this process: %.1f us CPU (server processes: %.1f us), %.0f B and "
      "%.2f calls written per append\n",
      groups, static_cast<double>(b.commits.ops) / groups, busy / groups,
      took.empty() ? 0.0 : took[took.size() * 99 / 100],
      took.empty() ? 0.0 : took.back(), (cost1.cpu_s - cost0.cpu_s) * 1e6 / n,
      (cost1.children_cpu_s - cost0.children_cpu_s) * 1e6 / n,
      static_cast<double>(cost1.wchar - cost0.wchar) / n,
      static_cast<double>(cost1.syscw - cost0.syscw) / n);
}

void RunLoad(const Args& a) {
  Backend b;
  OpenBackend(a, b);
  const std::string doc = "big";
  std::int64_t snapshot_at = a.ops - a.trailing;
  std::string payload(a.payload, 'p');
  auto fill0 = Clock::now();
  std::vector<NewOp> batch;
  for (std::int64_t i = 1; i <= a.ops; ++i) {
    NewOp op;
    op.id = {1, static_cast<std::uint64_t>(i)};
    op.user_id = "bench";
    op.payload = payload;
    batch.push_back(std::move(op));
    if (batch.size() == 5000 || i == a.ops || i == snapshot_at) {
      auto r = b.store->Append(doc, batch);
      if (!r.ok()) Die(r.status().ToString());
      batch.clear();
    }
    if (i == snapshot_at) {
      std::string state(a.snapshot_bytes, '\0');
      std::mt19937_64 rng(1);
      for (auto& c : state) c = static_cast<char>(rng());
      if (auto s = b.store->SaveSnapshot({doc, snapshot_at, 0, state});
          !s.ok()) {
        Die(s.ToString());
      }
      if (auto s = b.store->Compact(doc, snapshot_at); !s.ok())
        Die(s.ToString());
    }
  }
  double fill = std::chrono::duration<double>(Clock::now() - fill0).count();
  std::vector<double> times;
  for (int run = 0; run < 21; ++run) {
    auto t0 = Clock::now();
    auto d = b.store->LoadDocument(doc);
    auto t1 = Clock::now();
    if (!d.ok()) Die(d.status().ToString());
    if (d->ops.size() != static_cast<std::size_t>(a.trailing) ||
        d->snapshot->state.size() != a.snapshot_bytes) {
      Die("loaded the wrong document");
    }
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  double first = times[0];
  std::sort(times.begin(), times.end());
  std::printf(
      "load backend=%s ops=%lld (snapshot at %lld, %zu B, compacted) "
      "trailing=%lld: first %.2f ms, median %.2f ms, max %.2f ms (filled in "
      "%.1f s)\n",
      a.backend.c_str(), static_cast<long long>(a.ops),
      static_cast<long long>(snapshot_at), a.snapshot_bytes,
      static_cast<long long>(a.trailing), first, times[times.size() / 2],
      times.back(), fill);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.mode == "append") {
    RunAppend(a);
  } else if (a.mode == "load") {
    RunLoad(a);
  } else {
    Die("unknown mode " + a.mode);
  }
  return 0;
}
