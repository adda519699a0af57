# weft_add_test(NAME name SOURCES ... LIBS ... [LABELS ...])
#
# One gtest binary; every TEST in it becomes a ctest test carrying LABELS
# (postgres, redis, browser, slow). `make test` runs everything except `slow`.
function(weft_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  weft_warnings(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main)
  # A hung test fails after 5 minutes instead of eating CI's time.
  set(props PROPERTIES TIMEOUT 300)
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 ${props})
endfunction()
