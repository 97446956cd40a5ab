#include "artifact/artifact.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "artifact/idem_generated.h"

namespace idem::artifact {

namespace {

constexpr const char* kDeterminismText =
    "D1 run and process: every run in any process gives identical bits. "
    "D2 threads and streams: any intra-op thread count gives identical bits (outputs are parallelized, "
    "reductions keep their canonical order). "
    "D3 batch: per-sample ops give a sample the same bits at any batch size and position. "
    "D4 ISA: scalar, AVX2+FMA and AVX-512 give identical bits (packed weights are target-neutral, R5). "
    "D5 compile: the same model, options and idem version give this artifact byte for byte (no timestamps, "
    "thread count and machine do not enter it). "
    "D6 randomness: random ops use Philox4x32-10 keyed by (seed, node, element). "
    "Not promised: equality with ONNX Runtime or PyTorch, or across idem versions.";

std::string KernelVariant(const Node& n, const PreparedState* prepared) {
  if (prepared != nullptr && !prepared->tensors.empty()) return "prepacked";
  (void)n;
  return "default";
}

// ---------------------------------------------------------------- writer

class MetadataWriter {
 public:
  explicit MetadataWriter(const PreparedStates* prepared) : prepared_(prepared) {}

  flatbuffers::FlatBufferBuilder fbb{1 << 16};

  struct Pending {
    const Tensor* tensor;
    uint64_t offset;
  };
  std::vector<Pending> pending;
  uint64_t end = 0;  // end of the last tensor in the weight section
  uint64_t prepared_bytes = 0;
  int64_t prepared_nodes = 0;

  flatbuffers::Offset<fb::TensorRef> TensorRef(const Tensor& t) {
    auto shape = fbb.CreateVector(t.shape());
    if (t.dtype() == DType::kString) {
      std::vector<flatbuffers::Offset<flatbuffers::String>> items;
      for (int64_t i = 0; i < t.numel(); ++i) items.push_back(fbb.CreateString(t.data<std::string>()[i]));
      auto strings = fbb.CreateVector(items);
      return fb::CreateTensorRef(fbb, static_cast<int32_t>(t.dtype()), shape, 0, 0, strings);
    }
    const uint64_t offset = AlignUp(end, kSectionAlignment);
    const uint64_t nbytes = t.nbytes();
    pending.push_back({&t, offset});
    end = offset + nbytes;
    return fb::CreateTensorRef(fbb, static_cast<int32_t>(t.dtype()), shape, offset, nbytes);
  }

  flatbuffers::Offset<fb::ValueType> Type(const ValueType& t) {
    std::vector<flatbuffers::Offset<fb::Dim>> dims;
    for (const Dim& d : t.dims) {
      auto sym = d.symbol.empty() ? 0 : fbb.CreateString(d.symbol);
      dims.push_back(fb::CreateDim(fbb, d.value, sym));
    }
    auto dv = fbb.CreateVector(dims);
    return fb::CreateValueType(fbb, static_cast<uint8_t>(t.kind), static_cast<int32_t>(t.elem), t.has_shape, dv,
                               static_cast<uint8_t>(t.optional_of));
  }

  flatbuffers::Offset<fb::Attribute> Attr(const std::string& name, const Attribute& a) {
    auto n = fbb.CreateString(name);
    auto s = fbb.CreateString(a.s);
    flatbuffers::Offset<fb::TensorRef> t = a.t.defined() ? TensorRef(a.t) : 0;
    flatbuffers::Offset<fb::Graph> g = a.g ? GraphTable(*a.g) : 0;
    auto floats = fbb.CreateVector(a.floats);
    auto ints = fbb.CreateVector(a.ints);
    auto strings = fbb.CreateVectorOfStrings(a.strings);
    std::vector<flatbuffers::Offset<fb::TensorRef>> tensors;
    for (const Tensor& x : a.tensors) tensors.push_back(TensorRef(x));
    auto tv = fbb.CreateVector(tensors);
    std::vector<flatbuffers::Offset<fb::Graph>> graphs;
    for (const auto& x : a.graphs) graphs.push_back(GraphTable(*x));
    auto gv = fbb.CreateVector(graphs);
    auto type = Type(a.type);
    return fb::CreateAttribute(fbb, n, static_cast<uint8_t>(a.kind), a.f, a.i, s, t, g, floats, ints, strings, tv, gv,
                               type);
  }

