// Static memory plan of a graph's intermediate tensors (DESIGN.md §3: an ExecutionContext's
// scratch arena is laid out by the compile-time plan).
//
// Liveness is computed over the schedule (the main graph's node order): a value lives from the
// node that produces it to the last node that reads it (directly, or through a subgraph's
// outer-scope reference); graph outputs live to the end. Values whose shape is static and whose
// dtype is fixed-size are planned; others are allocated at run time and listed as unplanned.
//
// In place: the output of a view op (Reshape, Flatten, Squeeze, Unsqueeze, Identity) or of a
// unary elementwise op (Relu, Sigmoid, ...) reuses its input's buffer when that input dies at
// this node, has the same byte size, and is itself planned (conservative on purpose).
//
// Placement: buffers (values joined by in-place reuse) are placed one by one, largest first, ties
// by first value index; each goes into the best-fitting gap (smallest that fits, then lowest
// offset) among the buffers already placed whose lifetimes overlap, else on top. Offsets are
// 64-byte aligned. The result depends only on the graph (D5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace idem::artifact {

inline constexpr uint64_t kArenaAlignment = 64;

struct PlannedValue {
  int value = -1;
  uint64_t offset = 0;
  uint64_t size = 0;   // bytes (unaligned)
  int first = 0;       // producing node
  int last = 0;        // last reading node; nodes.size() for graph outputs
  int inplace_of = -1;
};

struct MemoryPlan {
  uint64_t arena_bytes = 0;
  uint64_t naive_bytes = 0;  // sum of the sizes of all planned values
  std::vector<PlannedValue> values;  // by value index
  std::vector<int> unplanned;        // intermediate values without a static size
};

MemoryPlan PlanMemory(const Graph& g);

// Static byte size of a value, or -1 if its dtype or shape is not static.
int64_t StaticBytes(const Value& v);

// True if two planned values' lifetimes overlap and their byte ranges overlap (for tests).
bool PlannedOverlap(const PlannedValue& a, const PlannedValue& b);

}  // namespace idem::artifact
