#include "load_report.h"

#include <boost/json.hpp>
#include <cstdio>
#include <sstream>

namespace weft::load {
namespace {

namespace json = boost::json;

double Ms(std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

json::object Summary(const LatencyHistogram& h) {
  return json::object{{"p50", Ms(h.PercentileMicros(0.50))},
                      {"p95", Ms(h.PercentileMicros(0.95))},
                      {"p99", Ms(h.PercentileMicros(0.99))},
                      {"max", Ms(h.max_micros())},
                      {"count", h.count()}};
}

std::string Fixed(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string ReportJson(const LoadResult& r) {
  const auto& o = r.options;
  json::array samples;
  for (const auto& e : r.error_samples) samples.emplace_back(e);
  json::object v{
      {"mode", r.mode},
      {"url", o.url},
      {"users", o.users},
      {"docs", o.docs},
      {"rate", o.rate},
      {"batch", o.batch},
      {"duration_s", r.elapsed_s},
      {"ack_span_s", std::max(r.elapsed_s, r.ack_span_s)},
      {"seed", o.seed},
      {"connected", r.connected},
      {"connect_failures", r.connect_failures},
      {"sent_ops", r.sent_ops},
      {"acked_ops", r.acked_ops},
      {"unacked_ops", r.unacked_ops},
      {"ops_per_sec", r.ops_per_sec()},
      {"remote_deliveries", r.remote_deliveries},
      {"expected_remote_deliveries", r.expected_remote_deliveries},
      {"duplicates", r.duplicates},
      {"gaps", r.gaps},
      {"lost_ops", r.lost_ops},
      {"reconnects", r.reconnects},
      {"resubscribes", r.resubscribes},
      {"skipped_edits", r.skipped_edits},
      {"scheduled_ops", r.scheduled_ops},
      {"unsent_ops", r.unsent_ops},
      {"slow_consumer_closes", r.slow_consumer_closes},
      {"gave_up", r.gave_up},
      {"resends", r.resends},
      {"docs_checked", r.docs_checked},
      {"docs_converged", r.docs_converged},
      {"errors", r.errors},
      {"error_samples", std::move(samples)},
      {"ack_latency_ms", Summary(r.ack)},
      {"remote_latency_ms", Summary(r.remote)},
      {"send_lag_ms", Summary(r.send_lag)},
      {"server_rss_mib_before", r.server_rss_before / 1048576.0},
      {"server_rss_mib_after", r.server_rss_after / 1048576.0},
      {"client_cpu_s", r.client_cpu_s},
  };
  return json::serialize(v) + "\n";
}

std::string ReportMarkdown(const LoadResult& r) {
  const auto& o = r.options;
  std::ostringstream md;
  md << "# weft-load report\n\n";
  md << "| | |\n|---|---|\n";
  md << "| mode | " << r.mode << " |\n";
  md << "| server | " << o.url << " |\n";
  md << "| users × docs | " << o.users << " × " << o.docs << " |\n";
  if (r.mode == "typing") {
    md << "| rate | " << Fixed(o.rate, 1) << " edits/user/s, " << o.batch
       << " per submit |\n";
  }
  md << "| duration | " << Fixed(r.elapsed_s, 1) << " s |\n";
  md << "| connected | " << r.connected << " (" << r.connect_failures
     << " failed) |\n";
  md << "| sent / acknowledged ops | " << r.sent_ops << " / " << r.acked_ops
     << " |\n";
  if (r.mode == "typing") {
    md << "| scheduled ops (skipped / not sent) | " << r.scheduled_ops << " ("
       << r.skipped_edits << " / " << r.unsent_ops << ") |\n";
  }
  md << "| acknowledged ops/s | " << Fixed(r.ops_per_sec(), 0) << " (over "
     << Fixed(std::max(r.elapsed_s, r.ack_span_s), 1)
     << " s, start to last ack) |\n";
  md << "| remote deliveries | " << r.remote_deliveries << " of "
     << r.expected_remote_deliveries << " expected |\n";
  md << "| documents converged | " << r.docs_converged << " of "
     << r.docs_checked << " |\n";
  md << "| lost / duplicated / gaps | " << r.lost_ops << " / " << r.duplicates
     << " / " << r.gaps << " |\n";
  md << "| reconnects / resubscribes / resends | " << r.reconnects << " / "
     << r.resubscribes << " / " << r.resends << " |\n";
  md << "| slow-consumer closes (4508) | " << r.slow_consumer_closes << " |\n";
  md << "| users that gave up | " << r.gave_up << " |\n";
  md << "| errors | " << r.errors << " |\n";
  if (r.server_rss_after > 0) {
    md << "| weftd RSS before → after | "
       << Fixed(r.server_rss_before / 1048576.0, 1) << " → "
       << Fixed(r.server_rss_after / 1048576.0, 1) << " MiB |\n";
  }
  md << "| weft-load CPU | " << Fixed(r.client_cpu_s, 1) << " s |\n\n";
  if (r.ack.count() + r.remote.count() + r.send_lag.count() > 0) {
    md << "| latency (ms) | p50 | p95 | p99 | max | samples |\n";
    md << "|---|---:|---:|---:|---:|---:|\n";
    auto row = [&](const char* name, const LatencyHistogram& h) {
      md << "| " << name << " | " << Fixed(Ms(h.PercentileMicros(0.5))) << " | "
         << Fixed(Ms(h.PercentileMicros(0.95))) << " | "
         << Fixed(Ms(h.PercentileMicros(0.99))) << " | "
         << Fixed(Ms(h.max_micros())) << " | " << h.count() << " |\n";
    };
    row("ack (scheduled tick → ack)", r.ack);
    row("edit to remote screen (from tick)", r.remote);
    row("send lag (tick → sent)", r.send_lag);
    md << "\n";
  }
  if (!r.error_samples.empty()) {
    md << "Errors (first " << r.error_samples.size() << "):\n\n";
    for (const auto& e : r.error_samples) md << "- " << e << "\n";
  }
  return md.str();
}

}  // namespace weft::load
