# CRL generation benchmark (issue #4): hsmca's streaming CRL on the token vs plain OpenSSL.
# Run with bench/crl_run.sh BUILD_DIR.
add_executable(crl_bench crl_bench.c)
target_link_libraries(crl_bench PRIVATE hsmca_app)
add_executable(crl_plain crl_plain.c)
target_link_libraries(crl_plain PRIVATE PkgConfig::OPENSSL)
