# Run by ctest (not cmake) each time it starts: every scenario file under
# TCPSIM_SCENARIO_DIR (lib/ folders excepted) becomes one test per profile,
# so a new scenario is a test without re-running cmake. Expects TCPSIM_EXE,
# TCPSIM_SCENARIO_DIR and TCPSIM_SOURCE_DIR (the working folder) to be set by
# the including file.
#
# scenario/<name>@<profile> runs the scenario with --profile <profile> and the
# stack invariants checked (--check). A scenario covers all three profiles
# unless a line "-- profiles: P..." near its top names the ones it covers.
# A line "-- known-failure P...: why" names profiles under which an
# expectation fails because of a known stack bug: those runs are registered
# DISABLED (ctest lists them as not run), never as passing; the test
# cli/known_failures fails as soon as one of them passes.
set(tcpsim_profiles rfc9293 linux bsd)
file(GLOB_RECURSE tcpsim_scenarios "${TCPSIM_SCENARIO_DIR}/*.lua")
list(SORT tcpsim_scenarios)
foreach(path IN LISTS tcpsim_scenarios)
  file(RELATIVE_PATH rel "${TCPSIM_SCENARIO_DIR}" "${path}")
  if(rel MATCHES "(^|/)lib/")
    continue()
  endif()
  string(REGEX REPLACE "\\.lua$" "" name "${rel}")
  set(covers ${tcpsim_profiles})
  file(STRINGS "${path}" covers_line REGEX "^-- profiles:" LIMIT_COUNT 1)
  if(covers_line)
    string(REGEX REPLACE "^-- profiles:[ ]*" "" covers "${covers_line}")
    separate_arguments(covers)
  endif()
  set(known "")
  file(STRINGS "${path}" known_lines REGEX "^-- known-failure [a-z0-9 ]+:")
  foreach(line IN LISTS known_lines)
    string(REGEX REPLACE "^-- known-failure ([a-z0-9 ]+):.*" "\\1" ps "${line}")
    separate_arguments(ps)
    list(APPEND known ${ps})
  endforeach()
  foreach(profile IN LISTS covers)
    set(test scenario/${name}@${profile})
    add_test(${test} "${TCPSIM_EXE}" run "${path}" --quiet --check --profile ${profile})
    set_tests_properties(${test} PROPERTIES LABELS scenario TIMEOUT 120
                         WORKING_DIRECTORY "${TCPSIM_SOURCE_DIR}")
    list(FIND known ${profile} at) # not IN_LIST: ctest reads this file without its policy
    if(at GREATER -1)
      set_tests_properties(${test} PROPERTIES DISABLED TRUE)
    endif()
  endforeach()
endforeach()
