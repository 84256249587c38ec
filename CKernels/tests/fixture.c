/* fixture.c — the .ckfix reader (see fixture.h). */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fixture_load(fixture *fx, const char *path) {
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fixture %s: cannot open (run tools/reference/kernel_fixtures.py)\n", path);
        return -1;
    }
    char header[4096];
    if (fgets(header, sizeof header, f) == NULL || strncmp(header, "CKFIX ", 6) != 0) {
        fprintf(stderr, "fixture %s: line 1 is not a CKFIX header\n", path);
        fclose(f);
        return -1;
    }
    header[strcspn(header, "\n")] = '\0';
    int in_tensors = 0, first = 1;
    size_t total = 0;
    for (char *tok = strtok(header + 6, " "); tok != NULL; tok = strtok(NULL, " ")) {
        if (first) {
            snprintf(fx->case_name, sizeof fx->case_name, "%s", tok);
            first = 0;
        } else if (strcmp(tok, "|") == 0) {
            in_tensors = 1;
        } else if (!in_tensors) {
            char *eq = strchr(tok, '=');
            if (eq == NULL || fx->n_params == FIXTURE_MAX_ITEMS) {
                fprintf(stderr, "fixture %s: bad parameter '%s' in the header\n", path, tok);
                fclose(f);
                return -1;
            }
            *eq = '\0';
            snprintf(fx->param_names[fx->n_params], 32, "%s", tok);
            fx->param_values[fx->n_params++] = strtod(eq + 1, NULL);
        } else {
            char *colon = strchr(tok, ':');
            if (colon == NULL || fx->n_tensors == FIXTURE_MAX_ITEMS) {
                fprintf(stderr, "fixture %s: bad tensor '%s' in the header\n", path, tok);
                fclose(f);
                return -1;
            }
            *colon = '\0';
            size_t n = 1;
            for (char *d = colon + 1; *d;) {
                char *end;
                unsigned long dim = strtoul(d, &end, 10);
                if (end == d) {
                    fprintf(stderr, "fixture %s: bad shape of tensor '%s'\n", path, tok);
                    fclose(f);
                    return -1;
                }
                n *= dim;
                d = *end == 'x' ? end + 1 : end;
            }
            snprintf(fx->tensor_names[fx->n_tensors], 32, "%s", tok);
            fx->tensor_sizes[fx->n_tensors++] = n;
            total += n;
        }
    }
    fx->blob = malloc((total ? total : 1) * sizeof(float));
    if (fx->blob == NULL || fread(fx->blob, sizeof(float), total, f) != total) {
        fprintf(stderr, "fixture %s: data shorter than the %zu floats the header lists\n", path, total);
        fclose(f);
        free(fx->blob);
        fx->blob = NULL;
        return -1;
    }
    fclose(f);
    size_t off = 0;
    for (int i = 0; i < fx->n_tensors; i++) {
        fx->tensor_data[i] = fx->blob + off;
        off += fx->tensor_sizes[i];
    }
    return 0;
}

void fixture_free(fixture *fx) {
    free(fx->blob);
    fx->blob = NULL;
}

const float *fixture_tensor(const fixture *fx, const char *name, size_t *n) {
    for (int i = 0; i < fx->n_tensors; i++) {
        if (strcmp(fx->tensor_names[i], name) == 0) {
            if (n) *n = fx->tensor_sizes[i];
            return fx->tensor_data[i];
        }
    }
    fprintf(stderr, "fixture %s: no tensor '%s'\n", fx->case_name, name);
    exit(2);
}

double fixture_param(const fixture *fx, const char *name) {
    for (int i = 0; i < fx->n_params; i++)
        if (strcmp(fx->param_names[i], name) == 0) return fx->param_values[i];
    fprintf(stderr, "fixture %s: no parameter '%s'\n", fx->case_name, name);
    exit(2);
}

int fixture_int(const fixture *fx, const char *name) { return (int)fixture_param(fx, name); }
