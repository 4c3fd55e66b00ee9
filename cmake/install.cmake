# SPDX-License-Identifier: Apache-2.0
# cmake --install: the headers, libaicon.so.0 and libaicon.a, the aicon command, aiconConfig.cmake
# for find_package(aicon) (targets aicon::aicon and aicon::aicon_static) and aicon.pc for pkg-config.
# Both files find the prefix from where they lie, so `cmake --install --prefix` may move it
# (docs/library.md).
include(CMakePackageConfigHelpers)
set(AICON_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/aicon)
install(TARGETS aicon aicon_static EXPORT aiconTargets)
install(TARGETS aicon_cli)
install(DIRECTORY include/aicon DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT aiconTargets NAMESPACE aicon:: DESTINATION ${AICON_CMAKE_DIR})
configure_package_config_file(cmake/aiconConfig.cmake.in ${PROJECT_BINARY_DIR}/aiconConfig.cmake
  INSTALL_DESTINATION ${AICON_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/aiconConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/aiconConfig.cmake ${PROJECT_BINARY_DIR}/aiconConfigVersion.cmake
  DESTINATION ${AICON_CMAKE_DIR})

# aicon.pc. MPI comes from the MPI's own module where it has one (Open MPI: ompi-c, MPICH: mpich), so
# that a plain cc builds a program against aicon; otherwise from the flags CMake found.
pkg_search_module(AICON_PC_MPI QUIET ompi-c mpich)
set(AICON_PC_REQUIRES "")
set(AICON_PC_CFLAGS "")
set(AICON_PC_LIBS "")
if(AICON_PC_MPI_FOUND)
  set(AICON_PC_REQUIRES ${AICON_PC_MPI_MODULE_NAME})
else()
  list(TRANSFORM MPI_C_INCLUDE_DIRS PREPEND "-I" OUTPUT_VARIABLE AICON_PC_CFLAGS)
  set(AICON_PC_LIBS ${MPI_C_LIBRARIES})
endif()
if(AICON_SANITIZE) # as aicon::aicon's INTERFACE_LINK_OPTIONS: the program links the runtime
  list(APPEND AICON_PC_LIBS -fsanitize=address,undefined)
endif()
# libaicon.a's own dependencies, for pkg-config --static.
set(AICON_PC_LIBS_PRIVATE ${AICON_HDF5_LIBS} -ldnnl ${OpenMP_C_FLAGS} -lm -pthread)
if(AICON_HAVE_CUDA)
  list(APPEND AICON_PC_LIBS_PRIVATE -L${CUDAToolkit_LIBRARY_DIR} -lcudart -lcublas ${AICON_CUDNN_LIB} ${AICON_NCCL_LIB}
    -lstdc++)
endif()
foreach(v AICON_PC_CFLAGS AICON_PC_LIBS AICON_PC_LIBS_PRIVATE)
  list(JOIN ${v} " " ${v})
endforeach()
file(RELATIVE_PATH AICON_PC_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" AICON_PC_PREFIX ${AICON_PC_PREFIX})
configure_file(cmake/aicon.pc.in ${PROJECT_BINARY_DIR}/aicon.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/aicon.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
