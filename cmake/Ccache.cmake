# Use ccache when it is installed: rebuilds on 2 cores are otherwise slow.
find_program(HERMES_CCACHE ccache)
if(HERMES_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${HERMES_CCACHE})
endif()