  flatbuffers::Offset<fb::Graph> GraphTable(const Graph& g) {
    auto name = fbb.CreateString(g.name);
    std::vector<flatbuffers::Offset<fb::Value>> values;
    for (const Value& v : g.values) {
      auto vn = fbb.CreateString(v.name);
      auto type = Type(v.type);
      flatbuffers::Offset<fb::TensorRef> init = v.has_initializer ? TensorRef(v.initializer) : 0;
      values.push_back(
          fb::CreateValue(fbb, vn, type, v.producer, v.is_graph_input, v.has_initializer, init, v.outer_scope));
    }
    auto vv = fbb.CreateVector(values);
    const std::vector<std::shared_ptr<const PreparedState>>* states = nullptr;
    if (prepared_ != nullptr) {
      auto it = prepared_->find(&g);
      if (it != prepared_->end()) states = &it->second;
    }
    std::vector<flatbuffers::Offset<fb::Node>> nodes;
    for (const Node& n : g.nodes) {
      auto nn = fbb.CreateString(n.name);
      auto op = fbb.CreateString(n.op_type);
      auto dom = fbb.CreateString(n.domain);
      auto ins = fbb.CreateVector(n.inputs);
      auto outs = fbb.CreateVector(n.outputs);
      std::vector<flatbuffers::Offset<fb::Attribute>> attrs;
      for (const auto& [an, a] : n.attributes) attrs.push_back(Attr(an, a));  // std::map: sorted by name
      auto av = fbb.CreateVector(attrs);
      auto prov = fbb.CreateVectorOfStrings(n.provenance);
      const PreparedState* st = nullptr;
      if (states != nullptr && static_cast<size_t>(n.index) < states->size())
        st = (*states)[static_cast<size_t>(n.index)].get();
      auto kop = fbb.CreateString(n.domain.empty() ? n.op_type : n.domain + "." + n.op_type);
      auto kvar = fbb.CreateString(KernelVariant(n, st));
      auto kernel = fb::CreateKernelChoice(fbb, kop, kvar);
      std::vector<flatbuffers::Offset<fb::TensorRef>> ptensors;
      if (st != nullptr) {
        ++prepared_nodes;
        for (const Tensor& t : st->tensors) {
          ptensors.push_back(TensorRef(t));
          prepared_bytes += t.nbytes();
        }
      }
      auto pv = fbb.CreateVector(ptensors);
      nodes.push_back(fb::CreateNode(fbb, nn, op, dom, n.opset, ins, outs, av, prov, kernel, st != nullptr, pv));
    }
    auto nv = fbb.CreateVector(nodes);
    auto gi = fbb.CreateVector(g.inputs);
    auto go = fbb.CreateVector(g.outputs);
    std::vector<flatbuffers::Offset<fb::Opset>> opsets;
    for (const auto& [d, v] : g.opsets) opsets.push_back(fb::CreateOpset(fbb, fbb.CreateString(d), v));
    auto ov = fbb.CreateVector(opsets);
    return fb::CreateGraph(fbb, name, vv, nv, gi, go, ov);
  }

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::IoSignature>>> Signature(const Graph& g,
                                                                                          const std::vector<int>& ids,
                                                                                          bool inputs) {
    std::vector<flatbuffers::Offset<fb::IoSignature>> sigs;
    for (int id : ids) {
      const Value& v = g.values[static_cast<size_t>(id)];
      auto n = fbb.CreateString(v.name);
      auto t = Type(v.type);
      sigs.push_back(fb::CreateIoSignature(fbb, n, t, inputs && v.has_initializer));
    }
    return fbb.CreateVector(sigs);
  }

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::OpCount>>> Counts(
      const std::map<std::string, int64_t>& m) {
    std::vector<flatbuffers::Offset<fb::OpCount>> v;
    for (const auto& [op, c] : m) v.push_back(fb::CreateOpCount(fbb, fbb.CreateString(op), c));
    return fbb.CreateVector(v);
  }

 private:
  const PreparedStates* prepared_;
};

class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256Stream() { EVP_MD_CTX_free(ctx_); }
  void Update(const void* p, size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  Digest Final() {
    Digest d;
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.data(), &len);
    return d;
  }

