#!/usr/bin/env python3
"""Converts docs/openapi.yaml to JSON and writes a C++ source defining
weftd::OpenApiJson(), so weftd serves GET /api/v1/openapi.json without a YAML
parser. Usage: openapi_to_cpp.py <openapi.yaml> <out.cpp>"""
import json
import sys

import yaml

spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
text = json.dumps(spec, separators=(",", ":"), ensure_ascii=True)
chunks = [text[i:i + 2000] for i in range(0, len(text), 2000)]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("// Generated from docs/openapi.yaml by scripts/openapi_to_cpp.py.\n")
    out.write("#include <string>\n\nnamespace weftd {\n\n")
    out.write("std::string OpenApiJson() {\n  std::string s;\n")
    for c in chunks:
        out.write('  s += R"weftjson(' + c + ')weftjson";\n')
    out.write("  return s;\n}\n\n}  // namespace weftd\n")
