# Project-wide warnings and the optional sanitizer build, applied through one interface target.
add_library(attncert_flags INTERFACE)
add_library(attncert::flags ALIAS attncert_flags)
set_target_properties(attncert_flags PROPERTIES EXPORT_NAME flags)
target_compile_options(attncert_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
if(ATTNCERT_SANITIZE)
  target_compile_options(attncert_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer>)
  target_link_options(attncert_flags INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS attncert_flags EXPORT attncertTargets)