 private:
  EVP_MD_CTX* ctx_;
};

class OutFile {
 public:
  explicit OutFile(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {}
  ~OutFile() {
    if (f_ != nullptr) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr && !failed_; }
  void Write(const void* p, size_t n) {
    if (n > 0 && std::fwrite(p, 1, n, f_) != n) failed_ = true;
  }
  void Zeros(size_t n) {
    static const char kZero[4096] = {};
    while (n > 0) {
      const size_t k = std::min(n, sizeof(kZero));
      Write(kZero, k);
      n -= k;
    }
  }
  bool Rewind() { return std::fseek(f_, 0, SEEK_SET) == 0; }
  bool Close() {
    const bool good = ok() && std::fflush(f_) == 0 && std::fclose(f_) == 0;
    f_ = nullptr;
    return good;
  }

 private:
  std::string path_;
  FILE* f_;
  bool failed_ = false;
};

// ---------------------------------------------------------------- reader

struct MappedFile {
  void* data = nullptr;
  size_t size = 0;
  ~MappedFile() {
    if (data != nullptr) munmap(data, size);
  }
};

class GraphReader {
 public:
  GraphReader(const uint8_t* weights, uint64_t weights_size, std::shared_ptr<Buffer> weight_buffer)
      : weights_(weights), weights_size_(weights_size), buffer_(std::move(weight_buffer)) {}

  PreparedStates prepared;
  uint64_t prepared_bytes = 0;
  int64_t prepared_nodes = 0;

  Result<Tensor> ReadTensor(const fb::TensorRef* r, const std::string& what) {
    if (r == nullptr) return InvalidModel("idem artifact is corrupt: missing tensor for ", what);
    if (!IsValidDType(r->dtype()) || r->dtype() == 0)
      return InvalidModel("idem artifact is corrupt: tensor ", what, " has invalid dtype ", r->dtype());
    const DType dt = static_cast<DType>(r->dtype());
    Shape shape;
    if (r->shape() != nullptr) shape.assign(r->shape()->begin(), r->shape()->end());
    const int64_t n = NumElements(shape);
    if (n < 0) return InvalidModel("idem artifact is corrupt: tensor ", what, " has invalid shape ", ShapeToString(shape));
    if (dt == DType::kString) {
      if (r->strings() == nullptr || static_cast<int64_t>(r->strings()->size()) != n)
        return InvalidModel("idem artifact is corrupt: string tensor ", what, " has the wrong element count");
      IDEM_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dt, shape));
      for (int64_t i = 0; i < n; ++i) t.data<std::string>()[i] = r->strings()->Get(static_cast<flatbuffers::uoffset_t>(i))->str();
      return t;
    }
    const uint64_t elem = DTypeSize(dt);
    if (static_cast<uint64_t>(n) > weights_size_ / std::max<uint64_t>(elem, 1) + 1 ||
        static_cast<uint64_t>(n) * elem != r->nbytes())
      return InvalidModel("idem artifact is corrupt: tensor ", what, " has ", r->nbytes(), " bytes for shape ",
                          ShapeToString(shape));
    if (r->offset() % kSectionAlignment != 0 || r->offset() > weights_size_ || r->nbytes() > weights_size_ - r->offset())
      return InvalidModel("idem artifact is corrupt: tensor ", what, " lies outside the weight section");
    return MakeTensorView(dt, std::move(shape), buffer_, static_cast<size_t>(r->offset()));
  }

  Status ReadType(const fb::ValueType* t, ValueType* out) {
    if (t == nullptr) return Status::Ok();
    if (t->kind() > static_cast<uint8_t>(ValueType::Kind::kOptional) ||
        t->optional_of() > static_cast<uint8_t>(ValueType::Kind::kOptional) ||
        (t->elem() != 0 && !IsValidDType(t->elem())))
      return InvalidModel("idem artifact is corrupt: invalid value type");
    out->kind = static_cast<ValueType::Kind>(t->kind());
    out->elem = static_cast<DType>(t->elem());
    out->has_shape = t->has_shape();
    out->optional_of = static_cast<ValueType::Kind>(t->optional_of());
    if (t->dims() != nullptr)
      for (const fb::Dim* d : *t->dims()) {
        if (d == nullptr) return InvalidModel("idem artifact is corrupt: null dim");
        out->dims.push_back({d->value(), d->symbol() ? d->symbol()->str() : std::string()});
      }
    return Status::Ok();
  }

