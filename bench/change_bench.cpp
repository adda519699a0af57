// What the server spends per submitted change on a document that many
// clients have written to: the document model's Apply (the op-count checks
// around the engine's ApplyUpdate, server/*_document_model.cpp), for a
// text and for a board, against the number of clients already in it.
//   build/release/bench/change_bench [--benchmark_repetitions=N]
// (20,000 changes per case: timing pauses while the writer makes them.)
// Each change is one keystroke (text) or one map write (board) of a writer
// that is not among those clients. Should stay flat as clients grow.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "core/doc.h"
#include "core/text_doc.h"
#include "server/struct_document_model.h"
#include "server/text_document_model.h"

namespace weft::server {
namespace {

constexpr std::uint64_t kWriter = 7;
constexpr std::size_t kBatch = 1000;

// The changes a writer makes next, one per call, as the SDK forms them.
struct TextWriter {
  core::TextDoc doc{kWriter};
  proto::Change Next() {
    auto first = static_cast<std::uint32_t>(doc.OpCount(kWriter));
    (void)doc.Insert(doc.length() / 2, "a");
    return {kWriter, first, 1, doc.EncodeClientDiff(kWriter, first)};
  }
};
struct BoardWriter {
  core::Doc doc{kWriter};
  std::uint64_t i = 0;
  proto::Change Next() {
    std::string own = doc.EncodeClientStateVector(kWriter);
    std::uint64_t first = doc.OpCount(kWriter);
    (void)doc.structure().MapSet(core::ContainerRef::RootMap("m"), "w",
                                 core::Value::Int(static_cast<int64_t>(++i)));
    return {kWriter, first, 1, *doc.EncodeClientDiff(kWriter, own)};
  }
};

// Times the model's Apply only; the writer makes its changes in untimed
// batches.
template <typename Writer>
void ApplyChanges(benchmark::State& state, Writer* writer,
                  DocumentModel* model) {
  std::vector<proto::Change> changes;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == changes.size()) {
      state.PauseTiming();
      changes.clear();
      next = 0;
      for (std::size_t k = 0; k < kBatch; ++k) {
        changes.push_back(writer->Next());
      }
      state.ResumeTiming();
    }
    Status s = model->Apply(changes[next++]);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
}

void TextChange(benchmark::State& state) {
  const auto clients = static_cast<std::uint64_t>(state.range(0));
  auto server = std::make_unique<core::TextDoc>(0);
  (void)server->Insert(0, "hello world");
  for (std::uint64_t c = 0; c < clients; ++c) {
    core::TextDoc o(1000 + c);
    (void)o.ApplyUpdate(server->EncodeDiff(o.GetStateVector()), false);
    auto first = static_cast<std::uint32_t>(o.OpCount(1000 + c));
    (void)o.Insert(c % 10, "x");
    (void)server->ApplyUpdate(o.EncodeClientDiff(1000 + c, first), false);
  }
  TextWriter writer;
  (void)writer.doc.ApplyUpdate(server->EncodeDiff({}), false);
  TextDocumentModel model(std::move(server));
  ApplyChanges(state, &writer, &model);
}

void BoardChange(benchmark::State& state) {
  const auto clients = static_cast<std::uint64_t>(state.range(0));
  auto server = std::make_unique<core::Doc>(0);
  auto m = core::ContainerRef::RootMap("m");
  for (std::uint64_t c = 0; c < clients; ++c) {
    core::Doc o(1000 + c);
    (void)o.structure().MapSet(m, "k" + std::to_string(c),
                               core::Value::Int(static_cast<int64_t>(c)));
    (void)server->ApplyUpdate(*o.EncodeDiff(server->EncodeStateVector()));
  }
  BoardWriter writer;
  (void)writer.doc.ApplyUpdate(
      *server->EncodeDiff(writer.doc.EncodeStateVector()));
  StructDocumentModel model(std::move(server));
  ApplyChanges(state, &writer, &model);
}

// A canvas of `texts` shapes, each a root-map entry holding a text label
// with one character (written by the shape's creator, one client per 100
// shapes); the writer types into the first label.
struct LabelWriter {
  core::Doc doc{kWriter};
  core::ContainerRef label;
  proto::Change Next() {
    std::string own = doc.EncodeClientStateVector(kWriter);
    std::uint64_t first = doc.OpCount(kWriter);
    core::TextDoc* text = *doc.Text(label);
    (void)text->Insert(text->length(), "a");
    return {kWriter, first, 1, *doc.EncodeClientDiff(kWriter, own)};
  }
};

// Fills `doc` with the canvas: `texts` shapes, one client per 100 of them.
// Returns the first label.
core::ContainerRef BuildCanvas(std::uint64_t texts, core::Doc* doc) {
  auto shapes = core::ContainerRef::RootMap("shapes");
  core::ContainerRef first_label;
  for (std::uint64_t c = 0; c * 100 < texts; ++c) {
    core::Doc o(1000 + c);
    for (std::uint64_t i = c * 100; i < texts && i < (c + 1) * 100; ++i) {
      auto label = o.structure().MapSet(shapes, "s" + std::to_string(i),
                                        core::Value::NewText());
      (void)(*o.Text(**label))->Insert(0, "x");
      if (i == 0) first_label = **label;
    }
    (void)doc->ApplyUpdate(*o.EncodeDiff(doc->EncodeStateVector()));
  }
  return first_label;
}

void CanvasChange(benchmark::State& state) {
  auto server = std::make_unique<core::Doc>(0);
  LabelWriter writer;
  writer.label =
      BuildCanvas(static_cast<std::uint64_t>(state.range(0)), server.get());
  (void)writer.doc.ApplyUpdate(
      *server->EncodeDiff(writer.doc.EncodeStateVector()));
  StructDocumentModel model(std::move(server));
  ApplyChanges(state, &writer, &model);
}

// What the writer spends forming one change in the same canvas (the
// SDK's commit: own state vector, op count, edit, client diff).
void CanvasLocalChange(benchmark::State& state) {
  LabelWriter writer;
  writer.label =
      BuildCanvas(static_cast<std::uint64_t>(state.range(0)), &writer.doc);
  for (auto _ : state) benchmark::DoNotOptimize(writer.Next());
}

BENCHMARK(TextChange)->Arg(10)->Arg(1000)->Arg(10000)->Iterations(20000);
BENCHMARK(BoardChange)->Arg(10)->Arg(1000)->Arg(10000)->Iterations(20000);
BENCHMARK(CanvasChange)->Arg(10)->Arg(1000)->Arg(10000)->Iterations(20000);
BENCHMARK(CanvasLocalChange)->Arg(10)->Arg(1000)->Arg(10000)->Iterations(20000);

}  // namespace
}  // namespace weft::server
