#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "latency_histogram.h"
#include "load_options.h"

namespace weft::load {

// What a run measured and found (docs/load.md explains every field).
struct LoadResult {
  std::string mode;  // "typing", "idle" or "verify"
  LoadOptions options;
  double elapsed_s = 0;  // seconds of typing (or holding)
  // From the start of typing to the last ack (at least elapsed_s).
  double ack_span_s = 0;
  std::uint64_t connected = 0;         // sessions that reached `synced`
  std::uint64_t connect_failures = 0;  // sessions that never did
  std::uint64_t sent_ops = 0;
  std::uint64_t acked_ops = 0;
  std::uint64_t unacked_ops = 0;  // sent, never acknowledged
  std::uint64_t remote_deliveries = 0;
  std::uint64_t expected_remote_deliveries = 0;
  std::uint64_t duplicates = 0;  // a change delivered twice to one session
  std::uint64_t gaps = 0;        // sequence numbers skipped in a stream
  std::uint64_t lost_ops = 0;    // acknowledged but missing from the doc
  std::uint64_t reconnects = 0;
  // Subscriptions the server ended or refused with `unavailable` (503)
  // and that the user made again on the same connection.
  std::uint64_t resubscribes = 0;
  std::uint64_t skipped_edits = 0;  // ticks while disconnected
  // Ops the typists' schedules called for (about users × rate × duration)
  // and those still owed when the typing ended (weft-load behind).
  std::uint64_t scheduled_ops = 0;
  std::uint64_t unsent_ops = 0;
  std::uint64_t slow_consumer_closes = 0;  // closes with 4508
  std::uint64_t gave_up = 0;  // users that stopped trying (fatal, timeout)
  std::uint64_t resends = 0;  // unacknowledged changes sent again
  std::uint64_t docs_checked = 0;
  std::uint64_t docs_converged = 0;
  std::uint64_t errors = 0;
  std::vector<std::string> error_samples;  // the first few, verbatim
  LatencyHistogram ack;
  LatencyHistogram remote;
  LatencyHistogram send_lag;     // how late ticks went out against schedule
  double server_rss_before = 0;  // bytes, from GET /metrics
  double server_rss_after = 0;
  double client_cpu_s = 0;  // weft-load's own user+system CPU seconds

  // Acknowledged ops per second from the start of typing to the last ack.
  double ops_per_sec() const {
    double span = std::max(elapsed_s, ack_span_s);
    return span > 0 ? static_cast<double>(acked_ops) / span : 0;
  }
};

std::string ReportJson(const LoadResult& r);
std::string ReportMarkdown(const LoadResult& r);

}  // namespace weft::load
