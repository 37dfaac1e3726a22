# What `cmake --install` puts where, and the Debian package `cpack -G DEB`
# makes from it:
#   bin/tcpsim                         the command
#   share/tcpsim/lib/*.lua             the scenario library (require "pair");
#                                      tcpsim finds it as ../share/tcpsim/lib
#                                      from its own folder, so keep the default
#                                      bin and share layout
#   share/tcpsim/types/tcpsim.lua      editor annotations (LuaLS)
#   share/tcpsim/scenarios/            the example scenarios
#   share/man/man1/tcpsim.1            the manual, made by `tcpsim man` from the
#                                      same text as --help
#   share/doc/tcpsim/                  README and docs/
include(GNUInstallDirs)

set(TCPSIM_MAN ${CMAKE_BINARY_DIR}/tcpsim.1)
add_custom_command(OUTPUT ${TCPSIM_MAN}
                   COMMAND $<TARGET_FILE:tcpsim> man > ${TCPSIM_MAN}
                   DEPENDS tcpsim
                   COMMENT "Generating the manual page tcpsim.1 from the help texts")
add_custom_target(tcpsim_man ALL DEPENDS ${TCPSIM_MAN})

install(TARGETS tcpsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/lib/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpsim/lib FILES_MATCHING PATTERN "*.lua")
install(FILES ${PROJECT_SOURCE_DIR}/share/types/tcpsim.lua
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpsim/types)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tcpsim/scenarios
        FILES_MATCHING PATTERN "*.lua" PATTERN "lib" EXCLUDE)
install(FILES ${TCPSIM_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME tcpsim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "deterministic network simulator with its own RFC 9293 TCP, driven by Lua")
set(CPACK_PACKAGE_DESCRIPTION
    "tcpsim runs Lua scenarios that build a network, drive TCP sockets, inject faults aimed at single segments and check each endpoint's state trace. The same scenario and seed give a byte-identical run. Outputs: ladder diagrams, JSON traces, pcap/pcapng, SVG and Graphviz state diagrams.")
set(CPACK_PACKAGE_CONTACT "tcpsim maintainers <maintainers@tcpsim.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends: from the libraries tcpsim links (liblua5.4-0, libc6)
set(CPACK_GENERATOR DEB)
include(CPack)
