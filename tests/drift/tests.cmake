# The fault-injection runs restore, open and close a database hundreds of
# times; on tmpfs their fsyncs cost nothing (they test atomicity against
# failures and process death, not durability against power loss).
if(IS_DIRECTORY /dev/shm)
  set_tests_properties(drift/test_windows_faults PROPERTIES ENVIRONMENT "TMPDIR=/dev/shm")
endif()
