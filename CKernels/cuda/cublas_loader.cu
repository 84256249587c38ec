/* Loads cuBLAS at run time (dlopen + dlsym) instead of linking it: libaitrader_cuda.so then needs nothing but the
 * C/C++ runtime to load, and a machine without cuBLAS gets "cannot load libcublas.so.13: ..." as the backend's
 * reason for being unavailable, like a machine without a driver gets the driver's reason.
 *
 * Search order: $AITRADER_CUBLAS_LIB, the folder holding libaitrader_cuda.so, then the dynamic linker's paths
 * (LD_LIBRARY_PATH, the ld.so cache, /usr/local/cuda/lib64 via the cache). */
#include "ck_cuda.h"

#include <dlfcn.h>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#ifndef CUBLAS_VER_MAJOR
#error "cublas_api.h did not define CUBLAS_VER_MAJOR"
#endif

#define CK_STR2(x) #x
#define CK_STR(x) CK_STR2(x)
static const char *const kCublasSoname = "libcublas.so." CK_STR(CUBLAS_VER_MAJOR);

static ck_cublas_api g_api;
static std::once_flag g_once;
static char g_reason[768];
static bool g_loaded = false;

static std::string own_directory() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&ck_cublas_load), &info) == 0 || info.dli_fname == nullptr) return "";
    std::string path(info.dli_fname);
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

template <typename F> static bool resolve(void *h, const char *name, F *out) {
    *out = reinterpret_cast<F>(dlsym(h, name));
    if (*out == nullptr) {
        snprintf(g_reason, sizeof g_reason, "%s lacks symbol %s", kCublasSoname, name);
        return false;
    }
    return true;
}

static void load_once() {
    std::string tried;
    void *h = nullptr;
    const char *env = getenv("AITRADER_CUBLAS_LIB");
    if (env && *env) {
        h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) tried += std::string(dlerror()) + "; ";
    }
    if (!h) {
        std::string beside = own_directory() + kCublasSoname;
        h = dlopen(beside.c_str(), RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) {
        h = dlopen(kCublasSoname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *why = dlerror();
            snprintf(g_reason, sizeof g_reason, "cannot load %s%s%s (set LD_LIBRARY_PATH or AITRADER_CUBLAS_LIB)",
                     tried.c_str(), tried.empty() ? "" : "then ", why ? why : kCublasSoname);
            return;
        }
    }
    g_api.handle = h;
    bool ok = resolve(h, "cublasCreate_v2", &g_api.create) && resolve(h, "cublasDestroy_v2", &g_api.destroy) &&
              resolve(h, "cublasSetStream_v2", &g_api.set_stream) &&
              resolve(h, "cublasSetMathMode", &g_api.set_math_mode) &&
              resolve(h, "cublasSetWorkspace_v2", &g_api.set_workspace) &&
              resolve(h, "cublasSgemm_v2", &g_api.sgemm) &&
              resolve(h, "cublasSgemmStridedBatched", &g_api.sgemm_strided_batched) &&
              resolve(h, "cublasGetStatusString", &g_api.status_string);
    if (!ok) {
        dlclose(h);
        g_api = ck_cublas_api{};
        return;
    }
    g_loaded = true;
}

const ck_cublas_api *ck_cublas_load(char *err, size_t errlen) {
    std::call_once(g_once, load_once);
    if (g_loaded) return &g_api;
    if (err && errlen) snprintf(err, errlen, "%s", g_reason);
    return nullptr;
}
