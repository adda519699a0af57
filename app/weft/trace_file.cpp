#include "weft/trace_file.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

namespace weft::trace {
namespace {

// A minimal JSON reader: enough for the trace format, strict about syntax.
class Json {
 public:
  explicit Json(std::string_view s) : s_(s) {}

  void Ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' ||
                              s_[p_] == '\r' || s_[p_] == '\t')) {
      ++p_;
    }
  }
  bool Eat(char c) {
    Ws();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  Status Expect(char c) {
    if (!Eat(c)) return Status::Corruption(std::string("expected ") + c);
    return Status::Ok();
  }
  static void Utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  Status Hex4(uint32_t* v) {
    if (s_.size() - p_ < 4) return Status::Corruption("bad \\u escape");
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[p_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        *v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        *v |= c - 'A' + 10;
      } else {
        return Status::Corruption("bad \\u escape");
      }
    }
    return Status::Ok();
  }
  Status String(std::string* out) {
    WEFT_RETURN_IF_ERROR(Expect('"'));
    while (true) {
      if (p_ >= s_.size()) return Status::Corruption("unterminated string");
      size_t q = p_;
      while (q < s_.size() && s_[q] != '"' && s_[q] != '\\') ++q;
      out->append(s_.substr(p_, q - p_));
      p_ = q;
      if (p_ >= s_.size()) return Status::Corruption("unterminated string");
      if (s_[p_++] == '"') return Status::Ok();
      if (p_ >= s_.size()) return Status::Corruption("bad escape");
      char e = s_[p_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          WEFT_RETURN_IF_ERROR(Hex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(p_, 2) == "\\u") {
            p_ += 2;
            uint32_t lo;
            WEFT_RETURN_IF_ERROR(Hex4(&lo));
            if (lo < 0xDC00 || lo > 0xDFFF) {
              return Status::Corruption("bad surrogate pair");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          Utf8(cp, out);
          break;
        }
        default:
          return Status::Corruption("bad escape");
      }
    }
  }
  Status Number(int64_t* v) {
    Ws();
    size_t q = p_;
    if (q < s_.size() && s_[q] == '-') ++q;
    while (q < s_.size() && s_[q] >= '0' && s_[q] <= '9') ++q;
    if (q == p_) return Status::Corruption("expected a number");
    *v = std::strtoll(std::string(s_.substr(p_, q - p_)).c_str(), nullptr, 10);
    p_ = q;
    return Status::Ok();
  }
  // `depth`: how deep in skipped arrays and objects (a file of 100,000
  // nested brackets overflowed the stack).
  Status Skip(int depth = 0) {
    constexpr int kMaxDepth = 256;
    if (depth > kMaxDepth) return Status::Corruption("nested too deep");
    Ws();
    if (p_ >= s_.size()) return Status::Corruption("unexpected end");
    char c = s_[p_];
    if (c == '"') {
      std::string tmp;
      return String(&tmp);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++p_;
      if (Eat(close)) return Status::Ok();
      do {
        if (c == '{') {
          std::string k;
          WEFT_RETURN_IF_ERROR(String(&k));
          WEFT_RETURN_IF_ERROR(Expect(':'));
        }
        WEFT_RETURN_IF_ERROR(Skip(depth + 1));
      } while (Eat(','));
      return Expect(close);
    }
    size_t q = p_;
    while (q < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[q])) ||
                             s_[q] == '-' || s_[q] == '+' || s_[q] == '.')) {
      ++q;
    }
    if (q == p_) return Status::Corruption("bad value");
    p_ = q;
    return Status::Ok();
  }
  // Calls f(key) for each member of an object.
  template <typename F>
  Status Object(F f) {
    WEFT_RETURN_IF_ERROR(Expect('{'));
    if (Eat('}')) return Status::Ok();
    do {
      std::string key;
      WEFT_RETURN_IF_ERROR(String(&key));
      WEFT_RETURN_IF_ERROR(Expect(':'));
      WEFT_RETURN_IF_ERROR(f(key));
    } while (Eat(','));
    return Expect('}');
  }
  template <typename F>
  Status Array(F f) {
    WEFT_RETURN_IF_ERROR(Expect('['));
    if (Eat(']')) return Status::Ok();
    do {
      WEFT_RETURN_IF_ERROR(f());
    } while (Eat(','));
    return Expect(']');
  }
  bool AtEnd() {
    Ws();
    return p_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t p_ = 0;
};

