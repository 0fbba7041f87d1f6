// library.cpp — libt4j's own entry points: ABI version, build information, status strings,
// struct layouts for the binding test, the driver loader, the fatbin and its per-context modules.
#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "internal.h"
#include "layout.h"

#ifndef T4J_HAVE_KERNELS
#define T4J_HAVE_KERNELS 0
#endif
#ifndef T4J_ARCHS
#define T4J_ARCHS ""
#endif
#ifndef T4J_NVCC_VERSION
#define T4J_NVCC_VERSION ""
#endif
#ifndef T4J_CUDA_VERSION
#define T4J_CUDA_VERSION 0
#endif
// CUDA 13 binaries need a driver that reports 13000 (R580); derived from the toolkit's major.
#define T4J_MIN_DRIVER_VERSION ((T4J_CUDA_VERSION / 1000) * 1000)

namespace t4j {

namespace {

// ---- driver --------------------------------------------------------------------------------

std::once_flag g_driver_once;
Driver g_driver{};
int32_t g_driver_status = T4J_ERROR_NO_DRIVER;
int g_driver_version = 0;

template <typename F>
bool resolve(void* lib, const char* name, F* slot) {
    *slot = reinterpret_cast<F>(dlsym(lib, name));
    return *slot != nullptr;
}

void load_driver_once() {
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        g_driver_status = T4J_ERROR_NO_DRIVER;
        return;
    }
    Driver d{};
    bool ok = resolve(lib, "cuInit", &d.cuInit) && resolve(lib, "cuDriverGetVersion", &d.cuDriverGetVersion) &&
              resolve(lib, "cuGetErrorString", &d.cuGetErrorString) &&
              resolve(lib, "cuGetErrorName", &d.cuGetErrorName) &&
              resolve(lib, "cuCtxGetCurrent", &d.cuCtxGetCurrent) &&
              resolve(lib, "cuModuleLoadData", &d.cuModuleLoadData) &&
              resolve(lib, "cuModuleGetFunction", &d.cuModuleGetFunction) &&
              resolve(lib, "cuLaunchKernel", &d.cuLaunchKernel) &&
              resolve(lib, "cuFuncSetAttribute", &d.cuFuncSetAttribute) &&
              resolve(lib, "cuCtxGetDevice", &d.cuCtxGetDevice) &&
              resolve(lib, "cuDeviceGetAttribute", &d.cuDeviceGetAttribute) &&
              resolve(lib, "cuMemsetD32Async", &d.cuMemsetD32Async);
    resolve(lib, "cuCtxGetId", &d.cuCtxGetId);  // optional
    if (!ok) {
        g_driver_status = T4J_ERROR_NO_DRIVER;
        return;
    }
    int version = 0;
    d.cuDriverGetVersion(&version);
    g_driver_version = version;
    CUresult r = d.cuInit(0);
    if (r != CUDA_SUCCESS) {
        g_driver_status = cuda_status(r);
        g_driver = d;  // keep error-string lookups working
        return;
    }
    g_driver = d;
    g_driver_status = (T4J_MIN_DRIVER_VERSION > 0 && version < T4J_MIN_DRIVER_VERSION) ? T4J_ERROR_DRIVER_TOO_OLD
                                                                                        : T4J_SUCCESS;
}

// ---- fatbin and modules ---------------------------------------------------------------------

std::mutex g_module_mutex;
std::vector<unsigned char> g_fatbin;
bool g_fatbin_used = false;
// context id -> module; ids from cuCtxGetId survive address reuse of destroyed contexts.
std::unordered_map<unsigned long long, CUmodule> g_modules;

struct KernelCacheKey {
    unsigned long long ctx;
    const char* name;
    bool operator==(const KernelCacheKey& o) const { return ctx == o.ctx && name == o.name; }
};
struct KernelCacheHash {
    size_t operator()(const KernelCacheKey& k) const {
        return std::hash<unsigned long long>()(k.ctx) * 31 + std::hash<const void*>()(k.name);
    }
};
std::unordered_map<KernelCacheKey, CUfunction, KernelCacheHash> g_kernels;

int32_t context_id(const Driver* d, unsigned long long* id) {
    CUcontext ctx = nullptr;
    CUresult r = d->cuCtxGetCurrent(&ctx);
    if (r != CUDA_SUCCESS) return cuda_status(r);
    if (ctx == nullptr) return T4J_ERROR_NO_CONTEXT;
    if (d->cuCtxGetId != nullptr) {
        r = d->cuCtxGetId(ctx, id);
        if (r != CUDA_SUCCESS) return cuda_status(r);
    } else {
        *id = reinterpret_cast<unsigned long long>(ctx);
    }
    return T4J_SUCCESS;
}

// ---- struct layouts -----------------------------------------------------------------------

struct StructInfo {
    const char* name;
    int64_t size;
    const FieldLayout* fields;
    size_t count;
    std::string field_list;  // "a,b,c"
};

// Function-local so that registrations from other translation units' static initialisers find it.
std::vector<StructInfo>& structs() {
    static std::vector<StructInfo> registry;
    return registry;
}

std::string& struct_list() {
    static std::string names;
    return names;
}

const StructInfo* find_struct(const char* name) {
    for (const StructInfo& s : structs())
        if (std::strcmp(s.name, name) == 0) return &s;
    return nullptr;
}

const FieldLayout kBuildInfoFields[] = {
    T4J_FIELD(t4j_build_info, abi_version),  T4J_FIELD(t4j_build_info, has_kernels),
    T4J_FIELD(t4j_build_info, cuda_version), T4J_FIELD(t4j_build_info, min_driver_version),
    T4J_FIELD(t4j_build_info, archs),        T4J_FIELD(t4j_build_info, nvcc_version),
    T4J_FIELD(t4j_build_info, compiler),
};
const StructRegistration kBuildInfoLayout("t4j_build_info", sizeof(t4j_build_info), kBuildInfoFields,
                                          sizeof(kBuildInfoFields) / sizeof(kBuildInfoFields[0]));

void copy_string(char* dst, size_t cap, const char* src) {
    std::strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

}  // namespace

StructRegistration::StructRegistration(const char* name, int64_t size, const FieldLayout* fields, size_t count) {
    std::string list;
    for (size_t i = 0; i < count; i++) list += (i ? "," : "") + std::string(fields[i].name);
    structs().push_back(StructInfo{name, size, fields, count, list});
    struct_list() += (struct_list().empty() ? "" : ",") + std::string(name);
}

int driver_load(const Driver** out, int* version) {
    std::call_once(g_driver_once, load_driver_once);
    if (version != nullptr) *version = g_driver_version;
    if (out != nullptr) *out = (g_driver_status == T4J_SUCCESS) ? &g_driver : nullptr;
    return g_driver_status;
}

int32_t get_kernel(const char* name, CUfunction* out) {
    const Driver* d = nullptr;
    int32_t s = driver_load(&d, nullptr);
    if (s != T4J_SUCCESS) return s;
    unsigned long long ctx_id = 0;
    s = context_id(d, &ctx_id);
    if (s != T4J_SUCCESS) return s;

    std::lock_guard<std::mutex> lock(g_module_mutex);
    auto cached = g_kernels.find(KernelCacheKey{ctx_id, name});
    if (cached != g_kernels.end()) {
        *out = cached->second;
        return T4J_SUCCESS;
    }
    auto mod = g_modules.find(ctx_id);
    if (mod == g_modules.end()) {
        if (g_fatbin.empty()) return T4J_ERROR_NO_KERNELS;
        CUmodule m = nullptr;
        CUresult r = d->cuModuleLoadData(&m, g_fatbin.data());
        if (r != CUDA_SUCCESS) return cuda_status(r);
        g_fatbin_used = true;
        mod = g_modules.emplace(ctx_id, m).first;
    }
    CUfunction f = nullptr;
    CUresult r = d->cuModuleGetFunction(&f, mod->second, name);
    if (r == CUDA_ERROR_NOT_FOUND) return T4J_ERROR_KERNEL_NOT_FOUND;
    if (r != CUDA_SUCCESS) return cuda_status(r);
    g_kernels.emplace(KernelCacheKey{ctx_id, name}, f);
    *out = f;
    return T4J_SUCCESS;
}

int32_t launch(CUfunction f, uint32_t grid, uint32_t block, uint32_t shared_bytes, void* stream, void** args) {
    const Driver* d = nullptr;
    int32_t s = driver_load(&d, nullptr);
    if (s != T4J_SUCCESS) return s;
    return cuda_status(d->cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared_bytes, static_cast<CUstream>(stream), args,
                                         nullptr));
}

