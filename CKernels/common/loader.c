/* Loading a backend shared library (the CUDA one) at run time. */
#include "ckernels.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* dlopen()s the library and checks that it is a backend of this ABI; on success *handle and *create are set. */
static ck_status open_backend_library(const char *library_path, void **handle_out, ck_backend_create_fn *create_out,
                                      char *err, size_t errlen) {
    void *handle = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        if (err && errlen) snprintf(err, errlen, "cannot load %s: %s", library_path, why ? why : "unknown dlopen error");
        return CK_ERR_UNAVAILABLE;
    }
    ck_backend_abi_version_fn abi = (ck_backend_abi_version_fn)dlsym(handle, "ck_backend_abi_version");
    ck_backend_create_fn create = (ck_backend_create_fn)dlsym(handle, "ck_backend_create");
    if (abi == NULL || create == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "%s is not an AITrader backend (missing ck_backend_abi_version / ck_backend_create)",
                     library_path);
        dlclose(handle);
        return CK_ERR_UNAVAILABLE;
    }
    int version = abi();
    if (version != CK_ABI_VERSION) {
        if (err && errlen)
            snprintf(err, errlen, "%s has backend ABI version %d, this program needs %d (rebuild it with make cuda)",
                     library_path, version, CK_ABI_VERSION);
        dlclose(handle);
        return CK_ERR_UNAVAILABLE;
    }
    *handle_out = handle;
    *create_out = create;
    return CK_OK;
}

ck_status ck_check_backend_library(const char *library_path, char *err, size_t errlen) {
    if (library_path == NULL) {
        if (err && errlen) snprintf(err, errlen, "ck_check_backend_library: NULL argument");
        return CK_ERR_INVALID_ARGUMENT;
    }
    void *handle = NULL;
    ck_backend_create_fn create = NULL;
    ck_status st = open_backend_library(library_path, &handle, &create, err, errlen);
    if (st != CK_OK) return st;
    dlclose(handle);
    if (err && errlen) err[0] = '\0';
    return CK_OK;
}

ck_status ck_load_backend(const char *library_path, int device_index, ck_backend **out, char *err, size_t errlen) {
    if (out == NULL || library_path == NULL) {
        if (err && errlen) snprintf(err, errlen, "ck_load_backend: NULL argument");
        return CK_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    void *handle = NULL;
    ck_backend_create_fn create = NULL;
    ck_status opened = open_backend_library(library_path, &handle, &create, err, errlen);
    if (opened != CK_OK) return opened;
    if (err && errlen) err[0] = '\0';
    ck_status status = create(device_index, out, err, errlen);
    if (status != CK_OK || *out == NULL) {
        /* Keep the library mapped only while an instance lives; the reason is already in err. */
        dlclose(handle);
        *out = NULL;
        return status == CK_OK ? CK_ERR_UNAVAILABLE : status;
    }
    /* The handle stays open for the life of the process: the table's functions live in it. */
    return CK_OK;
}
