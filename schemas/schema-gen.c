/* SPDX-License-Identifier: MIT */
/*
 * C header generator for a validated schema. The output depends only on the
 * schema and the source name passed in (no dates, no paths of the build
 * machine), so regenerating gives identical bytes and the build stays
 * reproducible.
 *
 * Identifier hygiene: macro parameters are the raw field names (readable in
 * compiler messages; macro parameter names are never macro-expanded and the
 * parser reserves '__' and 'uev__' names, so none can capture an identifier
 * of the macro body). Function parameters get a trailing '_' so that fields
 * named like a keyword or a libc macro (errno, linux, unix, int) stay legal.
 */
#include <stdio.h>
#include <string.h>

#include "schema-parse.h"

static const char *c_type(const struct uev_def_field *f)
{
	switch (f->type) {
	case UEV_T_U8: return "uint8_t";
	case UEV_T_U16: return "uint16_t";
	case UEV_T_U32: return "uint32_t";
	case UEV_T_U64: return "uint64_t";
	case UEV_T_S8: return "int8_t";
	case UEV_T_S16: return "int16_t";
	case UEV_T_S32: return "int32_t";
	case UEV_T_S64: return "int64_t";
	default: return "const char *"; /* char[N] and __rel_loc char[] */
	}
}

static int is_string(const struct uev_def_field *f)
{
	return f->type == UEV_T_CHAR_ARRAY || f->type == UEV_T_REL_LOC;
}

/* Descriptions and file names go into block comments: nothing in them may
 * end the comment early or break the line. */
static void put_comment_text(FILE *out, const char *t)
{
	for (; *t; t++) {
		if (t[0] == '*' && t[1] == '/')
			fputs("* ", out);
		else if ((unsigned char)*t < 0x20 || *t == 0x7f)
			fputc('?', out);
		else
			fputc(*t, out);
	}
}

/* What one event adds to the header, besides the shared identifiers. */
static const char *const event_idents[] = { "uev_%s", "uev__emit_%s", "uev_emit_%s" };
#define N_IDENTS (sizeof(event_idents) / sizeof(event_idents[0]))

/* The first identifier of event @i that an earlier event or the
 * registration function already uses, reported once per event. */
static void check_event_names(struct schema *s, size_t i, const char *reg)
{
	const struct schema_event *ev = &s->event[i], *o;
	char a[UEV_NAME_MAX + 16], b[UEV_NAME_MAX + 16];

	for (size_t j = 0; j < i; j++)
		if (s->event[j].full && !strcmp(s->event[j].full, ev->full))
			return; /* a duplicate event, already reported */
	for (size_t k = 0; k < N_IDENTS; k++) {
		snprintf(a, sizeof(a), event_idents[k], ev->full);
		if (!strcmp(a, reg)) {
			schema_error(s, ev->line, "event '%s' would generate '%s', the name of the registration function",
				     ev->name, a);
			return;
		}
		for (size_t j = 0; j < i; j++) {
			o = &s->event[j];
			if (!o->full)
				continue;
			for (size_t m = 0; m < N_IDENTS; m++) {
				snprintf(b, sizeof(b), event_idents[m], o->full);
				if (!strcmp(a, b)) {
					schema_error(s, ev->line, "event '%s' would generate '%s' like event '%s' on line %u",
						     ev->name, a, o->name, o->line);
					return;
				}
			}
		}
	}
}

/*
 * Unique event names do not make unique C names: event 'register' would
 * define uev_P_register twice, and under provider 'emit' events 'x' and
 * 'emit_x' both produce uev_emit_emit_x. Such schemas are refused here,
 * where the naming scheme lives, so that --check catches them too.
 */
int schema_check_names(struct schema *s)
{
	char reg[UEV_NAME_MAX + 16];

	if (!s->provider || s->error)
		return s->error;
	snprintf(reg, sizeof(reg), "uev_%s_register", s->provider);
	for (size_t i = 0; i < s->nevents; i++)
		if (s->event[i].full)
			check_event_names(s, i, reg);
	return s->error;
}