  static std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

  Status ReadAttr(const fb::Attribute* a, Attribute* out, int depth) {
    if (a->kind() > static_cast<uint8_t>(Attribute::Kind::kType))
      return InvalidModel("idem artifact is corrupt: invalid attribute kind");
    out->kind = static_cast<Attribute::Kind>(a->kind());
    out->f = a->f();
    out->i = a->i();
    out->s = Str(a->s());
    const std::string what = "attribute '" + Str(a->name()) + "'";
    if (a->t() != nullptr) {
      IDEM_ASSIGN_OR_RETURN(out->t, ReadTensor(a->t(), what));
    }
    if (a->g() != nullptr) {
      IDEM_ASSIGN_OR_RETURN(out->g, ReadGraph(a->g(), depth + 1));
    }
    if (a->floats()) out->floats.assign(a->floats()->begin(), a->floats()->end());
    if (a->ints()) out->ints.assign(a->ints()->begin(), a->ints()->end());
    if (a->strings())
      for (const auto* s : *a->strings()) out->strings.push_back(Str(s));
    if (a->tensors())
      for (const auto* t : *a->tensors()) {
        IDEM_ASSIGN_OR_RETURN(Tensor x, ReadTensor(t, what));
        out->tensors.push_back(std::move(x));
      }
    if (a->graphs())
      for (const auto* g : *a->graphs()) {
        if (g == nullptr) return InvalidModel("idem artifact is corrupt: null subgraph");
        IDEM_ASSIGN_OR_RETURN(auto x, ReadGraph(g, depth + 1));
        out->graphs.push_back(std::move(x));
      }
    return ReadType(a->type(), &out->type);
  }

  Result<std::shared_ptr<Graph>> ReadGraph(const fb::Graph* fg, int depth) {
    if (depth > 64) return InvalidModel("idem artifact is corrupt: subgraphs nested too deeply");
    auto g = std::make_shared<Graph>();
    g->name = Str(fg->name());
    const int nv = fg->values() ? static_cast<int>(fg->values()->size()) : 0;
    const int nn = fg->nodes() ? static_cast<int>(fg->nodes()->size()) : 0;
    auto bad = [&](const char* what) {
      return InvalidModel("idem artifact is corrupt: graph '", g->name, "' has an invalid ", what);
    };
    std::set<std::string> names;
    for (int i = 0; i < nv; ++i) {
      const fb::Value* fv = fg->values()->Get(static_cast<flatbuffers::uoffset_t>(i));
      if (fv == nullptr) return bad("value");
      Value v;
      v.name = Str(fv->name());
      if (!names.insert(v.name).second) return bad("(duplicate) value name");
      IDEM_RETURN_IF_ERROR(ReadType(fv->type(), &v.type));
      v.producer = fv->producer();
      if (v.producer < -1 || v.producer >= nn) return bad("value producer");
      v.is_graph_input = fv->is_graph_input();
      v.has_initializer = fv->has_initializer();
      v.outer_scope = fv->outer_scope();
      if (v.has_initializer) {
        IDEM_ASSIGN_OR_RETURN(v.initializer, ReadTensor(fv->initializer(), "initializer '" + v.name + "'"));
      }
      g->AddValue(std::move(v));
    }
    auto check_ids = [&](const flatbuffers::Vector<int32_t>* ids, std::vector<int>* out, bool allow_omitted) -> bool {
      if (ids == nullptr) return true;
      for (int32_t id : *ids) {
        if (id >= nv || id < (allow_omitted ? -1 : 0)) return false;
        out->push_back(id);
      }
      return true;
    };
    auto& states = prepared[g.get()];
    for (int i = 0; i < nn; ++i) {
      const fb::Node* fnode = fg->nodes()->Get(static_cast<flatbuffers::uoffset_t>(i));
      if (fnode == nullptr) return bad("node");
      Node n;
      n.name = Str(fnode->name());
      n.op_type = Str(fnode->op_type());
      n.domain = Str(fnode->domain());
      n.opset = fnode->opset();
      if (!check_ids(fnode->inputs(), &n.inputs, true) || !check_ids(fnode->outputs(), &n.outputs, true))
        return bad("node input or output");
      if (fnode->attributes())
        for (const fb::Attribute* a : *fnode->attributes()) {
          if (a == nullptr) return bad("attribute");
          Attribute attr;
          IDEM_RETURN_IF_ERROR(ReadAttr(a, &attr, depth));
          n.attributes[Str(a->name())] = std::move(attr);
        }
      if (fnode->provenance())
        for (const auto* s : *fnode->provenance()) n.provenance.push_back(Str(s));
      std::shared_ptr<const PreparedState> st;
      if (fnode->has_prepared()) {
        auto ps = std::make_shared<PreparedState>();
        if (fnode->prepared())
          for (const fb::TensorRef* r : *fnode->prepared()) {
            IDEM_ASSIGN_OR_RETURN(Tensor t, ReadTensor(r, "prepared state of node '" + n.name + "'"));
            prepared_bytes += t.nbytes();
            ps->tensors.push_back(std::move(t));
          }
        ++prepared_nodes;
        st = std::move(ps);
      }
      states.push_back(std::move(st));
      g->AddNode(std::move(n));
    }
    if (!check_ids(fg->inputs(), &g->inputs, false) || !check_ids(fg->outputs(), &g->outputs, false))
      return bad("graph input or output");
    if (fg->opsets())
      for (const fb::Opset* o : *fg->opsets())
        if (o != nullptr) g->opsets[Str(o->domain())] = o->version();
    return g;
  }

