// layout.h — lets each kernel family register its params struct's layout (sizeof, and offsetof
// of every field in declaration order), which t4j_struct_* report to the Java layout test.
#pragma once

#include <cstddef>
#include <cstdint>

namespace t4j {

struct FieldLayout {
    const char* name;
    int64_t offset;
};

// A static instance per struct, next to the launcher that uses the struct:
//   static const FieldLayout kFields[] = {T4J_FIELD(t4j_x_params, a), T4J_FIELD(t4j_x_params, b)};
//   static const StructRegistration kLayout("t4j_x_params", sizeof(t4j_x_params), kFields, 2);
struct StructRegistration {
    StructRegistration(const char* name, int64_t size, const FieldLayout* fields, size_t count);
};

#define T4J_FIELD(s, f) ::t4j::FieldLayout{#f, static_cast<int64_t>(offsetof(s, f))}

}  // namespace t4j
