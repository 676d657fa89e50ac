# Use ccache when it is installed: rebuilds on 2 cores are otherwise slow. Paths under the
# source tree are hashed relative to it (CCACHE_BASEDIR, and the build directory left out of
# the hash), so every clone and worktree of the repository shares one cache.
find_program(HERMES_CCACHE ccache)
if(HERMES_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=true
      ${HERMES_CCACHE})
endif()
