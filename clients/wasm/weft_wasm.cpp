// JavaScript bindings (embind) for the text engine: the same TextDoc as
// native weft, bytes in and bytes out. Types: weft.d.ts.
#include <emscripten/bind.h>
#include <emscripten/emscripten.h>
#include <emscripten/val.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/doc.h"
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

// The dense per-client operation count that names a sync change's ids
// (docs/protocol.md, `change`).
uint64_t OpCountOf(const TextDoc& doc, uint64_t client) {
  return doc.OpCount(client);
}
uint64_t OpCountOf(const weft::core::Doc& doc, uint64_t client) {
  return doc.OpCount(client);
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

// Client ids, positions and lengths travel as JS numbers: integers below
// 2^53, checked before the conversion (a negative, fractional, NaN or larger
// number would be undefined behaviour, or quietly another id or position:
// insert(-1, ...) used to insert at 0).
bool IsIndex(double v) {
  return v >= 0 && v <= 9007199254740991.0 && v == std::floor(v);
}
weft::Status ToIndex(double v, uint64_t* out, const char* what = "position") {
  if (!IsIndex(v)) {
    return weft::Status::InvalidArgument(
        std::string(what) + " must be an integer from 0 to 2^53 - 1");
  }
  *out = static_cast<uint64_t>(v);
  return weft::Status::Ok();
}
uint64_t Index(double v, const char* what = "position") {
  uint64_t out = 0;
  if (weft::Status s = ToIndex(v, &out, what); !s.ok()) Throw(s);
  return out;
}
uint64_t ClientId(double v) { return Index(v, "client id"); }

class WasmTextDoc {
 public:
  explicit WasmTextDoc(double client)
      : doc_(std::make_unique<TextDoc>(ClientId(client))) {}
  // A loaded snapshot: text() and length() answer from what
  // TextDoc::PeekSnapshotText read; the document is built from the
  // snapshot on the first call that needs it (see Built).
  WasmTextDoc(std::string snapshot, uint64_t client, TextDoc::PeekedText text)
      : deferred_(std::make_unique<Deferred>(
            Deferred{std::move(snapshot), client, std::move(text), {}})) {}

  // The document, built now if it was deferred. A snapshot that fails the
  // build's checks leaves an error that every later call returns.
  weft::Status Built() const {
    if (doc_ != nullptr) return weft::Status::Ok();
    if (!deferred_->error.ok()) return deferred_->error;
    auto d = TextDoc::LoadSnapshot(deferred_->snapshot, deferred_->client, {},
                                   TextDoc::LoadKeep::kText);
    if (!d.ok()) {
      deferred_->error = d.status();
      deferred_->snapshot = std::string();
      deferred_->text = {};
      return d.status();
    }
    doc_ = std::move(*d);
    deferred_.reset();
    return weft::Status::Ok();
  }
  // A loaded document whose build failed (every call throws).
  bool Failed() const { return deferred_ != nullptr && !deferred_->error.ok(); }
  TextDoc& doc() const {
    if (weft::Status s = Built(); !s.ok()) Throw(s);
    return *doc_;
  }

  void Insert(double pos, const std::string& text) {
    weft::Status s = InsertUtf8Status(pos, text);
    if (!s.ok()) Throw(s);
  }
  void Delete(double pos, double len) {
    weft::Status s = DeleteStatus(pos, len);
    if (!s.ok()) Throw(s);
  }
  // One code point (typing), without converting a JS string.
  void InsertCodePoint(double pos, double code_point) {
    weft::Status s = InsertCodePointStatus(pos, code_point);
    if (!s.ok()) Throw(s);
  }
  weft::Status InsertCodePointStatus(double pos, double code_point) {
    if (!(code_point >= 0 && code_point <= 0x10FFFF) ||
        code_point != static_cast<double>(static_cast<uint32_t>(code_point))) {
      return weft::Status::InvalidArgument("not a Unicode code point");
    }
    uint64_t at = 0;
    WEFT_RETURN_IF_ERROR(ToIndex(pos, &at));
    WEFT_RETURN_IF_ERROR(Built());
    std::string utf8;
    weft::core::AppendUtf8(static_cast<char32_t>(code_point), &utf8);
    return doc().Insert(at, utf8);  // rejects surrogates
  }
  weft::Status InsertUtf8Status(double pos, std::string_view utf8) {
    uint64_t at = 0;
    WEFT_RETURN_IF_ERROR(ToIndex(pos, &at));
    WEFT_RETURN_IF_ERROR(Built());
    return doc().Insert(at, utf8);
  }
  weft::Status DeleteStatus(double pos, double len) {
    uint64_t at = 0, n = 0;
    WEFT_RETURN_IF_ERROR(ToIndex(pos, &at));
    WEFT_RETURN_IF_ERROR(ToIndex(len, &n, "length"));
    WEFT_RETURN_IF_ERROR(Built());
    return doc().Delete(at, n);
  }
  std::string Text() const {
    if (Peeked() != nullptr) return Peeked()->utf8;
    return doc().Text();
  }
  double Length() const {
    if (Peeked() != nullptr) return static_cast<double>(Peeked()->length);
    return static_cast<double>(doc().length());
  }
  val StateVector() const { return Bytes(doc().EncodeStateVector()); }
  double OpCount(double client) const {
    return static_cast<double>(OpCountOf(doc(), ClientId(client)));
  }
  val Diff(const val& state_vector) const {
    auto d = doc().EncodeDiffBytes(FromBytes(state_vector));
    if (!d.ok()) Throw(d.status());
    return Bytes(*d);
  }
  // A local change's pair (see weft.d.ts).
  val ClientStateVector(double client) const {
    return Bytes(doc().EncodeClientStateVector(ClientId(client)));
  }
  val ClientDiff(double client, const val& state_vector) const {
    auto d =
        doc().EncodeClientDiffBytes(ClientId(client), FromBytes(state_vector));
    if (!d.ok()) Throw(d.status());
    return Bytes(*d);
  }
  // Only operations below `upto` (a causally closed state vector).
  val DiffRange(const val& have, const val& upto) const {
    auto h = weft::core::DecodeStateVector(FromBytes(have));
    if (!h.ok()) Throw(h.status());
    auto u = weft::core::DecodeStateVector(FromBytes(upto));
    if (!u.ok()) Throw(u.status());
    return Bytes(doc().EncodeDiff(*h, *u));
  }
  val ApplyUpdate(const val& update) {
    auto r = doc().ApplyUpdate(FromBytes(update));
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
    auto r = doc().ApplyUpdate(FromBytes(update), false);
    if (!r.ok()) Throw(r.status());
  }
  // [client, seq] of the character at `pos` (the position is before it),
  // [client, seq, 1] after the last character at the end, or null for an
  // empty text.
  val AnchorAt(double pos) {
    auto a = doc().AnchorAt(Index(pos));
    if (!a.ok()) Throw(a.status());
    if (a->end) return val::null();
    val out = val::array();
    out.call<void>("push", static_cast<double>(a->client));
    out.call<void>("push", static_cast<double>(a->seq));
    if (a->after) out.call<void>("push", 1.0);
    return out;
  }
  // Where that position is now, or -1 if this replica lacks the character.
  double ResolveAnchor(double client, double seq, bool after) const {
    if (!IsIndex(seq) || seq >= 4294967296.0 || !IsIndex(client)) return -1;
    auto pos = doc().ResolveAnchor({static_cast<uint64_t>(client),
                                    static_cast<uint32_t>(seq), after, false});
    return pos ? static_cast<double>(*pos) : -1;
  }
  val Snapshot() const { return Bytes(doc().EncodeSnapshot()); }
  double PendingRuns() const {
    return static_cast<double>(doc().pending_runs());
  }

 private:
  struct Deferred {
    std::string snapshot;
    uint64_t client;
    TextDoc::PeekedText text;
    weft::Status error;
  };
  // The text read from a snapshot not yet built, or null.
  const TextDoc::PeekedText* Peeked() const {
    return deferred_ != nullptr && deferred_->error.ok() ? &deferred_->text
                                                         : nullptr;
  }

  mutable std::unique_ptr<TextDoc> doc_;
  mutable std::unique_ptr<Deferred> deferred_;  // set while doc_ is null
};

}  // namespace

