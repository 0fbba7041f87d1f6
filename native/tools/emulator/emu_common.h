// emu_common.h — what the emulator's drivers share: dtype conversions on the host side, random
// inputs, the failure count, the problem filter and the closing summary (findings, kernels run).
// Nothing here is used by the kernels; the float64 references live in each driver.
#pragma once

#include "simt.h"

#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace emu {

inline int g_failures = 0;
inline std::mt19937_64 g_rng(12345);
inline bool g_all = false;          // --all: the full problem set, else the sampled one
inline std::string g_only;          // --only SUBSTRING: run matching problems only

inline void parse_args(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--all") {
#ifdef T4J_EMU_SAMPLED_BUILD
            std::fprintf(stderr, "%s: built for the sampled set (-DT4J_EMU_SAMPLED_BUILD); emulate.sh --all builds the full one\n", argv[0]);
            std::exit(2);
#endif
            g_all = true;
        }
        else if (a == "--only" && i + 1 < argc) g_only = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--all] [--only SUBSTRING]\n", argv[0]);
            std::exit(2);
        }
    }
    simt::init();
}

// --only takes substrings separated by '|'; a problem runs when its name contains one of them.
inline bool wanted(const std::string& what) {
    if (g_only.empty()) return true;
    size_t start = 0;
    for (;;) {
        const size_t bar = g_only.find('|', start);
        const std::string part = g_only.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
        if (!part.empty() && what.find(part) != std::string::npos) return true;
        if (bar == std::string::npos) return false;
        start = bar + 1;
    }
}

// Compile-time counterpart of --only, for the one-problem builds (sanitizer sets, mutations):
// emulate.sh passes the --only patterns as -DT4J_EMU_BUILD_ONLY="A|B". A driver asks built(K) for
// the name prefix K that every problem of a kernel instantiation starts with ("mma bf16 HS 64") and
// compiles that launch only when some pattern starts with K (then a space) or is a prefix of K. A
// pattern that does not start at a problem name's beginning builds none: its problems then run
// without their kernel, their outputs stay NaN and they FAIL (never a silent pass). Without the
// macro everything is built.
constexpr bool built([[maybe_unused]] std::string_view key) {
#ifdef T4J_EMU_BUILD_ONLY
    const std::string_view only = T4J_EMU_BUILD_ONLY;
    size_t start = 0;
    for (;;) {
        const size_t bar = only.find('|', start);
        const std::string_view part = only.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
        if (!part.empty() && (key.starts_with(part) || (part.starts_with(key) && (part.size() == key.size() || part[key.size()] == ' '))))
            return true;
        if (bar == std::string_view::npos) return false;
        start = bar + 1;
    }
#else
    return true;
#endif
}

// A launch that T4J_EMU_BUILD_ONLY left out of this build: its problem fails with this line (and
// mutate.sh does not count such a failure as its fault caught).
inline void not_built(const std::string& kernel) {
    g_failures++;
    std::printf("not built: %s (left out by T4J_EMU_BUILD_ONLY)\n", kernel.c_str());
}

// "PREFIX<dtype> HS <hs>" at compile time, for built().
template <size_t N>
struct Key {
    char s[N + 16] = {};
    size_t n = 0;
    constexpr std::string_view view() const { return {s, n}; }
};
template <size_t N>
constexpr Key<N> key(const char (&prefix)[N], const char* dtype, int hs = -1) {
    Key<N> k;
    auto put = [&](const char* c) { while (*c) k.s[k.n++] = *c++; };
    put(prefix);
    put(dtype);
    if (hs >= 0) {
        put(" HS ");
        char digits[4];
        int d = 0;
        do { digits[d++] = static_cast<char>('0' + hs % 10); hs /= 10; } while (hs > 0);
        while (d > 0) k.s[k.n++] = digits[--d];
    }
    return k;
}

inline float uniform(float scale) { return std::uniform_real_distribution<float>(-scale, scale)(g_rng); }

template <typename T>
T from(float v) {
    if constexpr (std::is_same_v<T, float>) return v;
    else if constexpr (std::is_same_v<T, __half>) return __float2half_rn(v);
    else return __float2bfloat16_rn(v);
}
template <typename T>
float to(T v) {
    if constexpr (std::is_same_v<T, float>) return v;
    else if constexpr (std::is_same_v<T, __half>) return __half2float(v);
    else return __bfloat162float(v);
}
template <typename T>
double unit_roundoff() {
    if constexpr (std::is_same_v<T, float>) return 0x1p-24;
    else if constexpr (std::is_same_v<T, __half>) return 0x1p-11;
    else return 0x1p-8;
}
template <typename T>
constexpr const char* name() {
    if constexpr (std::is_same_v<T, float>) return "f32";
    else if constexpr (std::is_same_v<T, __half>) return "f16";
    else return "bf16";
}

// Random values of dtype T and their exact float copies.
template <typename T>
void fill(std::vector<T>& v, std::vector<double>& exact, float scale) {
    exact.resize(v.size());
    for (size_t i = 0; i < v.size(); i++) {
        v[i] = from<T>(uniform(scale));
        exact[i] = to(v[i]);
    }
}

inline void verdict(bool ok, const std::string& what, const char* fmt, ...) {
    if (!ok) g_failures++;
    std::printf("%s %s: ", ok ? "ok  " : "FAIL", what.c_str());
    va_list ap;
    va_start(ap, fmt);
    std::vprintf(fmt, ap);
    va_end(ap);
    std::printf("\n");
    std::fflush(stdout);
}

// Prints the kernels run and the totals; the exit status.
inline int summary() {
    for (const std::string& k : simt::g_launched) std::printf("emulated kernel: %s\n", k.c_str());
    const int findings = simt::g_findings.load();
    std::printf("%d problem(s) failed, %d checker finding(s)\n", g_failures, findings);
    return g_failures || findings ? 1 : 0;
}

}  // namespace emu
