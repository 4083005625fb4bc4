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
    if (opening.inputs().size() != names.size() || step.inputs().size() != names.size()) {
      throw new VerificationException("step " + step.index() + " (" + node.opType() + ") reads "
          + names.size() + " inputs; the opening gives " + opening.inputs().size()
          + " tensors and commits " + step.inputs().size() + " hashes");
    }
    Value[] in = new Value[node.inputs().size()];
    int k = 0;
    for (int i = 0; i < node.inputs().size(); i++) {
      String name = node.inputs().get(i);
      if (name.isEmpty()) {
        continue;
      }
      Value v;
      try {
        v = Value.fromTensor(opening.inputs().get(k), "input '" + name + "'");
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
          Operators.TransposeCache::compute);
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
