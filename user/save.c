// SPDX-License-Identifier: GPL-2.0
/*
 * xlb save / restore. save prints the configuration as xlb commands;
 * restore applies such a file as one change: every line is checked against
 * the model first and nothing is written unless all of them are valid. The
 * file is the whole configuration: what it does not name is removed, and
 * what it names that already exists keeps its slot, so its flows stay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlb.h"
#include "util.h"

#define RESTORE_ARGS_MAX 32

int do_save(int argc, char **argv)
{
	char line[1024], vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	struct xlb_inst in;
	struct model m;

	if (argc > 0) {
		if (is_help(argv[0])) {
			puts("usage: xlb save > FILE");
			return XLB_EXIT_OK;
		}
		xlb_err("unexpected argument \"%s\" (xlb save)", argv[0]);
		return XLB_EXIT_USAGE;
	}
	if (model_open(opts.iface, false, &in, &m))
		return XLB_EXIT_FAIL;
	printf("# xlb configuration of %s; apply with: xlb -i %s restore FILE\n", in.iface, in.iface);
	if (m.config.src4 || !addr_is_zero(m.config.src6)) {
		printf("# attached with sources:");
		if (m.config.src4) {
			__u32 a4[4] = { m.config.src4 };

			addr_fmt(a4, XLB_AF_INET, addr, sizeof(addr));
			printf(" --source %s", addr);
		}
		if (!addr_is_zero(m.config.src6)) {
			addr_fmt(m.config.src6, XLB_AF_INET6, addr, sizeof(addr));
			printf(" --source %s", addr);
		}
		printf("\n");
	}
	printf("xlb conntrack set --tcp-timeout %us --fin-timeout %us --udp-timeout %us\n",
	       m.ctl.ct_timeout_tcp_s, m.ctl.ct_timeout_fin_s, m.ctl.ct_timeout_udp_s);
	for (size_t i = 0; i < m.nvips; i++) {
		const struct m_vip *v = &m.vips[i];

		vip_save_line(v, line, sizeof(line));
		puts(line);
		vip_fmt(&v->key, vip, sizeof(vip));
		for (size_t j = 0; j < m.nbes; j++) {
			const struct m_backend *b = &m.bes[j];

			if (b->be.vip_id != v->v.id)
				continue;
			addr_fmt(b->be.addr, b->be.family, addr, sizeof(addr));
			printf("xlb backend add %s %s --weight %u\n", vip, addr, b->be.weight);
			if (b->be.flags & XLB_BE_F_DRAINED)
				printf("xlb backend drain %s %s\n", vip, addr);
		}
	}
	model_close(&in, &m);
	return XLB_EXIT_OK;
}

/* Split @line into words; returns the count, -1 if too many. */
static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
		if (argc == RESTORE_ARGS_MAX)
			return -1;
		argv[argc++] = tok;
	}
	return argc;
}

/* One line of a saved file, applied to @m. */
static int restore_line(struct model *m, char *line)
{
	char *argv[RESTORE_ARGS_MAX];
	int argc = split(line, argv), off = 0;
	edit_fn fn;

	if (argc == 0 || argv[0][0] == '#')
		return XLB_EXIT_OK;
	if (argc < 0) {
		xlb_err("too many words");
		return XLB_EXIT_USAGE;
	}
	if (!strcmp(argv[0], "xlb"))
		off = 1;
	if (argc - off < 2 || !(fn = edit_lookup(argv[off], argv[off + 1]))) {
		xlb_err("\"%s%s%s\" is not a configuration command", argv[off],
			argc - off > 1 ? " " : "", argc - off > 1 ? argv[off + 1] : "");
		return XLB_EXIT_USAGE;
	}
	return fn(m, argc - off - 1, argv + off + 1);
}

int do_restore(int argc, char **argv)
{
	char *line = NULL, ctx[64];
	size_t cap = 0, lineno = 0;
	struct model old, new;
	struct xlb_inst in;
	int ret = XLB_EXIT_OK;
	FILE *f;

	if (argc != 1 || is_help(argv[0])) {
		if (argc == 1) {
			puts("usage: xlb restore FILE|-");
			return XLB_EXIT_OK;
		}
		xlb_err("usage: xlb restore FILE|-");
		return XLB_EXIT_USAGE;
	}
	f = strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin;
	if (!f) {
		xlb_err("cannot read \"%s\": %s", argv[0], strerror(errno));
		return XLB_EXIT_FAIL;
	}
	if (model_open(opts.iface, true, &in, &old)) {
		if (f != stdin)
			fclose(f);
		return XLB_EXIT_FAIL;
	}
	if (model_copy(&old, &new)) {
		xlb_err("out of memory");
		ret = XLB_EXIT_FAIL;
		goto out;
	}
	new.restoring = true;
	for (size_t i = 0; i < new.nvips; i++)
		new.vips[i].seen = false;
	for (size_t i = 0; i < new.nbes; i++)
		new.bes[i].seen = false;
	while (ret == XLB_EXIT_OK && getline(&line, &cap, f) >= 0) {
		snprintf(ctx, sizeof(ctx), "%s line %zu", argv[0], ++lineno);
		xlb_err_context(ctx);
		ret = restore_line(&new, line);
	}
	xlb_err_context(NULL);
	if (ret == XLB_EXIT_OK) {
		model_drop_unseen(&new);
		new.restoring = false;
		if (model_commit(&in, &old, &new))
			ret = XLB_EXIT_FAIL;
	}
	model_free(&new);
out:
	free(line);
	if (f != stdin)
		fclose(f);
	model_close(&in, &old);
	return ret;
}
