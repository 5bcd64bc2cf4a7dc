# The control port (issue #7), driven by python3-stem and raw sockets
# against the chive daemon on the private network.
if(TARGET chive_daemon)
  chive_add_testnet_test(NAME chive.control
    COMMAND /usr/bin/python3
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_control.py
            $<TARGET_FILE:chive_daemon> ${CMAKE_BINARY_DIR}/chive-control
    TIMEOUT 400)
  # nyx (Debian package nyx) in a detached tmux session against chive's
  # control port; the pane capture must show chive's circuits.  Skipped
  # (exit 77) without nyx or tmux.
  chive_add_testnet_test(NAME chive.nyx
    COMMAND /usr/bin/python3
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_nyx.py
            $<TARGET_FILE:chive_daemon> ${CMAKE_BINARY_DIR}/chive-nyx
    TIMEOUT 300)
  set_tests_properties(chive.nyx PROPERTIES SKIP_RETURN_CODE 77)
endif()
