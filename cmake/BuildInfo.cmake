# What `ssebridge --version`, the ssebridge_build_info metric and the start-up
# log line report: the VERSION file, the git commit and the build type, all
# fixed when CMake configures.
#
# The commit comes from -DSSEBRIDGE_GIT_COMMIT=<sha> when given (the image
# build passes it: its context has no .git), else from `git rev-parse` when
# the source is a git checkout, else "unknown". A new commit re-runs the
# configure step (HEAD and the branch's ref are configure dependencies), so
# the binary of a checkout does not report a stale commit.
# ssebridge_git_commit(<out> <source dir>): the abbreviated HEAD of the
# checkout at <source dir>, or "unknown" (no git, not a checkout). Also run as
# a script, for tests: cmake -DSOURCE_DIR=<dir> -P cmake/BuildInfo.cmake
function(ssebridge_git_commit out source_dir)
  set(_commit "unknown")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND ${GIT_EXECUTABLE} -C ${source_dir} rev-parse --show-toplevel --short=12 HEAD
      OUTPUT_VARIABLE _out OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _rc ERROR_QUIET)
    # A source tree unpacked inside some other checkout is not that commit.
    string(REPLACE "\n" ";" _out "${_out}")
    list(LENGTH _out _n)
    set(_top "")
    set(_head "")
    if(_n EQUAL 2)
      list(GET _out 0 _top)
      list(GET _out 1 _head)
      get_filename_component(_top "${_top}" REALPATH)
    endif()
    get_filename_component(_src "${source_dir}" REALPATH)
    if(_rc EQUAL 0 AND _top STREQUAL _src AND _head MATCHES "^[0-9a-f]+$")
      set(_commit "${_head}")
      if(NOT CMAKE_SCRIPT_MODE_FILE)
        # Worktrees keep HEAD and refs in different places: ask git for both.
        execute_process(
          COMMAND ${GIT_EXECUTABLE} -C ${source_dir} rev-parse
                  --path-format=absolute --git-path HEAD
          OUTPUT_VARIABLE _head_file OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        execute_process(
          COMMAND ${GIT_EXECUTABLE} -C ${source_dir} symbolic-ref -q HEAD
          OUTPUT_VARIABLE _ref OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        set(_watch ${_head_file})
        if(_ref)
          execute_process(
            COMMAND ${GIT_EXECUTABLE} -C ${source_dir} rev-parse
                    --path-format=absolute --git-path ${_ref} --git-path packed-refs
            OUTPUT_VARIABLE _ref_files OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
          string(REPLACE "\n" ";" _ref_files "${_ref_files}")
          list(APPEND _watch ${_ref_files})
        endif()
        foreach(_f IN LISTS _watch)
          if(EXISTS "${_f}")
            set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY
                         CMAKE_CONFIGURE_DEPENDS "${_f}")
          endif()
        endforeach()
      endif()
    endif()
  endif()
  set(${out} "${_commit}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  ssebridge_git_commit(_commit "${SOURCE_DIR}")
  message("${_commit}")
  return()
endif()

set(SSEBRIDGE_GIT_COMMIT "" CACHE STRING
    "Commit reported by --version (default: git rev-parse HEAD, or unknown)")
set(_commit "${SSEBRIDGE_GIT_COMMIT}")
if(_commit STREQUAL "")
  ssebridge_git_commit(_commit ${PROJECT_SOURCE_DIR})
endif()

set(SSEBRIDGE_BUILD_COMMIT "${_commit}")
set(SSEBRIDGE_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
if(NOT SSEBRIDGE_SANITIZE STREQUAL "")
  string(APPEND SSEBRIDGE_BUILD_TYPE "+${SSEBRIDGE_SANITIZE}")
endif()
if(SSEBRIDGE_FUZZ AND NOT CMAKE_BUILD_TYPE STREQUAL "Fuzz")
  string(APPEND SSEBRIDGE_BUILD_TYPE "+fuzz")
endif()
message(STATUS "ssebridge ${PROJECT_VERSION} (commit ${SSEBRIDGE_BUILD_COMMIT}, "
               "${SSEBRIDGE_BUILD_TYPE})")

set(SSEBRIDGE_BUILD_INFO_DIR ${CMAKE_BINARY_DIR}/gen-build-info)
configure_file(${PROJECT_SOURCE_DIR}/bridge/ops/build_info_values.h.in
               ${SSEBRIDGE_BUILD_INFO_DIR}/build_info_values.h @ONLY)
target_include_directories(ssebridge_ops PRIVATE ${SSEBRIDGE_BUILD_INFO_DIR})
