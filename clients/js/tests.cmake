# The TypeScript SDK (clients/js), label `sdk`: one setup test installs the
# npm packages from the lock file (only when needed) and builds the package
# (tsc, plus a copy of build/wasm/weft.js, which `make test` builds first);
# then each test file runs under Node, the integration ones against the
# weftd built here.
set(WEFT_SDK_DIR ${PROJECT_SOURCE_DIR}/clients/js)
add_test(NAME sdk_build COMMAND bash ${WEFT_SDK_DIR}/scripts/ctest.sh build)
set_tests_properties(sdk_build PROPERTIES FIXTURES_SETUP weft_sdk LABELS sdk TIMEOUT 600)
foreach(name unit sync codemirror codemirror-view integration)
  add_test(NAME sdk_${name}
    COMMAND bash ${WEFT_SDK_DIR}/scripts/ctest.sh test $<TARGET_FILE:weftd>
            ${WEFT_SDK_DIR}/test/${name}.test.mjs)
  set_tests_properties(sdk_${name} PROPERTIES
    FIXTURES_REQUIRED weft_sdk LABELS sdk TIMEOUT 300)
endforeach()
