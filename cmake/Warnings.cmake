# Project warnings as an INTERFACE target; -Werror comes from the presets
# (CMAKE_COMPILE_WARNING_AS_ERROR), so packagers are not forced into it.
add_library(hermes_warnings INTERFACE)
target_compile_options(hermes_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Woverloaded-virtual -Wold-style-cast -Wcast-align
  -Wunused -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation
  -Wduplicated-cond -Wlogical-op)
