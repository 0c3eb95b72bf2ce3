# The bridge as a Debian package (component "bridge"), built by CPack:
#   scripts/package.sh            -> build/package/packages/ssebridge_<v>_<arch>.deb
#
# Contents: /usr/bin/ssebridge (stripped), the systemd unit, the conffile
# /etc/default/ssebridge and the man page (both generated from the binary's
# --help by packaging/gen_docs.py, so they list exactly its flags), the proto
# under /usr/share/ssebridge/proto, README and CHANGELOG under
# /usr/share/doc/ssebridge. Depends: computed by dpkg-shlibdeps from the
# libraries the binary links. Other components (the C++ client, "cpp") are
# installed with `cmake --install`, not packaged here.
# A package of an instrumented binary makes no sense, and generating the docs
# would run it (ASan's leak check at exit could eat its --help output).
if(NOT SSEBRIDGE_SANITIZE STREQUAL "")
  return()
endif()

set(SSEBRIDGE_DOCS_DIR ${CMAKE_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${SSEBRIDGE_DOCS_DIR}/ssebridge.1.gz ${SSEBRIDGE_DOCS_DIR}/ssebridge.default
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SSEBRIDGE_DOCS_DIR}
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/packaging/gen_docs.py
          $<TARGET_FILE:ssebridge> ${PROJECT_VERSION} ${SSEBRIDGE_DOCS_DIR}
  DEPENDS ssebridge ${PROJECT_SOURCE_DIR}/packaging/gen_docs.py
  COMMENT "Generating the man page and /etc/default/ssebridge from --help")
add_custom_target(ssebridge_package_docs ALL DEPENDS
  ${SSEBRIDGE_DOCS_DIR}/ssebridge.1.gz ${SSEBRIDGE_DOCS_DIR}/ssebridge.default)

install(TARGETS ssebridge RUNTIME DESTINATION bin COMPONENT bridge)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/ssebridge.service
        DESTINATION lib/systemd/system COMPONENT bridge)
install(FILES ${SSEBRIDGE_DOCS_DIR}/ssebridge.default
        DESTINATION /etc/default RENAME ssebridge COMPONENT bridge)
install(FILES ${SSEBRIDGE_DOCS_DIR}/ssebridge.1.gz
        DESTINATION share/man/man1 COMPONENT bridge)
install(FILES ${PROJECT_SOURCE_DIR}/proto/ssebridge/v1/bridge.proto
        DESTINATION share/ssebridge/proto/ssebridge/v1 COMPONENT bridge)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION share/doc/ssebridge COMPONENT bridge)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ssebridge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ssebridge maintainers <ssebridge@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gRPC-to-SSE bridge: backends publish, browsers receive Server-Sent Events")
set(CPACK_PACKAGE_DESCRIPTION
    "Backends publish events over gRPC or POST /v1/publish; browsers receive\n\
them as Server-Sent Events on GET /v1/events, with resume from history,\n\
per-user delivery, JWT and ticket authentication and a Redis broker for\n\
several replicas. Runs as the systemd service ssebridge.service.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL bridge)
set(CPACK_DEBIAN_BRIDGE_PACKAGE_NAME ssebridge)
set(CPACK_DEBIAN_BRIDGE_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_BRIDGE_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_BRIDGE_PACKAGE_SHLIBDEPS ON)
# useradd/groupadd come from passwd (Priority: required): no adduser needed.
set(CPACK_DEBIAN_BRIDGE_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_BRIDGE_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
