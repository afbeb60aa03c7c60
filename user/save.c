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
#include "sync.h"
#include "util.h"

#define RESTORE_ARGS_MAX 64	/* a VIP with every option set saves about 40 words */
/*
 * The last line save writes. restore refuses a file without it: the file is
 * the whole configuration, so a truncated one (a full disk, a cut copy, an
 * interrupted pipe) would otherwise delete whatever it lost.
 */
#define SAVE_END_MARKER "# end of xlb configuration"

int do_save(int argc, char **argv)
{
	char line[1024], vip[XLB_VIP_STRLEN], addr[XLB_VIP_STRLEN];	/* addr: [IPv6]:PORT */
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
	/* Not a configuration command: the encapsulation is the program's, chosen at attach. */
	printf("# attached with: --encap %s", encap_name(m.ctl.encap));
	if (m.ctl.encap == XLB_ENCAP_GUE)
		printf(" --gue-port %u", m.ctl.gue_port ? m.ctl.gue_port : XLB_GUE_PORT_DEFAULT);
	printf("\n");
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
	printf("xlb conntrack set --tcp-timeout %us --fin-timeout %us --udp-timeout %us "
	       "--promote-after %u --insert-rate %u\n", m.ctl.ct_timeout_tcp_s, m.ctl.ct_timeout_fin_s,
	       m.ctl.ct_timeout_udp_s, m.config.ct_promote_after, m.config.ct_insert_rate);
	for (size_t i = 0; i < m.nvips; i++) {
		const struct m_vip *v = &m.vips[i];

		vip_save_line(v, line, sizeof(line));
		puts(line);
		vip_fmt(&v->key, vip, sizeof(vip));
		for (size_t j = 0; j < m.nbes; j++) {
			const struct m_backend *b = &m.bes[j];

			if (b->be.vip_id != v->v.id)
				continue;
			backend_addr_fmt(&b->be, addr, sizeof(addr));
			printf("xlb backend add %s %s --weight %u%s\n", vip, addr, b->be.weight,
			       backend_is_backup(&b->be) ? " --backup" : "");
			if (b->be.flags & XLB_BE_F_DRAINED)
				printf("xlb backend drain %s %s\n", vip, addr);
		}
	}
	bgp_save_lines(stdout);
	sync_save_lines(stdout);
	printf("%s\n", SAVE_END_MARKER);
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

static bool is_end_marker(const char *line)
{
	size_t n = strlen(SAVE_END_MARKER);

	return !strncmp(line, SAVE_END_MARKER, n) && line[n + strspn(line + n, " \t\r\n")] == 0;
}

/* One line of a saved file, applied to @m; @ended: the end marker was seen. */
static int restore_line(struct model *m, char *line, bool *ended)
{
	char *argv[RESTORE_ARGS_MAX];
	int argc, off = 0;
	edit_fn fn;

	if (is_end_marker(line)) {
		*ended = true;
		return XLB_EXIT_OK;
	}
	argc = split(line, argv);
	if (argc == 0 || argv[0][0] == '#')
		return XLB_EXIT_OK;
	if (*ended) {
		xlb_err("a command after the end marker \"%s\"", SAVE_END_MARKER);
		return XLB_EXIT_USAGE;
	}
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

/* The whole file @name applied to @new; XLB_EXIT_OK only if it all holds. */
static int restore_file(struct model *new, FILE *f, const char *name)
{
	char *line = NULL, ctx[64];
	size_t cap = 0, lineno = 0;
	int ret = XLB_EXIT_OK;
	bool ended = false;

	while (ret == XLB_EXIT_OK && getline(&line, &cap, f) >= 0) {
		snprintf(ctx, sizeof(ctx), "%s line %zu", name, ++lineno);
		xlb_err_context(ctx);
		ret = restore_line(new, line, &ended);
	}
	xlb_err_context(NULL);
	free(line);
	if (ret != XLB_EXIT_OK)
		return ret;
	/* getline's -1 is also how a read error ends: never take it for the end. */
	if (ferror(f)) {
		xlb_err("cannot read \"%s\" after line %zu: %s", name, lineno, strerror(errno));
		return XLB_EXIT_FAIL;
	}
	if (!ended) {
		xlb_err("\"%s\" does not end with \"%s\" (as xlb save writes): truncated? nothing "
			"restored", name, SAVE_END_MARKER);
		return XLB_EXIT_FAIL;
	}
	return XLB_EXIT_OK;
}

static const char restore_usage[] = "usage: xlb restore [--check] FILE|-";

int do_restore(int argc, char **argv)
{
	struct model old, new;
	struct xlb_inst in;
	int ret = XLB_EXIT_OK;
	bool check = false;
	FILE *f;

	if (argc == 2 && !strcmp(argv[0], "--check")) {
		check = true;
		argc--;
		argv++;
	}
	if (argc != 1 || is_help(argv[0])) {
		if (argc == 1) {
			puts(restore_usage);
			return XLB_EXIT_OK;
		}
		xlb_err("%s", restore_usage);
		return XLB_EXIT_USAGE;
	}
	f = strcmp(argv[0], "-") ? fopen(argv[0], "r") : stdin;
	if (!f) {
		xlb_err("cannot read \"%s\": %s", argv[0], strerror(errno));
		return XLB_EXIT_FAIL;
	}
	if (model_open(opts.iface, !check, &in, &old)) {
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
	ret = restore_file(&new, f, argv[0]);
	if (ret == XLB_EXIT_OK) {
		model_drop_unseen(&new);
		new.restoring = false;
		if (check)
			printf("%s: ok, %zu VIPs and %zu backends; nothing changed\n", argv[0],
			       new.nvips, new.nbes);
		else if (model_commit(&in, &old, &new) || bgp_restore_apply() || sync_restore_apply())
			ret = XLB_EXIT_FAIL;
	}
	model_free(&new);
out:
	if (f != stdin)
		fclose(f);
	model_close(&in, &old);
	return ret;
}
