# chive_set_warnings(<target>): the project's warning set, in one place.
# CHIVE_WERROR is ON in the dev/CI presets and .ci/run, OFF by default so
# packagers with newer compilers are not broken.
#
# Left out on purpose:
#   -Wpadded          noise: we do not hand-pack structs.
#   -Wswitch-enum     we use "default:" to reject unknown wire values.
#   -Waggregate-return  returning rd_t/wr_t by value is the reader idiom.
option(CHIVE_WERROR "Treat compiler warnings as errors" OFF)

function(chive_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic
    -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
    -Wcast-qual -Wcast-align -Wpointer-arith -Wwrite-strings
    -Wformat=2 -Wundef -Wvla -Wimplicit-fallthrough
    -Wnull-dereference -Wdouble-promotion)
  if(CHIVE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