 private:
  const uint8_t* weights_;
  uint64_t weights_size_;
  std::shared_ptr<Buffer> buffer_;
};

void ReadSignatures(const flatbuffers::Vector<flatbuffers::Offset<fb::IoSignature>>* v, GraphReader& r,
                    std::vector<IoSig>* out) {
  if (v == nullptr) return;
  for (const fb::IoSignature* s : *v) {
    if (s == nullptr) continue;
    IoSig sig;
    sig.name = GraphReader::Str(s->name());
    (void)r.ReadType(s->type(), &sig.type);
    sig.has_default = s->has_default();
    out->push_back(std::move(sig));
  }
}

void ReadCounts(const flatbuffers::Vector<flatbuffers::Offset<fb::OpCount>>* v, std::map<std::string, int64_t>* out) {
  if (v == nullptr) return;
  for (const fb::OpCount* c : *v)
    if (c != nullptr) (*out)[GraphReader::Str(c->op())] = c->count();
}

void CollectKernels(const fb::Graph* g, std::vector<KernelChoice>* out) {
  if (g == nullptr || g->nodes() == nullptr) return;
  for (const fb::Node* n : *g->nodes()) {
    if (n == nullptr) continue;
    KernelChoice k;
    if (n->kernel() != nullptr) {
      k.op = GraphReader::Str(n->kernel()->op());
      k.variant = GraphReader::Str(n->kernel()->variant());
    }
    out->push_back(std::move(k));
  }
}

}  // namespace

std::string DeterminismStatement() { return kDeterminismText; }

