# The micro suite's smoke test: run one benchmark (NAME, default pair/buddy/64) briefly with
# JSON output, then check with CMake's JSON parser that the file parses, holds that
# benchmark, and that it ran.
#   cmake -DMICRO=build/kmbench-micro -DOUT=smoke.json [-DNAME=kmem_pair/slab/64]
#         [-DSPECS='slab(magsize=1)'] -P smoke.cmake
cmake_minimum_required(VERSION 3.22)
if(NOT NAME)
  set(NAME pair/buddy/64)
endif()
file(REMOVE ${OUT})
# SPECS: a --kmb_specs list; the name's parentheses are literal in the filter's regex
set(spec_flag "")
if(SPECS)
  set(spec_flag "--kmb_specs=${SPECS}")
endif()
string(REGEX REPLACE "([()])" "\\\\\\1" filter "${NAME}")
execute_process(COMMAND ${MICRO} --benchmark_filter=^${filter}$ --benchmark_min_time=0.01
                        --benchmark_out=${OUT} --benchmark_out_format=json ${spec_flag}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kmbench-micro exited with ${rc}:\n${out}\n${err}")
endif()
file(READ ${OUT} json)
string(JSON n ERROR_VARIABLE jerr LENGTH "${json}" benchmarks)
if(jerr)
  message(FATAL_ERROR "${OUT}: not google-benchmark JSON: ${jerr}")
endif()
if(NOT n EQUAL 1)
  message(FATAL_ERROR "${OUT}: ${n} benchmarks, expected 1 (${NAME})")
endif()
string(JSON name GET "${json}" benchmarks 0 name)
string(JSON iters GET "${json}" benchmarks 0 iterations)
string(JSON ctx GET "${json}" context kmbench_ncpus)
string(JSON error ERROR_VARIABLE noerr GET "${json}" benchmarks 0 error_occurred)
if(NOT name STREQUAL "${NAME}" OR iters LESS 1 OR error)
  message(FATAL_ERROR "${OUT}: unexpected result: name ${name}, iterations ${iters}, error ${error}")
endif()
message(STATUS "${NAME}: ${iters} iterations, ${ctx} CPUs; JSON ok")
