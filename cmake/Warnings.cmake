# Project warnings as an INTERFACE target; -Werror comes from the presets
# (CMAKE_COMPILE_WARNING_AS_ERROR), so packagers are not forced into it.
add_library(hermes_warnings INTERFACE)
target_compile_options(hermes_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Woverloaded-virtual -Wold-style-cast -Wcast-align
  -Wunused -Wformat=2 -Wimplicit-fallthrough -Wmisleading-indentation
  -Wduplicated-cond -Wlogical-op)
# GCC 12 at -O2 reports Asio's coroutine frame allocator as mismatched new/delete, a known
# false positive (the frame's operator new/delete are a matching pair).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(hermes_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
