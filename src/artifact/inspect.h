// `idem inspect`: a readable summary of a loaded artifact, and the estimates it prints.
#pragma once

#include <cstdint>
#include <string>

#include "artifact/artifact.h"

namespace idem::artifact {

// Multiply-adds counted as 2 FLOPs, for Conv, ConvTranspose, MatMul, Gemm and fused ops built on
// them (recognized by name), from the static shapes of the main graph; other ops count 0.
// Nodes whose shapes are not static are skipped and counted in `*unknown` (may be null).
int64_t EstimateFlops(const Graph& g, int64_t* unknown);

// Elements of all initializers of the graph and its subgraphs.
int64_t ParameterCount(const Graph& g);

std::string InspectText(const std::string& path, const LoadedArtifact& a);

}  // namespace idem::artifact
