// cuda_driver.h — the CUDA driver API subset libt4j uses, declared here and resolved from
// libcuda.so.1 at run time (dlopen), so libt4j.so builds without the CUDA toolkit and loads on
// machines without a driver. Types and values match cuda.h.
#pragma once

#include <cstddef>

namespace t4j {

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st* CUcontext;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUstream_st* CUstream;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;

// The driver entry points we need; null until driver_load() succeeds.
struct Driver {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int* version);
    CUresult (*cuGetErrorString)(CUresult error, const char** str);
    CUresult (*cuGetErrorName)(CUresult error, const char** str);
    CUresult (*cuCtxGetCurrent)(CUcontext* ctx);
    CUresult (*cuCtxGetId)(CUcontext ctx, unsigned long long* id);  // may be null (driver < 12.0)
    CUresult (*cuModuleLoadData)(CUmodule* module, const void* image);
    CUresult (*cuModuleGetFunction)(CUfunction* fn, CUmodule module, const char* name);
    CUresult (*cuLaunchKernel)(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                               unsigned bx, unsigned by, unsigned bz, unsigned shared_bytes,
                               CUstream stream, void** params, void** extra);
    CUresult (*cuFuncSetAttribute)(CUfunction f, int attrib, int value);
    CUresult (*cuCtxGetDevice)(CUdevice* device);
    CUresult (*cuDeviceGetAttribute)(int* value, int attrib, CUdevice device);
    CUresult (*cuMemsetD32Async)(unsigned long long dst, unsigned int value, size_t count, CUstream stream);
};

// Opens libcuda.so.1 and calls cuInit(0) once (thread-safe). Returns a T4J status; on success
// *out points at the resolved table and *version holds cuDriverGetVersion().
int driver_load(const Driver** out, int* version);

}  // namespace t4j