static void gen_helpers(FILE *out)
{
	fputs("/*\n"
	      " * Argument checks of the uev_emit_*() macros, shared by every generated\n"
	      " * header. Each evaluates its argument once and is a hard error (not a\n"
	      " * warning) for the wrong kind:\n"
	      " *  UEV__INT(x): '|' only takes integer operands, so a pointer, string,\n"
	      " *    float or struct does not compile; the value is unchanged and is\n"
	      " *    then converted to the field's type like any function argument.\n"
	      " *  UEV__STR(x): a _Generic without a default accepts only char * and\n"
	      " *    const char * (a char array decays to char *). NULL is a void *\n"
	      " *    and is refused: write \"\" or (const char *)NULL.\n"
	      " */\n"
	      "#if !defined(__cplusplus) && !defined(UEV__ARG_CHECKS)\n"
	      "#define UEV__ARG_CHECKS\n"
	      "#define UEV__INT(x) ((x) | 0)\n"
	      "#define UEV__STR(x) _Generic((x), char *: (x), const char *: (x))\n"
	      "#endif\n\n", out);
}

/*
 * The wrapper lays the integers out itself, in a packed struct that mirrors
 * the event's fixed part, and hands the text fields over as pointers:
 * uev_emit_packed() then only copies, with no va_list to walk. Members are
 * named f0, f1, ... so that no field name can clash with C.
 */
static void gen_event(FILE *out, const struct schema_event *ev)
{
	unsigned ntext = 0;

	fprintf(out, "/*\n * %s: ", ev->full);
	put_comment_text(out, ev->desc);
	fprintf(out, "\n * Fields: %s\n */\n", ev->nfields ? ev->fields : "none");
	fprintf(out, "extern struct uev_event uev_%s;\n\n", ev->full);

	fprintf(out, "static inline int uev__emit_%s(", ev->full);
	if (ev->nfields == 0)
		fputs("void", out);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const char *t = c_type(&ev->field[i].def);

		fprintf(out, "%s%s%s%s_", i ? ", " : "", t,
			t[strlen(t) - 1] == '*' ? "" : " ", ev->field[i].def.name);
	}
	fputs(")\n{\n", out);
	for (unsigned i = 0; i < ev->nfields; i++)
		ntext += is_string(&ev->field[i].def);
	if (ntext == ev->nfields) { /* no integers: nothing to lay out */
		if (ntext) {
			fputs("\tconst char *t_[] = {", out);
			for (unsigned i = 0; i < ev->nfields; i++)
				fprintf(out, "%s %s_", i ? "," : "", ev->field[i].def.name);
			fputs(" };\n\n", out);
		}
		fprintf(out, "\treturn uev_emit_packed(&uev_%s, NULL, %s);\n}\n\n", ev->full,
			ntext ? "t_" : "NULL");
		return;
	}
	fputs("\tstruct __attribute__((packed)) {\n", out);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct uev_def_field *f = &ev->field[i].def;

		if (is_string(f))
			fprintf(out, "\t\tuint8_t f%u[%u];\n", i, f->size);
		else
			fprintf(out, "\t\t%s f%u;\n", c_type(f), i);
	}
	fputs("\t} f_;\n", out);
	if (ntext) {
		fputs("\tconst char *t_[] = {", out);
		for (unsigned i = 0, k = 0; i < ev->nfields; i++)
			if (is_string(&ev->field[i].def))
				fprintf(out, "%s %s_", k++ ? "," : "", ev->field[i].def.name);
		fputs(" };\n", out);
	}
	fprintf(out, "\n\tif (!uev_enabled(&uev_%s))\n\t\treturn 0;\n", ev->full);
	for (unsigned i = 0; i < ev->nfields; i++)
		if (!is_string(&ev->field[i].def))
			fprintf(out, "\tf_.f%u = %s_;\n", i, ev->field[i].def.name);
	fprintf(out, "\treturn uev_emit_packed(&uev_%s, &f_, %s);\n}\n\n", ev->full,
		ntext ? "t_" : "NULL");
}

static void gen_macro_c(FILE *out, const struct schema_event *ev)
{
	fprintf(out, "#define uev_emit_%s(", ev->full);
	for (unsigned i = 0; i < ev->nfields; i++)
		fprintf(out, "%s%s", i ? ", " : "", ev->field[i].def.name);
	fprintf(out, ") \\\n\tuev__emit_%s(", ev->full);
	for (unsigned i = 0; i < ev->nfields; i++)
		fprintf(out, "%s%s(%s)", i ? ", " : "",
			is_string(&ev->field[i].def) ? "UEV__STR" : "UEV__INT",
			ev->field[i].def.name);
	fputs(")\n", out);
}

