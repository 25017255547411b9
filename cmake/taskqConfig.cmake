# find_package(taskq) support: the installed static libraries need the same Debian packages that
# built them (see scripts/bootstrap).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(Boost 1.81 CONFIG COMPONENTS json)
find_dependency(spdlog 1.10 CONFIG)
find_dependency(PkgConfig)
find_dependency(OpenSSL)
if(NOT TARGET PkgConfig::HIREDIS)
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET GLOBAL hiredis)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/taskqTargets.cmake)
