#include "weft/trace_replay.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace weft::trace {

using core::StateVector;
using core::TextDoc;

namespace {
constexpr uint64_t kClientBase = 0x5EED0000;

Status ApplyPatch(const Trace& t, const Patch& p, TextDoc* doc) {
  if (p.del > 0) WEFT_RETURN_IF_ERROR(doc->Delete(p.pos, p.del));
  if (p.ins_len > 0) WEFT_RETURN_IF_ERROR(doc->Insert(p.pos, t.Inserted(p)));
  return Status::Ok();
}
}  // namespace

Result<std::unique_ptr<TextDoc>> ReplaySequential(const Trace& t) {
  auto doc = std::make_unique<TextDoc>(kClientBase);
  for (const Patch& p : t.patches) {
    Status s = ApplyPatch(t, p, doc.get());
    if (!s.ok()) return s;
  }
  return doc;
}

Result<std::unique_ptr<TextDoc>> ReplayConcurrent(const Trace& t) {
  std::vector<std::unique_ptr<TextDoc>> reps;
  for (uint32_t a = 0; a < t.num_agents; ++a) {
    reps.push_back(std::make_unique<TextDoc>(kClientBase + a));
  }
  std::vector<StateVector> version(t.txns.size());
  for (size_t i = 0; i < t.txns.size(); ++i) {
    const Txn& txn = t.txns[i];
    TextDoc* doc = reps[txn.agent].get();
    StateVector want;
    for (uint32_t p : txn.parents) {
      for (const auto& [client, seq] : version[p]) {
        uint32_t& w = want[client];
        w = std::max(w, seq);
      }
    }
    StateVector have = doc->GetStateVector();
    for (const auto& [client, seq] : want) {
      auto h = have.find(client);
      if (h != have.end() && h->second >= seq) continue;
      TextDoc* src = reps[client - kClientBase].get();
      auto applied =
          doc->ApplyUpdate(src->EncodeDiff(have, {{client, seq}}), false);
      if (!applied.ok()) return applied.status();
    }
    if (doc->pending_runs() != 0) {
      return Status::Internal("transaction parents not causally closed");
    }
    for (uint32_t k = 0; k < txn.num_patches; ++k) {
      Status s = ApplyPatch(t, t.patches[txn.first_patch + k], doc);
      if (!s.ok()) return s;
    }
    version[i] = doc->GetStateVector();
  }
  // Merge everything into the replica of the last transaction's agent.
  uint32_t last = t.txns.empty() ? 0 : t.txns.back().agent;
  for (uint32_t a = 0; a < t.num_agents; ++a) {
    if (a == last) continue;
    auto applied = reps[last]->ApplyUpdate(
        reps[a]->EncodeDiff(reps[last]->GetStateVector()), false);
    if (!applied.ok()) return applied.status();
  }
  return std::move(reps[last]);
}

Result<std::unique_ptr<TextDoc>> Replay(const Trace& t) {
  return t.concurrent ? ReplayConcurrent(t) : ReplaySequential(t);
}

namespace {
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double NowMs() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(
             Clock::now().time_since_epoch())
      .count();
}
}  // namespace

BenchResult Bench(const Trace& t, int runs) {
  BenchResult r;
  r.kind = t.concurrent ? "concurrent" : "sequential";
  r.patches = t.patches.size();
  runs = std::max(runs, 1);
  std::vector<double> apply_ms, load_ms;
  std::unique_ptr<TextDoc> doc;
  for (int i = 0; i < runs; ++i) {
    doc.reset();
    double t0 = NowMs();
    auto replayed = Replay(t);
    double t1 = NowMs();
    if (!replayed.ok()) {
      r.error = replayed.status().ToString();
      return r;
    }
    apply_ms.push_back(t1 - t0);
    doc = std::move(*replayed);
  }
  r.apply_ms_median = Median(apply_ms);
  bool text_ok = doc->Text() == t.end_content;
  if (!text_ok) r.error = "final text differs from endContent";
  std::string snap = doc->EncodeSnapshot();
  r.encoded_bytes = snap.size();
  bool reload_ok = true;
  for (int i = 0; i < runs; ++i) {
    double t0 = NowMs();
    auto loaded = TextDoc::LoadSnapshot(snap, 1);
    double t1 = NowMs();
    if (!loaded.ok()) {
      r.error = "snapshot does not load: " + loaded.status().ToString();
      reload_ok = false;
      break;
    }
    load_ms.push_back(t1 - t0);
    if (i == 0) {
      r.visible_chars = (*loaded)->length();
      r.text_utf8_bytes = t.end_content.size();
      r.loaded_doc_bytes = (*loaded)->MemoryBytes();
    }
    if (i == 0 && text_ok && (*loaded)->Text() != t.end_content) {
      r.error = "reloaded text differs from endContent";
      reload_ok = false;
      break;
    }
  }
  r.load_ms_median = Median(load_ms);
  r.ok = text_ok && reload_ok;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  return r;
}

std::string BenchJson(const std::string& trace_name, const BenchResult& r) {
  std::string name;
  for (char c : trace_name) {
    if (c == '"' || c == '\\') name.push_back('\\');
    name.push_back(c);
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"trace\":\"%s\",\"kind\":\"%s\",\"patches\":%zu,\"ok\":%s,"
                "\"apply_ms_median\":%.3f,\"load_ms_median\":%.3f,"
                "\"encoded_bytes\":%zu,\"peak_rss_mib\":%.1f}",
                name.c_str(), r.kind.c_str(), r.patches,
                r.ok ? "true" : "false", r.apply_ms_median, r.load_ms_median,
                r.encoded_bytes, r.peak_rss_mib);
  return buf;
}

}  // namespace weft::trace
