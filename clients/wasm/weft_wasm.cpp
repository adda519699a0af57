// JavaScript bindings (embind) for the text engine: the same TextDoc as
// native weft, bytes in and bytes out. Types: weft.d.ts.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/text_doc.h"
#include "core/utf.h"

namespace {

using emscripten::val;
using weft::core::TextDoc;

val Bytes(const std::string& s) {
  return val::global("Uint8Array")
      .new_(emscripten::typed_memory_view(
          s.size(), reinterpret_cast<const uint8_t*>(s.data())));
}

std::string FromBytes(const val& bytes) {
  const size_t n = bytes["length"].as<size_t>();
  std::string s(n, '\0');
  val view = val(
      emscripten::typed_memory_view(n, reinterpret_cast<uint8_t*>(s.data())));
  view.call<void>("set", bytes);
  return s;
}

[[noreturn]] void Throw(const weft::Status& s) {
  val::global("Error").new_(s.ToString()).throw_();
  __builtin_unreachable();
}

// Client ids travel as JS numbers (integers below 2^53).
class WasmTextDoc {
 public:
  explicit WasmTextDoc(double client)
      : doc_(std::make_unique<TextDoc>(static_cast<uint64_t>(client))) {}
  explicit WasmTextDoc(std::unique_ptr<TextDoc> d) : doc_(std::move(d)) {}

  void Insert(double pos, const std::string& text) {
    weft::Status s = doc_->Insert(static_cast<uint64_t>(pos), text);
    if (!s.ok()) Throw(s);
  }
  void Delete(double pos, double len) {
    weft::Status s =
        doc_->Delete(static_cast<uint64_t>(pos), static_cast<uint64_t>(len));
    if (!s.ok()) Throw(s);
  }
  std::string Text() const { return doc_->Text(); }
  double Length() const { return static_cast<double>(doc_->length()); }
  val StateVector() const { return Bytes(doc_->EncodeStateVector()); }
  val Diff(const val& state_vector) const {
    auto d = doc_->EncodeDiffBytes(FromBytes(state_vector));
    if (!d.ok()) Throw(d.status());
    return Bytes(*d);
  }
  // Only operations below `upto` (a causally closed state vector).
  val DiffRange(const val& have, const val& upto) const {
    auto h = weft::core::DecodeStateVector(FromBytes(have));
    if (!h.ok()) Throw(h.status());
    auto u = weft::core::DecodeStateVector(FromBytes(upto));
    if (!u.ok()) Throw(u.status());
    return Bytes(doc_->EncodeDiff(*h, *u));
  }
  val ApplyUpdate(const val& update) {
    auto r = doc_->ApplyUpdate(FromBytes(update));
    if (!r.ok()) Throw(r.status());
    val out = val::array();
    for (const auto& c : *r) {
      val o = val::object();
      o.set("pos", static_cast<double>(c.pos));
      o.set("deleted", static_cast<double>(c.deleted));
      o.set("inserted", c.inserted);
      out.call<void>("push", o);
    }
    return out;
  }
  // Same as ApplyUpdate without building change events (bulk loading).
  void ApplyUpdateQuiet(const val& update) {
    auto r = doc_->ApplyUpdate(FromBytes(update), false);
    if (!r.ok()) Throw(r.status());
  }
  val Snapshot() const { return Bytes(doc_->EncodeSnapshot()); }
  double PendingRuns() const {
    return static_cast<double>(doc_->pending_runs());
  }

 private:
  std::unique_ptr<TextDoc> doc_;
};

WasmTextDoc* Load(const val& snapshot, double client) {
  auto d =
      TextDoc::LoadSnapshot(FromBytes(snapshot), static_cast<uint64_t>(client));
  if (!d.ok()) Throw(d.status());
  return new WasmTextDoc(std::move(*d));
}

double Utf16ToCodePoint(const std::string& text, double off) {
  auto r = weft::core::Utf16ToCodePointOffset(text, static_cast<uint64_t>(off));
  if (!r.ok()) Throw(r.status());
  return static_cast<double>(*r);
}

double CodePointToUtf16(const std::string& text, double off) {
  auto r = weft::core::CodePointToUtf16Offset(text, static_cast<uint64_t>(off));
  if (!r.ok()) Throw(r.status());
  return static_cast<double>(*r);
}

}  // namespace

EMSCRIPTEN_BINDINGS(weft) {
  emscripten::class_<WasmTextDoc>("TextDoc")
      .constructor<double>()
      .function("insert", &WasmTextDoc::Insert)
      .function("remove", &WasmTextDoc::Delete)
      .function("text", &WasmTextDoc::Text)
      .function("length", &WasmTextDoc::Length)
      .function("stateVector", &WasmTextDoc::StateVector)
      .function("diff", &WasmTextDoc::Diff)
      .function("diffRange", &WasmTextDoc::DiffRange)
      .function("applyUpdate", &WasmTextDoc::ApplyUpdate)
      .function("applyUpdateQuiet", &WasmTextDoc::ApplyUpdateQuiet)
      .function("snapshot", &WasmTextDoc::Snapshot)
      .function("pendingRuns", &WasmTextDoc::PendingRuns)
      .class_function("load", &Load, emscripten::allow_raw_pointers());
  emscripten::function("utf16ToCodePoint", &Utf16ToCodePoint);
  emscripten::function("codePointToUtf16", &CodePointToUtf16);
}