Status ParsePatch(Json* j, Trace* t) {
  int64_t pos, del;
  std::string ins;
  WEFT_RETURN_IF_ERROR(j->Expect('['));
  WEFT_RETURN_IF_ERROR(j->Number(&pos));
  WEFT_RETURN_IF_ERROR(j->Expect(','));
  WEFT_RETURN_IF_ERROR(j->Number(&del));
  WEFT_RETURN_IF_ERROR(j->Expect(','));
  WEFT_RETURN_IF_ERROR(j->String(&ins));
  while (j->Eat(',')) WEFT_RETURN_IF_ERROR(j->Skip());  // e.g. timestamps
  WEFT_RETURN_IF_ERROR(j->Expect(']'));
  if (pos < 0 || del < 0 || pos > UINT32_MAX || del > UINT32_MAX) {
    return Status::Corruption("bad patch");
  }
  t->patches.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(del),
                        static_cast<uint32_t>(t->arena.size()),
                        static_cast<uint32_t>(ins.size())});
  t->arena += ins;
  return Status::Ok();
}

Status ParseTxn(Json* j, Trace* t) {
  Txn txn;
  txn.first_patch = static_cast<uint32_t>(t->patches.size());
  WEFT_RETURN_IF_ERROR(j->Object([&](const std::string& key) -> Status {
    if (key == "patches") {
      return j->Array([&] { return ParsePatch(j, t); });
    }
    if (key == "agent") {
      int64_t a;
      WEFT_RETURN_IF_ERROR(j->Number(&a));
      if (a < 0 || a > 1 << 20) return Status::Corruption("bad agent");
      txn.agent = static_cast<uint32_t>(a);
      return Status::Ok();
    }
    if (key == "parents") {
      return j->Array([&]() -> Status {
        int64_t p;
        WEFT_RETURN_IF_ERROR(j->Number(&p));
        if (p < 0 || static_cast<uint64_t>(p) >= t->txns.size()) {
          return Status::Corruption("parent does not precede its child");
        }
        txn.parents.push_back(static_cast<uint32_t>(p));
        return Status::Ok();
      });
    }
    return j->Skip();
  }));
  txn.num_patches = static_cast<uint32_t>(t->patches.size()) - txn.first_patch;
  t->txns.push_back(std::move(txn));
  return Status::Ok();
}

}  // namespace

Result<Trace> ParseTrace(std::string_view json) {
  Trace t;
  Json j(json);
  Status s = j.Object([&](const std::string& key) -> Status {
    if (key == "kind") {
      std::string kind;
      WEFT_RETURN_IF_ERROR(j.String(&kind));
      t.concurrent = kind == "concurrent";
      return Status::Ok();
    }
    if (key == "endContent") return j.String(&t.end_content);
    if (key == "numAgents") {
      int64_t n;
      WEFT_RETURN_IF_ERROR(j.Number(&n));
      if (n < 1 || n > 1 << 20) return Status::Corruption("bad numAgents");
      t.num_agents = static_cast<uint32_t>(n);
      return Status::Ok();
    }
    if (key == "txns") return j.Array([&] { return ParseTxn(&j, &t); });
    return j.Skip();
  });
  if (!s.ok()) return s;
  if (!j.AtEnd()) return Status::Corruption("trailing bytes after the trace");
  for (const Txn& txn : t.txns) {
    if (txn.agent >= t.num_agents) return Status::Corruption("bad agent");
  }
  return t;
}

Result<Trace> LoadTraceFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // also reads uncompressed files
  if (f == nullptr) return Status::NotFound("cannot open " + path);
  std::string json;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) json.append(buf, n);
  bool failed = n < 0;
  gzclose(f);
  if (failed) return Status::Corruption("cannot decompress " + path);
  return ParseTrace(json);
}

}  // namespace weft::trace
