# Release hardening: each flag is probed, so cross toolchains take what
# they support.
include(CheckCCompilerFlag)
option(CHIVE_HARDEN "Add hardening flags" ON)
if(CHIVE_HARDEN AND NOT CHIVE_SANITIZE AND NOT CHIVE_FUZZ)
  foreach(flag -fstack-protector-strong -fstack-clash-protection
               -fcf-protection)
    string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
    check_c_compiler_flag(${flag} ${var})
    if(${var})
      add_compile_options(${flag})
    endif()
  endforeach()
  if(CMAKE_BUILD_TYPE MATCHES "Rel")
    add_compile_definitions(_FORTIFY_SOURCE=2)
  endif()
  add_link_options(-Wl,-z,relro,-z,now)
endif()