Status WriteArtifact(const ArtifactInput& in, const std::string& path, const std::function<void(double)>& progress) {
  if (in.graph == nullptr) return Internal("WriteArtifact: no graph");
  const Graph& g = *in.graph;
  MetadataWriter w(in.prepared);
  // Everything is built in one fixed order; the tensor layout follows the graph traversal.
  auto graph = w.GraphTable(g);
  auto& fbb = w.fbb;
  std::vector<int> schedule;
  for (const Node& n : g.nodes) schedule.push_back(n.index);
  auto sched = fbb.CreateVector(schedule);
  const MemoryPlan plan = PlanMemory(g);
  std::vector<flatbuffers::Offset<fb::PlannedBuffer>> pbs;
  for (const PlannedValue& p : plan.values)
    pbs.push_back(fb::CreatePlannedBuffer(fbb, p.value, p.offset, p.size, p.first, p.last, p.inplace_of));
  auto pbv = fbb.CreateVector(pbs);
  auto unplanned = fbb.CreateVector(plan.unplanned);
  auto mp = fb::CreateMemoryPlan(fbb, static_cast<uint32_t>(kArenaAlignment), plan.arena_bytes, plan.naive_bytes, pbv,
                                 unplanned);
  auto ins = w.Signature(g, g.inputs, true);
  auto outs = w.Signature(g, g.outputs, false);
  std::vector<flatbuffers::Offset<fb::InputShape>> shapes;
  for (const auto& [name, dims] : in.input_shapes)
    shapes.push_back(fb::CreateInputShape(fbb, fbb.CreateString(name), fbb.CreateVector(dims)));
  auto sv = fbb.CreateVector(shapes);
  auto copts = fb::CreateCompileOptions(fbb, in.opt_level, sv);
  auto before = w.Counts(in.ops_before);
  auto after = w.Counts(in.ops_after);
  std::vector<flatbuffers::Offset<fb::PassStat>> passes;
  for (const auto& [p, c] : in.passes) passes.push_back(fb::CreatePassStat(fbb, fbb.CreateString(p), c));
  auto pv = fbb.CreateVector(passes);
  auto det = fb::CreateDeterminism(fbb, kDeterminismAll, fbb.CreateString(kDeterminismText));
  auto version = fbb.CreateString(IdemVersion());
  auto producer = fbb.CreateString(in.producer);
  auto model = fb::CreateModel(fbb, version, producer, graph, sched, mp, ins, outs, copts, before, after, pv, det);
  fb::FinishModelBuffer(fbb, model);

  Header h;
  h.idem_version = IdemVersion();
  h.flags = w.prepared_nodes > 0 ? kFlagPreparedWeights : 0;
  Section meta{SectionKind::kMetadata, kHeaderSize, fbb.GetSize(), Sha256(fbb.GetBufferPointer(), fbb.GetSize())};
  Section weights{SectionKind::kWeights, AlignUp(meta.offset + meta.size, kSectionAlignment), w.end, {}};

  const std::string tmp = path + ".tmp";
  OutFile f(tmp);
  if (!f.ok()) return IoError("cannot write '", tmp, "': ", std::strerror(errno));
  f.Zeros(kHeaderSize);
  f.Write(fbb.GetBufferPointer(), fbb.GetSize());
  f.Zeros(weights.offset - (meta.offset + meta.size));
  Sha256Stream sha;
  uint64_t pos = 0;
  static const uint8_t kZero[kSectionAlignment] = {};
  for (size_t i = 0; i < w.pending.size(); ++i) {
    const auto& p = w.pending[i];
    sha.Update(kZero, p.offset - pos);
    f.Zeros(p.offset - pos);
    const size_t n = p.tensor->nbytes();
    if (n > 0) {
      sha.Update(p.tensor->raw(), n);
      f.Write(p.tensor->raw(), n);
    }
    pos = p.offset + n;
    if (progress && (i % 64 == 0 || i + 1 == w.pending.size()))
      progress(w.end == 0 ? 1.0 : static_cast<double>(pos) / static_cast<double>(w.end));
  }
  weights.sha256 = sha.Final();
  h.sections = {meta, weights};
  IDEM_ASSIGN_OR_RETURN(auto header, EncodeHeader(h));
  if (!f.Rewind()) return IoError("cannot write '", tmp, "'");
  f.Write(header.data(), header.size());
  if (!f.Close()) {
    std::remove(tmp.c_str());
    return IoError("cannot write '", tmp, "' (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return IoError("cannot write '", path, "': ", ec.message());
  }
  return Status::Ok();
}

bool IsArtifactFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t b[4] = {};
  const size_t n = std::fread(b, 1, 4, f);
  std::fclose(f);
  return HasArtifactMagic(b, n);
}

