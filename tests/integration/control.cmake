# The control port (issue #7), driven by python3-stem and raw sockets
# against the chive daemon on the private network.
if(TARGET chive_daemon)
  chive_add_testnet_test(NAME chive.control
    COMMAND /usr/bin/python3
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_control.py
            $<TARGET_FILE:chive_daemon> ${CMAKE_BINARY_DIR}/chive-control
    TIMEOUT 400)
endif()
