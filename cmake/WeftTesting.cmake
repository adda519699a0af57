# weft_add_test(NAME name SOURCES ... LIBS ... [LABELS ...])
#
# One gtest binary; every TEST in it becomes a ctest test carrying LABELS
# (postgres, redis, browser, slow). `make test` runs everything except `slow`.
function(weft_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  weft_warnings(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main)
  list(LENGTH T_LABELS label_count)
  if(label_count GREATER 1)
    # gtest_discover_tests cannot carry a list-valued property, so a binary
    # with several labels is one ctest test.
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT 900 LABELS "${T_LABELS}")
    return()
  endif()
  # A hung test fails after 5 minutes instead of eating CI's time.
  set(props PROPERTIES TIMEOUT 300)
  if(T_LABELS)
    list(APPEND props LABELS ${T_LABELS})
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 ${props})
endfunction()
