# Browser tests of the web app (label `browser`): playwright-core driving
# Debian's Chromium against a real weftd. Included from tests/CMakeLists.txt.
#
# browser_web_build builds the app into the build tree (after sdk_build has
# built the SDK it links; a fixture the other tests require); each browser test file then starts its own weftd on a free
# loopback port with a throwaway data directory. They run one at a time:
# two Chromiums plus weftd are plenty for a shared 2-core machine.
# Screenshots land in <build>/browser-artifacts/screenshots.
find_program(WEFT_NPM npm)
find_program(WEFT_NODE node)
set(WEFT_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
set(WEFT_WEB_DIST ${CMAKE_BINARY_DIR}/web-dist)
set(WEFT_BROWSER_ARTIFACTS ${CMAKE_BINARY_DIR}/browser-artifacts)

add_test(NAME browser_web_build
  COMMAND ${WEFT_NPM} run build -- --outDir ${WEFT_WEB_DIST} --emptyOutDir
  WORKING_DIRECTORY ${WEFT_WEB_DIR})
set_tests_properties(browser_web_build PROPERTIES
  LABELS browser FIXTURES_SETUP weft_web_dist FIXTURES_REQUIRED weft_sdk
  TIMEOUT 300 RUN_SERIAL TRUE)

file(GLOB WEFT_BROWSER_TESTS CONFIGURE_DEPENDS ${WEFT_WEB_DIR}/tests/*_test.mjs)
foreach(test_file ${WEFT_BROWSER_TESTS})
  get_filename_component(name ${test_file} NAME_WE)
  string(REGEX REPLACE "_test$" "" name ${name})
  add_test(NAME browser_${name}
    COMMAND ${WEFT_NODE} --test --test-concurrency=1 ${test_file}
    WORKING_DIRECTORY ${WEFT_WEB_DIR})
  set_tests_properties(browser_${name} PROPERTIES
    LABELS browser FIXTURES_REQUIRED weft_web_dist TIMEOUT 300 RUN_SERIAL TRUE
    ENVIRONMENT "WEFTD=$<TARGET_FILE:weftd>;WEFT_WEB_DIST=${WEFT_WEB_DIST};WEFT_SCREENSHOTS=${WEFT_BROWSER_ARTIFACTS}/screenshots")
endforeach()
