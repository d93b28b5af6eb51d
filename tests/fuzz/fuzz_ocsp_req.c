/* fuzz_ocsp_req.c: libFuzzer target for the pure OCSP request parser (ocsp_req_parse). */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_req *r = NULL;

	if (ocsp_req_parse(data, size, &r) == 0)
		ocsp_req_free(r);
	err_clear();
	return 0;
}
