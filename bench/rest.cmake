# REST issuance load generator (issue #3): N keep-alive HTTPS clients POSTing CSRs, compared with
# the token's own signing rate (tok_speed). Run with bench/rest_run.sh BUILD_DIR.
add_executable(rest_load rest_load.c)
target_link_libraries(rest_load PRIVATE PkgConfig::OPENSSL Threads::Threads)