int32_t launch_grid(CUfunction f, uint32_t gx, uint32_t gy, uint32_t gz, uint32_t block, uint32_t shared_bytes,
                    void* stream, void** args) {
    const Driver* d = nullptr;
    int32_t s = driver_load(&d, nullptr);
    if (s != T4J_SUCCESS) return s;
    if (shared_bytes > 48 * 1024) {
        // Above 48 KiB a kernel must opt in; idempotent and cheap next to the launch itself.
        CUresult r = d->cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(shared_bytes));
        if (r != CUDA_SUCCESS) return cuda_status(r);
    }
    return cuda_status(d->cuLaunchKernel(f, gx, gy, gz, block, 1, 1, shared_bytes, static_cast<CUstream>(stream), args,
                                         nullptr));
}

int32_t memset_d32_async(void* dst, uint32_t value, size_t count, void* stream) {
    const Driver* d = nullptr;
    int32_t s = driver_load(&d, nullptr);
    if (s != T4J_SUCCESS) return s;
    return cuda_status(d->cuMemsetD32Async(static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(dst)), value, count,
                                           static_cast<CUstream>(stream)));
}

int32_t sm_count(int* out) {
    const Driver* d = nullptr;
    int32_t s = driver_load(&d, nullptr);
    if (s != T4J_SUCCESS) return s;
    CUdevice dev = 0;
    CUresult r = d->cuCtxGetDevice(&dev);
    if (r != CUDA_SUCCESS) return cuda_status(r);
    static std::atomic<int> cache[64] = {};  // per device ordinal; 0 = not asked yet
    if (dev >= 0 && dev < 64) {
        int cached = cache[dev].load(std::memory_order_relaxed);
        if (cached > 0) {
            *out = cached;
            return T4J_SUCCESS;
        }
    }
    int n = 0;
    r = d->cuDeviceGetAttribute(&n, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
    if (r != CUDA_SUCCESS) return cuda_status(r);
    if (dev >= 0 && dev < 64) cache[dev].store(n, std::memory_order_relaxed);
    *out = n;
    return T4J_SUCCESS;
}

}  // namespace t4j

