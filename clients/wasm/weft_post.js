// Appended to build/wasm/weft.js (em++ --post-js): routes TextDoc.insert and
// TextDoc.remove, the calls typing makes most, through plain wasm exports
// with number arguments (weft_wasm.cpp, weft_text_*) instead of embind's
// generic invoker and its string conversion. Same behaviour: on any error
// the call is repeated through embind, which throws the usual Error.
// TextDoc.text decodes the UTF-8 text with a TextDecoder straight from wasm
// memory (embind's std::string return scans it byte by byte in JS).
// TextDoc.insert and Doc's methods replace lone surrogates (below).
addOnPostRun(function () {
  var proto = Module['TextDoc'].prototype;
  // A lone surrogate has no UTF-8 form, and emscripten's conversion reads
  // it and the next unit as one astral character (swallowing that unit):
  // text goes in with U+FFFD for each, as TextEncoder would encode it.
  function wellFormed(s) {
    if (typeof s !== 'string') return s;
    if (s.toWellFormed) return s.toWellFormed();
    return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  }
  // Every string a Doc method takes (container names, keys, values, text)
  // crosses the same way, so writes and lookups agree.
  var docProto = Module['Doc'].prototype;
  ['mapSet', 'mapDelete', 'mapContainer', 'listInsert', 'listMove', 'listSet',
   'listDelete', 'listIds', 'textInsert', 'textRemove', 'text'].forEach(function (name) {
    var slow = docProto[name];
    docProto[name] = function () {
      var args = new Array(arguments.length);
      for (var i = 0; i < arguments.length; i++) args[i] = wellFormed(arguments[i]);
      return slow.apply(this, args);
    };
  });
  var slowInsert = proto['insert'];
  var slowRemove = proto['remove'];
  var slowText = proto['text'];
  var scratch = 0;
  var scratchBytes = 0;
  function ptrOf(doc) {
    return doc.$$ ? doc.$$.ptr : 0;
  }
  proto['insert'] = function (pos, text) {
    var ptr = ptrOf(this);
    if (ptr && typeof text === 'string' && text.length > 0) {
      var n = text.length;
      var c = text.charCodeAt(0);
      if (n === 1 && (c < 0xd800 || c > 0xdfff)) {
        if (_weft_text_insert_code_point(ptr, pos, c) === 0) return;
      } else {
        text = wellFormed(text);
        var max = n * 3 + 1;  // UTF-8 bytes per UTF-16 unit, and a NUL
        if (max > scratchBytes) {
          scratchBytes = Math.max(max, 1024);
          scratch = _weft_scratch(scratchBytes);
        }
        var bytes = stringToUTF8Array(text, HEAPU8, scratch, max);
        if (_weft_text_insert_utf8(ptr, pos, scratch, bytes) === 0) return;
      }
    }
    return slowInsert.call(this, pos, wellFormed(text));
  };
  var decoder = typeof TextDecoder !== 'undefined' ? new TextDecoder() : null;
  if (decoder) {
    proto['text'] = function () {
      var ptr = ptrOf(this);
      if (!ptr) return slowText.call(this);
      var n = _weft_text_utf8(ptr) >>> 0;
      if (n === 0xffffffff) return slowText.call(this);  // throws the error
      var at = _weft_text_data();
      var s = decoder.decode(HEAPU8.subarray(at, at + n));
      _weft_text_release();
      return s;
    };
  }
  proto['remove'] = function (pos, len) {
    var ptr = ptrOf(this);
    if (ptr && _weft_text_remove(ptr, pos, len) === 0) return;
    return slowRemove.call(this, pos, len);
  };
});
