// The crash test: a child process appends batches as fast as it can and
// reports each acknowledged batch to the parent through a pipe; the parent
// kills it with SIGKILL at random moments, starts the next child (which
// retries the batch that was in flight, with the same op ids), and at the
// end checks that every acknowledged op is stored exactly once at its
// acknowledged seq, with gap-free seqs.
//
// WEFT_CRASH_KILLS (compile definition) is the number of kills per backend;
// WEFT_CRASH_SUITE names the suite (the slow build kills more).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "store/store_test_backends.h"
#include "store/store_test_workload.h"

#ifndef WEFT_CRASH_KILLS
#define WEFT_CRASH_KILLS 20
#endif
#ifndef WEFT_CRASH_SUITE
#define WEFT_CRASH_SUITE StoreCrashTest
#endif

namespace weft::store::testing {
namespace {

constexpr int kThreads = 4;
constexpr std::uint64_t kMaxBatch = 4;
const std::vector<std::string> kDocs = {"doc-a", "doc-b", "doc-c"};

// Batch k of thread t is fixed: its document, size and op ids, so a retry
// by the next child is the same batch.
struct BatchPlan {
  std::uint32_t doc;
  std::uint64_t count;
  std::uint64_t first_local;
};
BatchPlan PlanOf(int thread, std::uint64_t k) {
  std::uint64_t h = (k + 1) * 0x9E3779B97F4A7C15ull ^
                    static_cast<std::uint64_t>(thread) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  return {static_cast<std::uint32_t>(h % kDocs.size()),
          1 + (h >> 8) % kMaxBatch, k * kMaxBatch + 1};
}

// What the child writes to the pipe per acknowledged batch (< PIPE_BUF, so
// each write is atomic).
struct AckRecord {
  std::uint32_t thread;
  std::uint32_t pad;
  std::uint64_t batch;
  std::int64_t seqs[kMaxBatch];
};

using Opener = std::function<Result<std::unique_ptr<Store>>()>;

[[noreturn]] void ChildMain(const Opener& open, int fd,
                            const std::vector<std::uint64_t>& next_batch) {
  auto store = open();
  if (!store.ok()) {
    std::fprintf(stderr, "child: open: %s\n",
                 store.status().ToString().c_str());
    ::_exit(3);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t k = next_batch[static_cast<std::size_t>(t)];; ++k) {
        BatchPlan p = PlanOf(t, k);
        std::vector<NewOp> ops;
        for (std::uint64_t i = 0; i < p.count; ++i) {
          ops.push_back(
              OpFor({static_cast<std::uint64_t>(t) + 1, p.first_local + i}));
        }
        auto r = (*store)->Append(kDocs[p.doc], ops);
        if (!r.ok()) {
          std::fprintf(stderr, "child: append: %s\n",
                       r.status().ToString().c_str());
          ::_exit(4);
        }
        AckRecord rec{};
        rec.thread = static_cast<std::uint32_t>(t);
        rec.batch = k;
        for (std::size_t i = 0; i < ops.size(); ++i) rec.seqs[i] = r->seqs[i];
        if (::write(fd, &rec, sizeof(rec)) != sizeof(rec)) ::_exit(5);
      }
    });
  }
  for (auto& th : threads) th.join();
  ::_exit(0);
}

void RunCrashTest(const Opener& open, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<AckedOp> acked;
  std::vector<std::uint64_t> next_batch(kThreads, 0);
  for (int kill = 0; kill < WEFT_CRASH_KILLS; ++kill) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildMain(open, fds[1], next_batch);
    }
    ::close(fds[1]);
    auto start = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> kill_at;
    bool killed = false;
    std::size_t records = 0;
    AckRecord rec;
    std::size_t have = 0;
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      if (!killed && kill_at && now >= *kill_at) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
      // A child that never acknowledges anything is stuck: give up on it.
      if (!killed && now - start > std::chrono::seconds(30)) {
        ::kill(pid, SIGKILL);
        killed = true;
        ADD_FAILURE() << "child acknowledged nothing in 30 s";
      }
      pollfd p{fds[0], POLLIN, 0};
      ::poll(&p, 1, killed ? -1 : 1);
      if ((p.revents & (POLLIN | POLLHUP)) == 0) continue;
      ssize_t n = ::read(fds[0], reinterpret_cast<char*>(&rec) + have,
                         sizeof(rec) - have);
      if (n <= 0) break;  // EOF: the child is gone
      have += static_cast<std::size_t>(n);
      if (have < sizeof(rec)) continue;
      have = 0;
      ++records;
      BatchPlan plan = PlanOf(static_cast<int>(rec.thread), rec.batch);
      for (std::uint64_t i = 0; i < plan.count; ++i) {
        acked.push_back({kDocs[plan.doc],
                         {std::uint64_t{rec.thread} + 1, plan.first_local + i},
                         rec.seqs[i]});
      }
      next_batch[rec.thread] = std::max(next_batch[rec.thread], rec.batch + 1);
      if (!kill_at) {
        kill_at = std::chrono::steady_clock::now() +
                  std::chrono::microseconds(rng() % 60'000);
      }
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited by itself with status " << status;
    ASSERT_GT(records, 0u);
  }
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Verify(nullptr).ok());
  auto report = CheckAcknowledged(**store, kDocs, acked);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->missing, 0u) << report->first_problem;
  EXPECT_GE(report->stored, acked.size());
  ::testing::Test::RecordProperty("acknowledged_ops",
                                  static_cast<int>(acked.size()));
  std::printf("%d kills, %zu acknowledged ops, %zu stored\n", WEFT_CRASH_KILLS,
              acked.size(), report->stored);
}

TEST(WEFT_CRASH_SUITE, SqliteKeepsEveryAcknowledgedOpExactlyOnce) {
  TempDir dir;
  SqliteOptions opts;
  opts.path = dir.path() + "/crash.db";
  opts.verify_on_open = true;
  // Kills land in checkpoints and WAL restarts too.
  opts.wal_checkpoint_pages = 16;
  RunCrashTest([&] { return OpenSqliteStore(opts); }, 1234);
}

TEST(WEFT_CRASH_SUITE, PostgresKeepsEveryAcknowledgedOpExactlyOnce) {
  auto server = weft::testing::PgServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto db = (*server)->CreateDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  PgOptions opts;
  opts.conninfo = (*server)->ConnInfo(*db);
  opts.verify_on_open = true;
  RunCrashTest([&] { return OpenPgStore(opts); }, 4321);
}

}  // namespace
}  // namespace weft::store::testing