namespace {
std::string text_buffer;  // see weft_text_utf8
}  // namespace

// Entry points for the typing wrapper of weft_post.js: plain wasm exports
// with number arguments, which skip embind's argument conversion and the
// JS string -> std::string copy. They return 0 on success; on failure the
// text is unchanged (a loaded document whose build failed keeps that
// error) and the wrapper repeats the call through embind, which throws
// the error. Not part of the documented API (weft.d.ts).
extern "C" {
EMSCRIPTEN_KEEPALIVE int weft_text_insert_code_point(WasmTextDoc* doc,
                                                     double pos, double cp) {
  return doc->InsertCodePointStatus(pos, cp).ok() ? 0 : 1;
}
// `utf8` points at `bytes` bytes that the wrapper wrote into the buffer
// weft_scratch returned.
EMSCRIPTEN_KEEPALIVE int weft_text_insert_utf8(WasmTextDoc* doc, double pos,
                                               const char* utf8,
                                               uint32_t bytes) {
  return doc->InsertUtf8Status(pos, std::string_view(utf8, bytes)).ok() ? 0 : 1;
}
EMSCRIPTEN_KEEPALIVE int weft_text_remove(WasmTextDoc* doc, double pos,
                                          double len) {
  return doc->DeleteStatus(pos, len).ok() ? 0 : 1;
}
// A buffer of at least `bytes` bytes, valid until the next call.
EMSCRIPTEN_KEEPALIVE char* weft_scratch(uint32_t bytes) {
  static std::string buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}
// The text for TextDoc.text: weft_text_utf8 writes it (UTF-8) into one
// buffer and returns its size; the wrapper decodes weft_text_data()'s
// bytes with a TextDecoder straight from wasm memory (embind's std::string
// return copies it once more and scans it byte by byte in JS), then
// frees the buffer with weft_text_release.
// UINT32_MAX when the document failed to build: the wrapper then calls
// through embind, which throws that error.
EMSCRIPTEN_KEEPALIVE uint32_t weft_text_utf8(const WasmTextDoc* doc) {
  if (doc->Failed()) return UINT32_MAX;
  text_buffer = doc->Text();
  return static_cast<uint32_t>(text_buffer.size());
}
EMSCRIPTEN_KEEPALIVE const char* weft_text_data() { return text_buffer.data(); }
EMSCRIPTEN_KEEPALIVE void weft_text_release() {
  std::string().swap(text_buffer);
}
}

