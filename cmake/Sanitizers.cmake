# ASan+UBSan as an INTERFACE target, switched on by the `asan` preset.
option(HERMES_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
add_library(hermes_sanitizers INTERFACE)
if(HERMES_SANITIZE)
  set(_hermes_san_flags -fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
  target_compile_options(hermes_sanitizers INTERFACE ${_hermes_san_flags})
  target_link_options(hermes_sanitizers INTERFACE ${_hermes_san_flags})
endif()
