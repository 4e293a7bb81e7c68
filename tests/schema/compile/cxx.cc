// SPDX-License-Identifier: MIT
// The generated headers must be usable from C++ (no _Generic there: the
// emit macros name the typed inline functions, C++ checks the arguments).
#define UEV_DEMO_IMPLEMENTATION
#include "demo-uev.h"
#include "good-uev.h"
#include "kms-uev.h"
#include "weston-uev.h"

#include <cerrno>
#include <cstdint>

int emit_from_cxx(const char *name, std::uint64_t ns);

int emit_from_cxx(const char *name, std::uint64_t ns)
{
	return uev_demo_register(nullptr) |
	       uev_emit_demo_hello(name, 1) |
	       uev_emit_demo_tick(1, 2, ns, "m") |
	       uev_emit_demo_label("tag", 3) |
	       uev_emit_kms_atomic_commit(0x100, 1, 0, 0, -1, errno, 31, 40, 4, 2, 8, ns) |
	       uev_emit_good_all_empty() |
	       uev_emit_good_all_ints(1, 2, 3, 4, -1, -2, -3, -4);
}