static void gen_register(FILE *out, const struct schema *s)
{
	fprintf(out, "/* Register every event above with @p: 0, or the first negative errno\n"
		" * (the remaining events are still registered). */\n"
		"static inline int uev_%s_register(struct uev_provider *p)\n{\n", s->provider);
	if (s->nevents == 0) {
		fputs("\t(void)p;\n\treturn 0;\n}\n\n", out);
		return;
	}
	fputs("\tstruct uev_event *const ev[] = {\n", out);
	for (size_t i = 0; i < s->nevents; i++)
		fprintf(out, "\t\t&uev_%s,\n", s->event[i].full);
	fputs("\t};\n"
	      "\tint first = 0;\n\n"
	      "\tfor (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {\n"
	      "\t\tint r = uev_event_register(p, ev[i]);\n\n"
	      "\t\tif (r < 0 && first == 0)\n"
	      "\t\t\tfirst = r;\n"
	      "\t}\n"
	      "\treturn first;\n"
	      "}\n\n", out);
}

int schema_gen(const struct schema *s, const char *source, FILE *out)
{
	const char *p = s->provider;
	char up[UEV_NAME_MAX];
	size_t i;

	for (i = 0; p[i] && i + 1 < sizeof(up); i++)
		up[i] = p[i] >= 'a' && p[i] <= 'z' ? (char)(p[i] - 'a' + 'A') : p[i];
	up[i] = '\0';

	fputs("/* Generated by uev-schema from ", out);
	put_comment_text(out, source);
	fputs("; do not edit. */\n", out);
	fprintf(out, "/*\n"
		" * Events of the uev provider '%s'.\n"
		" *\n"
		" * Exactly one C file of the program defines the event objects:\n"
		" *     #define UEV_%s_IMPLEMENTATION\n"
		" *     #include <this header>\n"
		" * every other file only includes the header.\n"
		" * uev_%s_register(provider) registers all events;\n"
		" * uev_emit_%s_<event>(field values in schema order) emits one. In C a\n"
		" * wrong argument kind or count is a compile error.\n"
		" */\n", p, up, p, p);
	fprintf(out, "#ifndef UEV_SCHEMA_%s_H\n#define UEV_SCHEMA_%s_H\n\n", up, up);
	fputs("#include <stddef.h>\n#include <stdint.h>\n#include <uev/uev.h>\n\n", out);
	gen_helpers(out);
	fputs("#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", out);
	for (i = 0; i < s->nevents; i++)
		gen_event(out, &s->event[i]);
	gen_register(out, s);
	fputs("#ifdef __cplusplus\n}\n#endif\n\n", out);

	fputs("/* uev_emit_<event>(...): C checks every argument, C++ needs no help. */\n"
	      "#ifndef __cplusplus\n", out);
	for (i = 0; i < s->nevents; i++)
		gen_macro_c(out, &s->event[i]);
	fputs("#else\n", out);
	for (i = 0; i < s->nevents; i++)
		fprintf(out, "#define uev_emit_%s uev__emit_%s\n", s->event[i].full, s->event[i].full);
	fprintf(out, "#endif\n\n#endif /* UEV_SCHEMA_%s_H */\n\n", up);

	/* Outside the include guard, with a guard of its own: a file may include
	 * the header before it defines UEV_<P>_IMPLEMENTATION and again after. */
	fprintf(out, "#if defined(UEV_%s_IMPLEMENTATION) && !defined(UEV_SCHEMA_%s_IMPLEMENTED)\n"
		"#define UEV_SCHEMA_%s_IMPLEMENTED\n"
		"#ifdef __cplusplus\n"
		"extern \"C\" {\n"
		"#endif\n", up, up, up);
	for (i = 0; i < s->nevents; i++)
		fprintf(out, "struct uev_event uev_%s =\n\tUEV_EVENT_INIT(\"%s\", \"%s\");\n",
			s->event[i].full, s->event[i].full, s->event[i].fields);
	fputs("#ifdef __cplusplus\n}\n#endif\n#endif\n", out);
	return ferror(out) ? -1 : 0;
}
