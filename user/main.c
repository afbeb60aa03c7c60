// SPDX-License-Identifier: GPL-2.0
/* placeholder: replaced by the CLI entry point */
int main(void) { return 0; }
