# Unit tests of edgeserve-cli, compiled into the project's single unit-test
# binary and linked against edgeserve_cli_lib.
set(EDGESERVE_CLI_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cli_commands_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_options_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/host_tensor_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/npy_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/output_format_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/random_tensor_test.cc)