using namespace t4j;

extern "C" {

T4J_API int32_t t4j_abi_version(void) { return T4J_ABI_VERSION; }

T4J_API int32_t t4j_build_info_get(t4j_build_info* out) {
    if (out == nullptr) return T4J_ERROR_INVALID_ARGUMENT;
    std::memset(out, 0, sizeof(*out));
    out->abi_version = T4J_ABI_VERSION;
    out->has_kernels = T4J_HAVE_KERNELS;
    out->cuda_version = T4J_CUDA_VERSION;
    out->min_driver_version = T4J_MIN_DRIVER_VERSION;
    copy_string(out->archs, sizeof(out->archs), T4J_ARCHS);
    copy_string(out->nvcc_version, sizeof(out->nvcc_version), T4J_NVCC_VERSION);
#if defined(__clang__)
    copy_string(out->compiler, sizeof(out->compiler), "clang " __clang_version__);
#elif defined(__GNUC__)
    copy_string(out->compiler, sizeof(out->compiler), "gcc " __VERSION__);
#else
    copy_string(out->compiler, sizeof(out->compiler), "unknown");
#endif
    return T4J_SUCCESS;
}

T4J_API const char* t4j_status_string(int32_t status) {
    switch (status) {
        case T4J_SUCCESS: return "success";
        case T4J_ERROR_INVALID_ARGUMENT: return "invalid argument";
        case T4J_ERROR_UNSUPPORTED: return "no kernel variant supports these arguments";
        case T4J_ERROR_NO_DRIVER: return "no CUDA driver (libcuda.so.1 could not be opened)";
        case T4J_ERROR_DRIVER_TOO_OLD:
            return "the CUDA driver is older than this build's kernels need (CUDA 13 kernels need driver 580 or newer)";
        case T4J_ERROR_NO_KERNELS: return "no CUDA kernels loaded (this build has no t4j.fatbin, or none was given)";
        case T4J_ERROR_NO_CONTEXT: return "no CUDA context is current on the calling thread";
        case T4J_ERROR_KERNEL_NOT_FOUND: return "the fatbin lacks the requested kernel";
        case T4J_ERROR_OUT_OF_MEMORY: return "out of host memory";
        default: break;
    }
    if (status > T4J_STATUS_CUDA_BASE) {
        std::call_once(g_driver_once, load_driver_once);
        const char* s = nullptr;
        if (g_driver.cuGetErrorString != nullptr &&
            g_driver.cuGetErrorString(static_cast<CUresult>(status - T4J_STATUS_CUDA_BASE), &s) == CUDA_SUCCESS &&
            s != nullptr) {
            return s;
        }
        return "CUDA driver error (no description available)";
    }
    return "unknown status";
}

T4J_API int64_t t4j_struct_size(const char* struct_name) {
    if (struct_name == nullptr) return -1;
    const StructInfo* s = find_struct(struct_name);
    return s == nullptr ? -1 : s->size;
}

T4J_API int64_t t4j_struct_offset(const char* struct_name, const char* field_name) {
    if (struct_name == nullptr || field_name == nullptr) return -1;
    const StructInfo* s = find_struct(struct_name);
    if (s == nullptr) return -1;
    for (size_t i = 0; i < s->count; i++)
        if (std::strcmp(s->fields[i].name, field_name) == 0) return s->fields[i].offset;
    return -1;
}

T4J_API const char* t4j_struct_fields(const char* struct_name) {
    if (struct_name == nullptr) return nullptr;
    const StructInfo* s = find_struct(struct_name);
    return s == nullptr ? nullptr : s->field_list.c_str();
}

T4J_API const char* t4j_struct_list(void) { return struct_list().c_str(); }

T4J_API int32_t t4j_driver_init(int32_t* driver_version) {
    int version = 0;
    int32_t s = driver_load(nullptr, &version);
    if (driver_version != nullptr) *driver_version = version;
    return s;
}

T4J_API int32_t t4j_set_fatbin(const void* image, uint64_t size) {
    if (image == nullptr || size == 0) return T4J_ERROR_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> lock(g_module_mutex);
    if (g_fatbin_used) return T4J_SUCCESS;  // modules already loaded from the first image
    try {
        const unsigned char* bytes = static_cast<const unsigned char*>(image);
        g_fatbin.assign(bytes, bytes + size);
    } catch (...) {
        return T4J_ERROR_OUT_OF_MEMORY;
    }
    return T4J_SUCCESS;
}

}  // extern "C"