Result<LoadedArtifact> LoadArtifact(const std::string& path, const LoadOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return IoError("'", path, "' is not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return InvalidModel("'", path, "' is not an idem artifact: the file is empty");
  }
  auto map = std::make_shared<MappedFile>();
  // A private (copy-on-write) mapping: the file is never written, and a stray write cannot fault.
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return IoError("cannot map '", path, "': ", std::strerror(errno));
  map->data = p;
  map->size = static_cast<size_t>(size);
  const uint8_t* bytes = static_cast<const uint8_t*>(p);
  auto with_path = [&](const Status& s) { return Status(s.code(), "'" + path + "': " + s.message()); };

  auto header = DecodeHeader(bytes, size, IdemVersion());
  if (!header.ok()) return with_path(header.status());
  if (Status s = VerifySections(*header, bytes, size, options.verify_weights); !s.ok()) return with_path(s);
  const Section* meta = nullptr;
  const Section* weights = nullptr;
  for (const Section& s : header->sections) (s.kind == SectionKind::kMetadata ? meta : weights) = &s;
  flatbuffers::Verifier verifier(bytes + meta->offset, static_cast<size_t>(meta->size), /*max_depth=*/512,
                                 /*max_tables=*/1u << 30);
  if (!fb::VerifyModelBuffer(verifier))
    return with_path(InvalidModel("idem artifact is corrupt: the metadata section is not a valid model"));
  const fb::Model* m = fb::GetModel(bytes + meta->offset);
  if (m->graph() == nullptr) return with_path(InvalidModel("idem artifact is corrupt: no graph"));

  uint8_t* wbase = static_cast<uint8_t*>(p) + (weights ? weights->offset : 0);
  const uint64_t wsize = weights ? weights->size : 0;
  GraphReader reader(wbase, wsize, Buffer::View(wbase, static_cast<size_t>(wsize), map));
  auto graph = reader.ReadGraph(m->graph(), 0);
  if (!graph.ok()) return with_path(graph.status());

  LoadedArtifact out;
  out.graph = std::move(graph).value();
  out.prepared = std::move(reader.prepared);
  ArtifactInfo& info = out.info;
  info.header = *header;
  info.file_bytes = size;
  info.mapped_data = bytes;
  info.mapped_size = size;
  info.weight_bytes = wsize;
  info.prepared_bytes = reader.prepared_bytes;
  info.prepared_nodes = reader.prepared_nodes;
  info.idem_version = GraphReader::Str(m->idem_version());
  info.producer = GraphReader::Str(m->producer());
  if (m->schedule()) {
    for (int32_t i : *m->schedule()) {
      if (i < 0 || i >= static_cast<int32_t>(out.graph->nodes.size()))
        return with_path(InvalidModel("idem artifact is corrupt: invalid schedule"));
      info.schedule.push_back(i);
    }
    // The interpreter runs nodes in graph order; the schedule written is that order.
    for (size_t i = 0; i < info.schedule.size(); ++i)
      if (info.schedule[i] != static_cast<int>(i))
        return with_path(Unsupported("idem artifact has a schedule other than the graph order"));
  }
  if (const fb::MemoryPlan* mp = m->memory_plan()) {
    info.memory_plan.arena_bytes = mp->arena_bytes();
    info.memory_plan.naive_bytes = mp->naive_bytes();
    if (mp->buffers())
      for (const fb::PlannedBuffer* b : *mp->buffers())
        if (b != nullptr)
          info.memory_plan.values.push_back({b->value(), b->offset(), b->size(), b->first(), b->last(), b->inplace_of()});
    if (mp->unplanned_values()) info.memory_plan.unplanned.assign(mp->unplanned_values()->begin(), mp->unplanned_values()->end());
  }
  ReadSignatures(m->inputs(), reader, &info.inputs);
  ReadSignatures(m->outputs(), reader, &info.outputs);
  if (const fb::CompileOptions* co = m->compile_options()) {
    info.opt_level = co->opt_level();
    if (co->input_shapes())
      for (const fb::InputShape* s : *co->input_shapes())
        if (s != nullptr)
          info.input_shapes[GraphReader::Str(s->name())] =
              s->dims() ? std::vector<int64_t>(s->dims()->begin(), s->dims()->end()) : std::vector<int64_t>{};
  }
  ReadCounts(m->ops_before(), &info.ops_before);
  ReadCounts(m->ops_after(), &info.ops_after);
  if (m->passes())
    for (const fb::PassStat* s : *m->passes())
      if (s != nullptr) info.passes.emplace_back(GraphReader::Str(s->pass()), s->changes());
  if (const fb::Determinism* d = m->determinism()) {
    info.determinism_flags = d->flags();
    info.determinism_statement = GraphReader::Str(d->statement());
  }
  CollectKernels(m->graph(), &info.kernels);
  return out;
}

}  // namespace idem::artifact
