/* fuzz_csr.c: libFuzzer target for csr.c (PKCS#10 parse and policy) and csr_to_der (PEM). */
#include <stddef.h>
#include <stdint.h>

#include "csr.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csr *csr = NULL;
	struct buf der = { 0 };

	if (csr_parse(data, size, &csr) == 0)
		csr_free(csr);
	if (csr_to_der(data, size, &der) == 0) {
		if (csr_parse(der.data, der.len, &csr) == 0)
			csr_free(csr);
		buf_free(&der);
	}
	err_clear();
	return 0;
}
