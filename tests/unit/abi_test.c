// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI's tables that the compiler cannot check: every reason a packet is
 * counted under has a name (stats, metrics and tests print it; a missing one
 * prints nothing, or breaks the JSON), and no two reasons share one.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "xlb_abi.h"

static const char *const names[XLB_REASON_MAX] = XLB_REASON_NAMES;

static void abi_every_reason_has_a_name(void)
{
	for (int r = 0; r < XLB_REASON_MAX; r++)
		if (!names[r] || !names[r][0])
			t_fail("reason %d has no name in XLB_REASON_NAMES", r);
}

static void abi_reason_names_are_unique(void)
{
	for (int a = 0; a < XLB_REASON_MAX; a++)
		for (int b = a + 1; b < XLB_REASON_MAX; b++)
			if (names[a] && names[b] && !strcmp(names[a], names[b]))
				t_fail("reasons %d and %d are both \"%s\"", a, b, names[a]);
}

static const struct t_case cases[] = {
	T_CASE(abi_every_reason_has_a_name),
	T_CASE(abi_reason_names_are_unique),
};

int main(int argc, char **argv)
{
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
