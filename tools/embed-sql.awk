# SPDX-License-Identifier: GPL-3.0-or-later
# embed-sql.awk -- turn schema.sql into schema.c: one C string per statement,
# the table names, and a DROP statement for each (in reverse order).
# A statement ends at a line ending in ';' outside a $$ ... $$ block.

function cstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return s
}

BEGIN { n = 0; stmt = ""; inblock = 0; nt = 0 }

/^[ \t]*--/ { next }
/^[ \t]*$/ { if (stmt == "") next }

{
	line = $0
	stmt = stmt (stmt == "" ? "" : "\\n") cstr(line)
	count = gsub(/\$\$/, "$$", line)
	if (count % 2 == 1)
		inblock = !inblock
	if (match($0, /^CREATE TABLE [a-z_]+/)) {
		split($0, w, /[ (]/)
		tables[nt++] = w[3]
	}
	if (!inblock && $0 ~ /;[ \t]*$/) {
		stmts[n++] = stmt
		stmt = ""
	}
}

END {
	print "/* Generated from schema.sql by tools/embed-sql.awk; do not edit. */"
	print "#include <stddef.h>"
	print "#include \"qvd.h\""
	print "const char *const qvd_schema_stmts[] = {"
	for (i = 0; i < n; i++)
		print "\t\"" stmts[i] "\","
	print "\tNULL"
	print "};"
	print "const char *const qvd_schema_tables[] = {"
	for (i = 0; i < nt; i++)
		print "\t\"" tables[i] "\","
	print "\tNULL"
	print "};"
	print "const char *const qvd_schema_drops[] = {"
	for (i = nt - 1; i >= 0; i--)
		print "\t\"DROP TABLE IF EXISTS " tables[i] " CASCADE\","
	print "\tNULL"
	print "};"
}
