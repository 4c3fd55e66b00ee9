# SPDX-License-Identifier: Apache-2.0
# With AICON_FUZZ=ON: one test per fuzz target (label fuzz), each over its seed corpus and then
# AICON_FUZZ_SECONDS of inputs of its own (about a minute for all together); any crash, leak or
# UBSan report fails it. scripts/fuzz.sh runs the same targets for longer.
if(AICON_FUZZ)
  set(AICON_FUZZ_SECONDS 8 CACHE STRING "Seconds each fuzz target runs under ctest after its corpus")
  set(fuzz_corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
  foreach(name ${AICON_FUZZ_TARGETS})
    string(REGEX REPLACE "_fuzz$" "" base ${name})
    set(seeds ${base})
    if(name MATCHES "^onnx_")
      set(seeds onnx)
    endif()
    # libhdf5 1.10 (Debian 12's) overflows its heap on some damaged files: its crashes are reported
    # and kept, not failed on (tests/fuzz/run_fuzz.sh --tolerate); aicon's own never are.
    set(tolerate "")
    if(name MATCHES "^(checkpoint|h5data)_fuzz$")
      set(tolerate --tolerate libhdf5)
    endif()
    add_test(NAME fuzz_${base} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh ${tolerate} $<TARGET_FILE:${name}>
      ${fuzz_corpus}/${seeds} ${AICON_FUZZ_SECONDS})
    set_tests_properties(fuzz_${base} PROPERTIES LABELS fuzz TIMEOUT 300
      ENVIRONMENT "AICON_FUZZ_KEEP=${CMAKE_BINARY_DIR}/fuzz-tolerated/${base}")
  endforeach()
endif()
