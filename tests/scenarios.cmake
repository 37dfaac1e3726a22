# Run by ctest (not cmake) each time it starts: one test per scenario file
# under TCPSIM_SCENARIO_DIR, lib/ folders excepted, so a new scenario is a
# test without re-running cmake. Expects TCPSIM_EXE, TCPSIM_SCENARIO_DIR and
# TCPSIM_SOURCE_DIR (the working folder) to be set by the including file.
file(GLOB_RECURSE tcpsim_scenarios "${TCPSIM_SCENARIO_DIR}/*.lua")
list(SORT tcpsim_scenarios)
foreach(path IN LISTS tcpsim_scenarios)
  file(RELATIVE_PATH rel "${TCPSIM_SCENARIO_DIR}" "${path}")
  if(rel MATCHES "(^|/)lib/")
    continue()
  endif()
  string(REGEX REPLACE "\\.lua$" "" name "${rel}")
  add_test(scenario/${name} "${TCPSIM_EXE}" run "${path}" --quiet)
  set_tests_properties(scenario/${name} PROPERTIES LABELS scenario TIMEOUT 120
                       WORKING_DIRECTORY "${TCPSIM_SOURCE_DIR}")
endforeach()