namespace {

// A loaded document is usually shown at once and edited later, if at all:
// the load checks the snapshot's header and text and keeps the text
// (text() needs nothing more); the document itself is built on the first
// call that needs it (WasmTextDoc::Built).
WasmTextDoc* Load(const val& snapshot, double client) {
  const uint64_t id = ClientId(client);
  std::string bytes = FromBytes(snapshot);
  auto text = TextDoc::PeekSnapshotText(bytes);
  if (!text.ok()) Throw(text.status());
  return new WasmTextDoc(std::move(bytes), id, std::move(*text));
}

double Utf16ToCodePoint(const std::string& text, double off) {
  auto r = weft::core::Utf16ToCodePointOffset(text, Index(off));
  if (!r.ok()) Throw(r.status());
  return static_cast<double>(*r);
}

double CodePointToUtf16(const std::string& text, double off) {
  auto r = weft::core::CodePointToUtf16Offset(text, Index(off));
  if (!r.ok()) Throw(r.status());
  return static_cast<double>(*r);
}

// Containers travel as strings: "map:NAME", "list:NAME", "text:NAME" for
// roots, "map@CLIENT:SEQ" (list@, text@) for nested ones. List items as
// "CLIENT:SEQ". Values: null, boolean, number (integers become int64,
// others double), string, or {new: "map" | "list" | "text"}.
using weft::core::ContainerKind;
using weft::core::ContainerRef;
using weft::core::OpId;
using weft::core::Value;

std::string KindName(ContainerKind k) {
  return k == ContainerKind::kMap    ? "map"
         : k == ContainerKind::kList ? "list"
                                     : "text";
}

// Decimal digits only (no exceptions in this build: no std::stoull).
uint64_t ParseU64(const std::string& s, uint64_t max) {
  if (s.empty() || s.size() > 20) {
    Throw(weft::Status::InvalidArgument("bad number: " + s));
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (max - (c - '0')) / 10) {
      Throw(weft::Status::InvalidArgument("bad number: " + s));
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

OpId ParseId(const std::string& s) {
  size_t colon = s.find(':');
  if (colon == std::string::npos) {
    Throw(weft::Status::InvalidArgument("bad id: " + s));
  }
  return {ParseU64(s.substr(0, colon), UINT64_MAX),
          static_cast<uint32_t>(ParseU64(s.substr(colon + 1), UINT32_MAX))};
}

std::string IdString(OpId id) {
  return std::to_string(id.client) + ":" + std::to_string(id.seq);
}

ContainerRef ParseRef(const std::string& s) {
  size_t at = s.find_first_of(":@");
  if (at == std::string::npos) {
    Throw(weft::Status::InvalidArgument("bad container: " + s));
  }
  std::string kind = s.substr(0, at);
  ContainerRef r;
  if (kind == "map") {
    r.kind = ContainerKind::kMap;
  } else if (kind == "list") {
    r.kind = ContainerKind::kList;
  } else if (kind == "text") {
    r.kind = ContainerKind::kText;
  } else {
    Throw(weft::Status::InvalidArgument("bad container kind: " + s));
  }
  r.root = s[at] == ':';
  if (r.root) {
    r.name = s.substr(at + 1);
  } else {
    r.id = ParseId(s.substr(at + 1));
  }
  return r;
}

std::string RefString(const ContainerRef& r) {
  return KindName(r.kind) + (r.root ? ":" + r.name : "@" + IdString(r.id));
}

Value ToValue(const val& v) {
  std::string type = v.typeOf().as<std::string>();
  if (v.isNull() || v.isUndefined()) return Value::Null();
  if (type == "boolean") return Value::Bool(v.as<bool>());
  if (type == "number") {
    double d = v.as<double>();
    if (val::global("Number").call<bool>("isSafeInteger", v)) {
      return Value::Int(static_cast<int64_t>(d));
    }
    return Value::Double(d);
  }
  if (type == "string") return Value::String(v.as<std::string>());
  if (type == "object" && v.hasOwnProperty("new")) {
    std::string k = v["new"].as<std::string>();
    if (k == "map") return Value::NewMap();
    if (k == "list") return Value::NewList();
    if (k == "text") return Value::NewText();
  }
  Throw(weft::Status::InvalidArgument("unsupported value"));
}

class WasmDoc {
 public:
  explicit WasmDoc(double client)
      : doc_(std::make_unique<weft::core::Doc>(ClientId(client))) {}
  explicit WasmDoc(std::unique_ptr<weft::core::Doc> d) : doc_(std::move(d)) {}

  val MapSet(const std::string& map, const std::string& key, const val& v) {
    auto r = doc_->structure().MapSet(ParseRef(map), key, ToValue(v));
    if (!r.ok()) Throw(r.status());
    return r->has_value() ? val(RefString(**r)) : val::undefined();
  }
  void MapDelete(const std::string& map, const std::string& key) {
    weft::Status s = doc_->structure().MapDelete(ParseRef(map), key);
    if (!s.ok()) Throw(s);
  }
  std::string ListInsert(const std::string& list, double index, const val& v) {
    auto r = doc_->structure().ListInsert(
        ParseRef(list), static_cast<size_t>(Index(index, "index")), ToValue(v));
    if (!r.ok()) Throw(r.status());
    return IdString(*r);
  }
  void ListMove(const std::string& list, const std::string& item,
                double index) {
    weft::Status s =
        doc_->structure().ListMove(ParseRef(list), ParseId(item),
                                   static_cast<size_t>(Index(index, "index")));
    if (!s.ok()) Throw(s);
  }
  void ListSet(const std::string& list, const std::string& item, const val& v) {
    weft::Status s =
        doc_->structure().ListSet(ParseRef(list), ParseId(item), ToValue(v));
    if (!s.ok()) Throw(s);
  }
  void ListDelete(const std::string& list, const std::string& item) {
    weft::Status s =
        doc_->structure().ListDelete(ParseRef(list), ParseId(item));
    if (!s.ok()) Throw(s);
  }
  // Item ids of a list, in order.
  val ListIds(const std::string& list) const {
    val out = val::array();
    for (const auto& e : doc_->structure().ListItems(ParseRef(list))) {
      out.call<void>("push", IdString(e.id));
    }
    return out;
  }
  // The container a map key holds, or undefined.
  val MapContainer(const std::string& map, const std::string& key) const {
    auto r = doc_->structure().MapGetContainer(ParseRef(map), key);
    return r ? val(RefString(*r)) : val::undefined();
  }
  weft::core::TextDoc* TextOf(const std::string& text) {
    auto t = doc_->Text(ParseRef(text));
    if (!t.ok()) Throw(t.status());
    return *t;
  }
  void TextInsert(const std::string& text, double pos, const std::string& s) {
    weft::Status st = TextOf(text)->Insert(Index(pos), s);
    if (!st.ok()) Throw(st);
  }
  void TextRemove(const std::string& text, double pos, double len) {
    weft::Status st = TextOf(text)->Delete(Index(pos), Index(len, "length"));
    if (!st.ok()) Throw(st);
  }
  std::string Text(const std::string& text) { return TextOf(text)->Text(); }
  std::string ToJson() const { return doc_->ToJson(); }
  val StateVector() const { return Bytes(doc_->EncodeStateVector()); }
  double OpCount(double client) const {
    return static_cast<double>(OpCountOf(*doc_, ClientId(client)));
  }
  val Diff(const val& sv) const {
    auto d = doc_->EncodeDiff(FromBytes(sv));
    if (!d.ok()) Throw(d.status());
    return Bytes(*d);
  }
  val ClientStateVector(double client) const {
    return Bytes(doc_->EncodeClientStateVector(ClientId(client)));
  }
  val ClientDiff(double client, const val& sv) const {
    auto d = doc_->EncodeClientDiff(ClientId(client), FromBytes(sv));
    if (!d.ok()) Throw(d.status());
    return Bytes(*d);
  }
  // What changed: {container, key} for maps, {container, item} for lists,
  // {container} for a text's content.
  val ApplyUpdate(const val& update) {
    std::vector<weft::core::StructChange> changes;
    weft::Status s = doc_->ApplyUpdate(FromBytes(update), &changes);
    if (!s.ok()) Throw(s);
    val out = val::array();
    for (const auto& c : changes) {
      val o = val::object();
      o.set("container", RefString(c.container));
      if (c.container.kind == weft::core::ContainerKind::kMap) {
        o.set("key", c.key);
      } else if (c.container.kind == weft::core::ContainerKind::kList) {
        o.set("item", IdString(c.item));
      }
      out.call<void>("push", o);
    }
    return out;
  }
  val Snapshot() const { return Bytes(doc_->EncodeSnapshot()); }

 private:
  std::unique_ptr<weft::core::Doc> doc_;
};

WasmDoc* LoadDoc(const val& snapshot, double client) {
  auto d = weft::core::Doc::LoadSnapshot(FromBytes(snapshot), ClientId(client));
  if (!d.ok()) Throw(d.status());
  return new WasmDoc(std::move(*d));
}

}  // namespace

EMSCRIPTEN_BINDINGS(weft) {
  emscripten::class_<WasmDoc>("Doc")
      .constructor<double>()
      .function("mapSet", &WasmDoc::MapSet)
      .function("mapDelete", &WasmDoc::MapDelete)
      .function("mapContainer", &WasmDoc::MapContainer)
      .function("listInsert", &WasmDoc::ListInsert)
      .function("listMove", &WasmDoc::ListMove)
      .function("listSet", &WasmDoc::ListSet)
      .function("listDelete", &WasmDoc::ListDelete)
      .function("listIds", &WasmDoc::ListIds)
      .function("textInsert", &WasmDoc::TextInsert)
      .function("textRemove", &WasmDoc::TextRemove)
      .function("text", &WasmDoc::Text)
      .function("toJson", &WasmDoc::ToJson)
      .function("stateVector", &WasmDoc::StateVector)
      .function("opCount", &WasmDoc::OpCount)
      .function("diff", &WasmDoc::Diff)
      .function("clientStateVector", &WasmDoc::ClientStateVector)
      .function("clientDiff", &WasmDoc::ClientDiff)
      .function("applyUpdate", &WasmDoc::ApplyUpdate)
      .function("snapshot", &WasmDoc::Snapshot)
      .class_function("load", &LoadDoc, emscripten::allow_raw_pointers());
  emscripten::class_<WasmTextDoc>("TextDoc")
      .constructor<double>()
      .function("insert", &WasmTextDoc::Insert)
      .function("remove", &WasmTextDoc::Delete)
      .function("insertCodePoint", &WasmTextDoc::InsertCodePoint)
      .function("text", &WasmTextDoc::Text)
      .function("length", &WasmTextDoc::Length)
      .function("stateVector", &WasmTextDoc::StateVector)
      .function("opCount", &WasmTextDoc::OpCount)
      .function("diff", &WasmTextDoc::Diff)
      .function("clientStateVector", &WasmTextDoc::ClientStateVector)
      .function("clientDiff", &WasmTextDoc::ClientDiff)
      .function("diffRange", &WasmTextDoc::DiffRange)
      .function("applyUpdate", &WasmTextDoc::ApplyUpdate)
      .function("applyUpdateQuiet", &WasmTextDoc::ApplyUpdateQuiet)
      .function("snapshot", &WasmTextDoc::Snapshot)
      .function("pendingRuns", &WasmTextDoc::PendingRuns)
      .function("anchorAt", &WasmTextDoc::AnchorAt)
      .function("resolveAnchor", &WasmTextDoc::ResolveAnchor)
      .class_function("load", &Load, emscripten::allow_raw_pointers());
  emscripten::function("utf16ToCodePoint", &Utf16ToCodePoint);
  emscripten::function("codePointToUtf16", &CodePointToUtf16);
}
