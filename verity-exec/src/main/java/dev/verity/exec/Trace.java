package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.merkle.MerkleTree;
import dev.verity.onnx.OnnxModel;
import dev.verity.onnx.OnnxNode;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trace of one canonical run: one {@link TraceStep} per graph node in topological (file)
 * order, committed by a Merkle tree ({@link MerkleTree}, RFC 6962 shape) over the steps' {@link
 * TraceStep#leaf() leaves}. Any step can be opened ({@link #open}) and checked alone by a referee
 * ({@link #verifyStep}), who recomputes just that one operator.
 */
public final class Trace {
  private final List<TraceStep> steps;
  private final List<Value[]> inputs;
  private final MerkleTree tree;

  Trace(List<TraceStep> steps, List<Value[]> inputs) {
    this.steps = List.copyOf(steps);
    this.inputs = List.copyOf(inputs);
    List<byte[]> leaves = new ArrayList<>(steps.size());
    for (TraceStep s : steps) {
      leaves.add(s.leaf());
    }
    this.tree = MerkleTree.ofLeaves(leaves);
  }

  /** The trace commitment: the Merkle root over the steps' leaves. */
  public Hash root() {
    return tree.root();
  }

  /** Number of steps (the number of nodes in the graph). */
  public int size() {
    return steps.size();
  }

  public TraceStep step(int i) {
    return steps.get(i);
  }

  public List<TraceStep> steps() {
    return steps;
  }

  /** Opens step {@code i}: the step, its inclusion proof and the input tensors it read. */
  public StepOpening open(int i) {
    List<Tensor> in = new ArrayList<>();
    for (Value v : inputs.get(i)) {
      if (v != null) {
        in.add(v.toTensor());
      }
    }
    return new StepOpening(steps.get(i), tree.prove(i), in);
  }

  /**
   * The referee's check of one step: the step is included under {@code root}; it names node
   * {@code step.index()} of {@code model} with that node's name and operator; each supplied input
   * hashes to the committed input hash, and inputs that are initializers equal the model's; the
   * operator recomputed canonically (one thread) from those inputs gives the committed output
   * hash.
   *
   * <p>What this does not check, by design: that a step's inputs are the outputs its producers
   * committed (the dispute game compares those hashes across steps), and that graph inputs are
   * the request's (the client knows their hashes).
   *
   * @throws VerificationException naming the first check that fails
   */
  public static void verifyStep(OnnxModel model, Hash root, StepOpening opening)
      throws VerificationException {
    check(model, null, root, opening);
  }

  /**
   * A model prepared for repeated step checks: its initializers as values with their hashes,
   * computed once, so a check does not re-read or re-hash the weights. Immutable, thread-safe.
   */
  public static final class ModelIndex {
    private final OnnxModel model;
    private final java.util.Map<String, Value> values = new java.util.HashMap<>();
    private final java.util.Map<String, Hash> hashes = new java.util.HashMap<>();
    private final java.util.Set<Value> constants =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final java.util.Map<Value, float[][]> rows = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<Value, float[][]> transposedRows = new java.util.concurrent.ConcurrentHashMap<>();

    private ModelIndex(OnnxModel model) {
      this.model = model;
      for (var t : model.graph().initializers()) {
        Value v = CanonicalExecutor.valueOf(t);
        values.put(t.name(), v);
        hashes.put(t.name(), v.hash());
        constants.add(v);
      }
    }

    /** Right-operand rows of a product, kept for the model's weights (as the executor does). */
    private float[][] rowsOf(Value m, boolean transposed) {
      if (constants.contains(m)) {
        return (transposed ? transposedRows : rows).computeIfAbsent(m,
            k -> Operators.TransposeCache.compute(k, transposed));
      }
      return Operators.TransposeCache.compute(m, transposed);
    }

    public OnnxModel model() {
      return model;
    }

    /** The trace hash of initializer {@code name}, if the model has one of that name. */
    public java.util.Optional<Hash> initializerHash(String name) {
      return java.util.Optional.ofNullable(hashes.get(name));
    }
  }

  /**
   * Prepares {@code model} for {@link #verifyStep(ModelIndex, Hash, StepOpening)}.
   *
   * @throws ExecutionException if an initializer is not float32, int32 or int64
   */
  public static ModelIndex index(OnnxModel model) {
    return new ModelIndex(model);
  }

  /**
   * The same check as {@link #verifyStep(OnnxModel, Hash, StepOpening)}, except that inputs which
   * are initializers are taken from the model: {@code opening.inputs()} lists only the step's
   * other non-omitted inputs, in the node's input order, and each initializer's committed hash
   * must be the model's. The work is then the one operator plus hashing the opened tensors.
   */
  public static void verifyStep(ModelIndex index, Hash root, StepOpening opening)
      throws VerificationException {
    check(index.model, index, root, opening);
  }

  private static void check(OnnxModel model, ModelIndex index, Hash root, StepOpening opening)
      throws VerificationException {
    TraceStep step = opening.step();
    List<OnnxNode> nodes = model.graph().nodes();
    if (opening.proof().index() != step.index()) {
      throw new VerificationException("the proof is for leaf " + opening.proof().index()
          + ", not step " + step.index());
    }
    MerkleTree.verifyInclusion(root, nodes.size(), step.leaf(), opening.proof());
    if (step.index() >= nodes.size()) {
      throw new VerificationException("step " + step.index() + " is beyond the model's "
          + nodes.size() + " nodes");
    }
    OnnxNode node = nodes.get(step.index());
    if (!node.name().equals(step.node()) || !node.opType().equals(step.opType())) {
      throw new VerificationException("step " + step.index() + " claims node '" + step.node()
          + "' (" + step.opType() + ") but the model has '" + node.name() + "' ("
          + node.opType() + ") there");
    }
    List<String> names = node.inputs().stream().filter(s -> !s.isEmpty()).toList();
    long opened = index == null ? names.size()
        : names.stream().filter(n -> index.values.get(n) == null).count();
    if (opening.inputs().size() != opened || step.inputs().size() != names.size()) {
      throw new VerificationException("step " + step.index() + " (" + node.opType() + ") reads "
          + names.size() + " inputs (" + opened + " to be opened); the opening gives "
          + opening.inputs().size() + " tensors and commits " + step.inputs().size() + " hashes");
    }
    Value[] in = new Value[node.inputs().size()];
    int k = 0;
    int t = 0;
    for (int i = 0; i < node.inputs().size(); i++) {
      String name = node.inputs().get(i);
      if (name.isEmpty()) {
        continue;
      }
      if (index != null && index.values.get(name) != null) {
        if (!index.hashes.get(name).equals(step.inputs().get(k))) {
          throw new VerificationException("step " + step.index() + ": input '" + name
              + "' is committed as " + step.inputs().get(k)
              + ", which is not the model's initializer of that name");
        }
        in[i] = index.values.get(name);
        k++;
        continue;
      }
      Value v;
      try {
        v = Value.fromTensor(opening.inputs().get(t++), "input '" + name + "'");
      } catch (RuntimeException e) {
        throw new VerificationException("step " + step.index() + ": " + e.getMessage());
      }
      Hash h = v.hash();
      if (!h.equals(step.inputs().get(k))) {
        throw new VerificationException("step " + step.index() + ": input '" + name
            + "' does not hash to the committed " + step.inputs().get(k));
      }
      var init = model.graph().initializer(name);
      if (init.isPresent() && !h.equals(CanonicalExecutor.valueOf(init.get()).hash())) {
        throw new VerificationException("step " + step.index() + ": input '" + name
            + "' is not the model's initializer of that name");
      }
      in[i] = v;
      k++;
    }
    Value out;
    try (Workers one = new Workers(1)) {
      out = Operators.apply(node, in, CanonicalExecutor.opsetOf(model), one,
          index == null ? Operators.TransposeCache::compute : index::rowsOf);
    } catch (ExecutionException e) {
      throw new VerificationException("step " + step.index() + " cannot be recomputed: "
          + e.getMessage());
    }
    Hash recomputed = out.hash();
    if (!recomputed.equals(step.output())) {
      throw new VerificationException("step " + step.index() + " (" + node.name() + ", "
          + node.opType() + ") commits output " + step.output() + " but recomputing it gives "
          + recomputed + " of shape " + Arrays.toString(out.shape));
    }
  }
}
