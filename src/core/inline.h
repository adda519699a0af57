#pragma once

// WEFT_INLINE: inlined even where the compiler's heuristics would not. For
// the few small functions of bulk decoding loops (snapshot loading): a
// loop keeps its reader's pointers and counters in registers only if
// every call in it is inlined, and a call per span costs more than the
// work in it (in WebAssembly, too).
#define WEFT_INLINE [[gnu::always_inline]] inline
