// SPDX-License-Identifier: GPL-2.0
/*
 * xlb: entry point. Global options, then the object: each object's verbs
 * live in a file of their own (vip.c, backend.c, ...). run_edit() is the
 * life of every configuration change.
 */
#include <stdio.h>
#include <string.h>

#include "xlb.h"
#include "sync.h"
#include "out.h"
#include "util.h"

struct xlb_opts opts;

/* Baked in by the Makefile from the file VERSION. */
#ifndef XLB_VERSION
#error "XLB_VERSION is not set: build with make"
#endif

static const char usage[] =
	"usage: xlb [-i IFACE] [--json] OBJECT VERB ...\n"
	"       xlb --version | --help\n"
	"  xlb attach IFACE [--mode native|generic] [--source ADDR ...] [--conntrack-size N]\n"
	"              [--encap ipip|gue] [--gue-port N]\n"
	"              [--snat ADDR ...] [--snat-ports LO-HI] [--nat-size N]\n"
	"  xlb attach IFACE2 --peer-of IFACE1 [--mode native|generic]\n"
	"  xlb detach IFACE\n"
	"  xlb vip add|set|del VIP ...            (xlb vip --help)\n"
	"  xlb backend add|weight|drain|undrain|del VIP ADDR[:PORT] ...   (xlb backend --help)\n"
	"  xlb list [--json]\n"
	"  xlb stats [--json] [--watch SECONDS]\n"
	"  xlb save\n"
	"  xlb restore [--check] FILE|-\n"
	"  xlb conntrack list|count|flush|set ...  (xlb conntrack --help)\n"
	"  xlb trace [VIP] [--backend ADDR] [--reason R] [--count N] [--pcap FILE]  (xlb trace --help)\n"
	"  xlb decap attach|detach|show|stats ...  (on a backend host: xlb decap --help)\n"
	"  xlb bgp set|del|show ...               (xlb bgp --help)\n"
	"  xlb sync set|del|show ...              (session sync with peers: xlb sync --help)\n"
	"  xlb agent [-i IFACE] [--metrics ADDR:PORT] [--drain-time 5s]\n"
	"VIP is ADDR:PORT/PROTO or [ADDR6]:PORT/PROTO, PROTO tcp or udp, port 0 = all ports.\n";

bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

struct object {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct verb *verbs;
	const char *usage;
};

static const struct object objects[] = {
	{ "attach", do_attach },
	{ "detach", do_detach },
	{ "vip", NULL, vip_verbs, vip_usage },
	{ "backend", NULL, backend_verbs, backend_usage },
	{ "list", do_list },
	{ "stats", do_stats },
	{ "save", do_save },
	{ "restore", do_restore },
	{ "conntrack", NULL, conntrack_verbs, conntrack_usage },
	{ "decap", NULL, decap_verbs, decap_usage },
	{ "bgp", NULL, bgp_verbs, bgp_usage },
	{ "sync", NULL, sync_verbs, sync_usage },
	{ "agent", do_agent },
	{ "trace", do_trace },
};

int verb_select(const struct verb *verbs, const char *object, const char *obj_usage,
		int argc, char **argv)
{
	if (argc < 1 || is_help(argv[0])) {
		fputs(obj_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? XLB_EXIT_USAGE : XLB_EXIT_OK;
	}
	for (const struct verb *v = verbs; v->name; v++) {
		if (strcmp(v->name, argv[0]))
			continue;
		if (argc > 1 && is_help(argv[1])) {
			fputs(obj_usage, stdout);
			return XLB_EXIT_OK;
		}
		return v->edit ? run_edit(v->edit, argc, argv) : v->run(argc, argv);
	}
	xlb_err("unknown verb \"%s\" for %s (xlb %s --help)", argv[0], object, object);
	return XLB_EXIT_USAGE;
}

edit_fn edit_lookup(const char *object, const char *verb)
{
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
		if (!objects[i].verbs || strcmp(objects[i].name, object))
			continue;
		for (const struct verb *v = objects[i].verbs; v->name; v++)
			if (!strcmp(v->name, verb))
				return v->edit;
	}
	return NULL;
}

int run_edit(edit_fn fn, int argc, char **argv)
{
	struct model old, new;
	struct xlb_inst in;
	int ret;

	if (model_open(opts.iface, true, &in, &old))
		return XLB_EXIT_FAIL;
	if (model_copy(&old, &new)) {
		xlb_err("out of memory");
		model_close(&in, &old);
		return XLB_EXIT_FAIL;
	}
	ret = fn(&new, argc, argv);
	if (ret == XLB_EXIT_OK && model_commit(&in, &old, &new))
		ret = XLB_EXIT_FAIL;
	model_free(&old);
	model_free(&new);
	inst_close(&in);
	return ret;
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-i")) {
			if (!(opts.iface = next_arg(&i, argc, argv, "-i")))
				return XLB_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			opts.json = true;
		} else if (is_help(argv[i])) {
			fputs(usage, stdout);
			return XLB_EXIT_OK;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			puts("xlb " XLB_VERSION);
			return XLB_EXIT_OK;
		} else {
			xlb_err("unknown option \"%s\"", argv[i]);
			return XLB_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return XLB_EXIT_USAGE;
	}
	/* --json may also follow the command (xlb list --json). */
	for (int j = i; j < argc; j++) {
		if (!strcmp(argv[j], "--json") || !strcmp(argv[j], "-j")) {
			opts.json = true;
			memmove(&argv[j], &argv[j + 1], (argc - j - 1) * sizeof(*argv));
			argc--;
			j--;
		}
	}
	out_init(opts.json, stdout);
	for (size_t o = 0; o < ARRAY_SIZE(objects); o++) {
		if (strcmp(objects[o].name, argv[i]))
			continue;
		if (objects[o].run)
			return objects[o].run(argc - i - 1, argv + i + 1);
		return verb_select(objects[o].verbs, objects[o].name, objects[o].usage,
				   argc - i - 1, argv + i + 1);
	}
	xlb_err("unknown object \"%s\" (xlb --help)", argv[i]);
	return XLB_EXIT_USAGE;
}
