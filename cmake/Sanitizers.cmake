# -DCHIVE_SANITIZE=address,undefined  (clang or gcc).  Applies to every
# target in the tree, tests included.
set(CHIVE_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list")
if(CHIVE_SANITIZE)
  add_compile_options(-fsanitize=${CHIVE_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${CHIVE_SANITIZE})
endif()
