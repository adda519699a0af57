#pragma once

// Replays editing traces through the engine and measures it (`weft trace`).

#include <memory>
#include <string>

#include "common/status.h"
#include "core/text_doc.h"
#include "weft/trace_file.h"

namespace weft::trace {

// Sequential trace: applies every patch in order as local edits of one
// replica. Returns the document.
Result<std::unique_ptr<core::TextDoc>> ReplaySequential(const Trace& t);

// Concurrent trace: one replica per agent; each transaction is applied on
// its agent's replica after merging exactly its parents' version into it
// (pulled from the other agents' replicas as bounded diffs). Finally every
// replica is merged into one, which is returned. kInternal if a replica's
// version drifts from what the trace says.
Result<std::unique_ptr<core::TextDoc>> ReplayConcurrent(const Trace& t);

Result<std::unique_ptr<core::TextDoc>> Replay(const Trace& t);

struct BenchResult {
  std::string kind;  // "sequential" or "concurrent"
  size_t patches = 0;
  bool ok = false;  // final text == endContent (and reload matches)
  double apply_ms_median = 0;
  double load_ms_median = 0;
  size_t encoded_bytes = 0;
  double peak_rss_mib = 0;
  size_t visible_chars = 0;     // code points of the final text
  size_t text_utf8_bytes = 0;   // bytes of the final text
  size_t loaded_doc_bytes = 0;  // TextDoc::MemoryBytes() after a load
  std::string error;
};

// Replays `runs` times, checks the text, encodes a snapshot and loads it
// `runs` times. Timings are medians in milliseconds.
BenchResult Bench(const Trace& t, int runs);

// One JSON line: {"trace","kind","patches","ok","apply_ms_median",
// "load_ms_median","encoded_bytes","peak_rss_mib"}.
std::string BenchJson(const std::string& trace_name, const BenchResult& r);

}  // namespace weft::trace
