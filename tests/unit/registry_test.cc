// The op list (kernels/ops.inc) is consistent: every entry has its kernel defined, and no two
// entries of one op claim the same opset.
#include <gtest/gtest.h>

#include <string>

#include "kernels/registry.h"

namespace idem {
namespace {

TEST(RegistryTest, EveryListedOpHasAKernel) {
  ASSERT_FALSE(AllOps().empty());
  for (const OpInfo& op : AllOps())
    EXPECT_NE(op.kernel, nullptr) << DomainName(op.domain) << "::" << op.op_type << " is listed but has no kernel";
}

TEST(RegistryTest, OpsetRangesAreValidAndDisjoint) {
  const auto ops = AllOps();
  for (size_t i = 0; i < ops.size(); ++i) {
    EXPECT_LE(ops[i].min_opset, ops[i].max_opset) << ops[i].op_type;
    EXPECT_GE(ops[i].min_opset, 1) << ops[i].op_type;
    for (size_t j = i + 1; j < ops.size(); ++j) {
      if (std::string(ops[i].op_type) != ops[j].op_type || DomainName(ops[i].domain) != DomainName(ops[j].domain))
        continue;
      EXPECT_TRUE(ops[i].max_opset < ops[j].min_opset || ops[j].max_opset < ops[i].min_opset)
          << ops[i].op_type << " is listed twice for overlapping opsets";
    }
  }
}

TEST(RegistryTest, FindOpRespectsOpsetRanges) {
  for (const OpInfo& op : AllOps()) {
    if (op.kernel == nullptr) continue;
    EXPECT_EQ(FindOp(op.domain, op.op_type, op.min_opset), &op);
    EXPECT_EQ(FindOp(op.domain, op.op_type, op.max_opset), &op);
  }
  EXPECT_EQ(FindOp("", "NoSuchOperator", 13), nullptr);
}

}  // namespace
}  // namespace idem
