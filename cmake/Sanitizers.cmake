# ASan+UBSan as an INTERFACE target, switched on by the `asan` preset.
#
# UBSan's `null` and `alignment` checks are left out of this (GCC) build: they instrument every
# pointer dereference, which made it a quarter slower to compile (2 cores, the largest part of
# CI), and add little here: a null dereference is a SEGV that ASan reports with its stack, and
# x86-64 tolerates misalignment outside SIMD and atomics, which the code does not pun. Every other
# UBSan check stays (overflow, shifts, bounds, enums and bools, vptr, returns, ...), and the fuzz
# targets (clang) keep all of them.
option(HERMES_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
add_library(hermes_sanitizers INTERFACE)
if(HERMES_SANITIZE)
  set(_hermes_san_flags -fsanitize=address,undefined -fno-sanitize=null,alignment
                        -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_compile_options(hermes_sanitizers INTERFACE ${_hermes_san_flags})
  target_link_options(hermes_sanitizers INTERFACE ${_hermes_san_flags})
endif()
