// Data-movement kernels through the registry (Transpose, Concat, Gather, Slice) on model-sized
// shapes. Reported as bytes_per_second = (bytes read + bytes written) per iteration, i.e. twice the
// output size (Gather: output rows read + written). The argument is the intra-op thread count.
//   build-*/bench/idem_movement_bench [--benchmark_filter=Transpose]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "../tests/unit/kernel_test_util.h"

namespace idem {
namespace {

using testing::Op;

Tensor RandomF32(Shape shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return testing::F32(testing::RandomFloats(static_cast<size_t>(n), 11), std::move(shape));
}

// A pool per thread count (1 = inline, no pool).
std::unique_ptr<ThreadPool> PoolFor(int threads) {
  return threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
}

// Runs `make()`'s op every iteration; counts 2 * output bytes.
template <typename MakeOp>
void RunOp(benchmark::State& state, MakeOp make) {
  const std::unique_ptr<ThreadPool> pool = PoolFor(static_cast<int>(state.range(0)));
  int64_t out_bytes = 0;
  for (auto _ : state) {
    Op op = make();
    if (Status st = op.Run(pool.get()); !st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    out_bytes = op.out().numel() * static_cast<int64_t>(DTypeSize(op.out().dtype()));
    benchmark::DoNotOptimize(op.out().raw());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * out_bytes);
}

void TransposeBench(benchmark::State& state, Shape shape, std::vector<int64_t> perm) {
  const Tensor x = RandomF32(std::move(shape));
  RunOp(state, [&] {
    Op op("Transpose", 13);
    op.Attr("perm", testing::IntsAttr(perm)).In(x);
    return op;
  });
}

void BM_Transpose_BERT_0213(benchmark::State& s) { TransposeBench(s, {1, 12, 128, 64}, {0, 2, 1, 3}); }
void BM_Transpose_BERT_0132(benchmark::State& s) { TransposeBench(s, {1, 12, 128, 64}, {0, 1, 3, 2}); }
void BM_Transpose_NCHW_NHWC_64x112(benchmark::State& s) { TransposeBench(s, {1, 64, 112, 112}, {0, 2, 3, 1}); }
void BM_Transpose_NCHW_NHWC_3x224(benchmark::State& s) { TransposeBench(s, {1, 3, 224, 224}, {0, 2, 3, 1}); }
void BM_Transpose_NHWC_NCHW_64x112(benchmark::State& s) { TransposeBench(s, {1, 112, 112, 64}, {0, 3, 1, 2}); }

void BM_Concat_4x64x56x56_Axis1(benchmark::State& state) {
  std::vector<Tensor> xs;
  for (int i = 0; i < 4; ++i) xs.push_back(RandomF32({1, 64, 56, 56}));
  RunOp(state, [&] {
    Op op("Concat", 13);
    op.Attr("axis", testing::IntAttr(1));
    for (const Tensor& x : xs) op.In(x);
    return op;
  });
}

void BM_Gather_Embedding_30522x768_128(benchmark::State& state) {
  const Tensor table = RandomF32({30522, 768});
  std::vector<int64_t> idx(128);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>((i * 7919 + 13) % 30522);
  const Tensor indices = testing::I64(idx, {1, 128});
  RunOp(state, [&] {
    Op op("Gather", 13);
    op.Attr("axis", testing::IntAttr(0)).In(table).In(indices);
    return op;
  });
}

// x[:, :, ::2, ::2] of a [1, 64, 112, 112] activation.
void BM_Slice_Step2_64x112x112(benchmark::State& state) {
  const Tensor x = RandomF32({1, 64, 112, 112});
  RunOp(state, [&] {
    Op op("Slice", 13);
    op.In(x).In(testing::I64({0, 0}, {2})).In(testing::I64({112, 112}, {2})).In(testing::I64({2, 3}, {2}));
    op.In(testing::I64({2, 2}, {2}));
    return op;
  });
}

// x[:, :, 1:-1, 1:-1] (row step 1, inner runs of 110 contiguous elements).
void BM_Slice_Crop_64x112x112(benchmark::State& state) {
  const Tensor x = RandomF32({1, 64, 112, 112});
  RunOp(state, [&] {
    Op op("Slice", 13);
    op.In(x).In(testing::I64({1, 1}, {2})).In(testing::I64({-1, -1}, {2})).In(testing::I64({2, 3}, {2}));
    return op;
  });
}

void BM_Pad_1_64x56x56(benchmark::State& state) {
  const Tensor x = RandomF32({1, 64, 56, 56});
  RunOp(state, [&] {
    Op op("Pad", 13);
    op.In(x).In(testing::I64({0, 0, 1, 1, 0, 0, 1, 1}, {8}));
    return op;
  });
}

void BM_Expand_Row_1024x1024(benchmark::State& state) {
  const Tensor x = RandomF32({1, 1024});
  RunOp(state, [&] {
    Op op("Expand", 13);
    op.In(x).In(testing::I64({1024, 1024}, {2}));
    return op;
  });
}

void BM_Expand_Col_1024x1024(benchmark::State& state) {
  const Tensor x = RandomF32({1024, 1});
  RunOp(state, [&] {
    Op op("Expand", 13);
    op.In(x).In(testing::I64({1024, 1024}, {2}));
    return op;
  });
}

void BM_Split_3_Axis1_1x192x56x56(benchmark::State& state) {
  const Tensor x = RandomF32({1, 192, 56, 56});
  const std::unique_ptr<ThreadPool> pool = PoolFor(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Op op("Split", 13);
    op.Attr("axis", testing::IntAttr(1)).In(x).Outputs(3);
    if (Status st = op.Run(pool.get()); !st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    benchmark::DoNotOptimize(op.out(2).raw());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * x.numel() * 4);
}

#define IDEM_MOVE_BENCH(F) BENCHMARK(F)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime()
IDEM_MOVE_BENCH(BM_Transpose_BERT_0213);
IDEM_MOVE_BENCH(BM_Transpose_BERT_0132);
IDEM_MOVE_BENCH(BM_Transpose_NCHW_NHWC_64x112);
IDEM_MOVE_BENCH(BM_Transpose_NCHW_NHWC_3x224);
IDEM_MOVE_BENCH(BM_Transpose_NHWC_NCHW_64x112);
IDEM_MOVE_BENCH(BM_Concat_4x64x56x56_Axis1);
IDEM_MOVE_BENCH(BM_Gather_Embedding_30522x768_128);
IDEM_MOVE_BENCH(BM_Slice_Step2_64x112x112);
IDEM_MOVE_BENCH(BM_Slice_Crop_64x112x112);
IDEM_MOVE_BENCH(BM_Pad_1_64x56x56);
IDEM_MOVE_BENCH(BM_Expand_Row_1024x1024);
IDEM_MOVE_BENCH(BM_Expand_Col_1024x1024);
IDEM_MOVE_BENCH(BM_Split_3_Axis1_1x192x56x56);

}  // namespace
}  // namespace idem

BENCHMARK_MAIN();
