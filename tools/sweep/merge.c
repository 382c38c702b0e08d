/* Merge of sweep CSVs (see merge.h). */
#include "merge.h"

#include "say.h"
#include "strbuf.h"
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sweep_merge(const options *o, const sweep_grid *g)
{
    strbuf all = {0};
    table t = {0}, in;
    char err[2048];
    int rc = 1;
    if (sb_printf(&all, "%s\n", table_header) != 0)
        goto oom;
    for (size_t f = 0; f < o->ninputs; f++) {
        int lr = table_load(&in, o->inputs[f], err, sizeof err);
        if (lr != 0) {
            if (lr > 0)
                snprintf(err, sizeof err, "%s: %s", o->inputs[f], strerror(ENOENT));
            say("%s", err);
            table_free(&in);
            goto done;
        }
        if (in.valid < in.size)
            say("%s: ignored a partial last line (%zu bytes)", o->inputs[f], in.size - in.valid);
        for (size_t r = 0; r < in.n; r++)
            if (sb_append(&all, in.row[r].line, in.row[r].len) != 0 || sb_append(&all, "\n", 1) != 0) {
                table_free(&in);
                goto oom;
            }
        table_free(&in);
    }
    t.data = all.s;
    t.size = all.len;
    all.s = NULL;
    if (table_parse(&t, "merged input", err, sizeof err) != 0 ||
        (g && table_check_grid(&t, g, NULL, "", "merged input", err, sizeof err) != 0) ||
        table_sort(&t, err, sizeof err) != 0) {
        say("%s", err);
        goto done;
    }
    size_t expect = g ? g->total : t.n ? t.row[t.n - 1].index + 1 : 0, missing = expect - t.n;
    if (missing) {
        size_t first = 0;
        while (first < t.n && t.row[first].index == first)
            first++;
        say("%zu of %zu runs missing%s (the first: run %zu)%s", missing, expect,
            g ? "" : " below the highest recorded index", first, o->allow_missing ? "" : "; not written");
        if (!o->allow_missing)
            goto done;
    }
    if (!g)
        say("no grid given: whether runs after the highest recorded index (%zu) are missing is not checked",
            expect ? expect - 1 : 0);
    table existing;
    int er = table_load(&existing, o->merge_out, err, sizeof err);
    table_free(&existing);
    if (er < 0) {
        say("%s; refusing to overwrite it", err);
        goto done;
    }
    if (table_write(&t, o->merge_out, err, sizeof err) != 0) {
        say("%s", err);
        goto done;
    }
    say("merged %zu runs from %zu files into %s", t.n, o->ninputs, o->merge_out);
    rc = 0;
    goto done;
oom:
    say("out of memory");
done:
    sb_free(&all);
    table_free(&t);
    return rc;
}
