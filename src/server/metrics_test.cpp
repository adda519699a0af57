#include "server/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace weft::server {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, CountersRenderPerLabelSet) {
  MetricsRegistry m;
  m.GetCounter("weft_x_total", "Things.", {{"route", "/a"}}).Inc(2);
  m.GetCounter("weft_x_total", "Things.", {{"route", "/b"}}).Inc();
  m.GetCounter("weft_x_total", "Things.", {{"route", "/a"}}).Inc();
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# HELP weft_x_total Things.")) << text;
  EXPECT_TRUE(Has(text, "# TYPE weft_x_total counter")) << text;
  EXPECT_TRUE(Has(text, "weft_x_total{route=\"/a\"} 3")) << text;
  EXPECT_TRUE(Has(text, "weft_x_total{route=\"/b\"} 1")) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry m;
  auto& h = m.GetHistogram("weft_lat_seconds", "Latency.", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = m.Render();
  EXPECT_TRUE(
      Has(text, "weft_lat_seconds_bucket{le=\"0.10000000000000001\"} 1") ||
      Has(text, "weft_lat_seconds_bucket{le=\"0.1\"} 1"))
      << text;
  EXPECT_TRUE(Has(text, "weft_lat_seconds_bucket{le=\"1\"} 3")) << text;
  EXPECT_TRUE(Has(text, "weft_lat_seconds_bucket{le=\"+Inf\"} 4")) << text;
  EXPECT_TRUE(Has(text, "weft_lat_seconds_count 4")) << text;
  EXPECT_TRUE(Has(text, "weft_lat_seconds_sum 6.0499999999999998") ||
              Has(text, "weft_lat_seconds_sum 6.05"))
      << text;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(RenderLabels({{"a", "x\"y\\z\nw"}}), "{a=\"x\\\"y\\\\z\\nw\"}");
  EXPECT_EQ(RenderLabels({}), "");
}

TEST(MetricsTest, GaugesAndCallbacks) {
  MetricsRegistry m;
  auto& g = m.GetGauge("weft_open", "Open.");
  g.Add(3);
  g.Add(-1);
  m.AddCallbackGauge("weft_cb", "Read at render time.", [] { return 42.0; });
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "weft_open 2")) << text;
  EXPECT_TRUE(Has(text, "weft_cb 42")) << text;
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.GetCounter("weft_c_total", "C.").Inc();
        m.GetHistogram("weft_h_seconds", "H.").Observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.GetCounter("weft_c_total", "C.").Value(), 40000u);
  EXPECT_EQ(m.GetHistogram("weft_h_seconds", "H.").Count(), 40000u);
}

}  // namespace
}  // namespace weft::server
