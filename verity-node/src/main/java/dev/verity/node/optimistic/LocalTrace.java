package dev.verity.node.optimistic;

import dev.verity.core.Hash;
import dev.verity.core.merkle.MerkleProof;
import dev.verity.core.merkle.MerkleTree;
import dev.verity.exec.Execution;
import dev.verity.exec.TraceStep;
import dev.verity.protocol.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * The trace one party of a dispute stands by: its steps (hence its Merkle tree and root) and, for
 * each step, the input tensors it read, so the party can bisect and open any step. Built from a
 * canonical {@link Execution} for an honest party; any list of steps can be wrapped (a test's or a
 * misbehaving node's).
 */
public final class LocalTrace {
  private final List<TraceStep> steps;
  private final IntFunction<List<Tensor>> inputs;
  private final MerkleTree tree;
  private final Hash[] leafHashes;
  private final Map<Long, Hash> subtrees = new HashMap<>();

  private LocalTrace(List<TraceStep> steps, IntFunction<List<Tensor>> inputs) {
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a trace has at least one step");
    }
    this.steps = List.copyOf(steps);
    this.inputs = Objects.requireNonNull(inputs, "inputs");
    List<byte[]> leaves = new ArrayList<>(steps.size());
    leafHashes = new Hash[steps.size()];
    for (int i = 0; i < steps.size(); i++) {
      byte[] leaf = steps.get(i).leaf();
      leaves.add(leaf);
      leafHashes[i] = MerkleTree.leafHash(leaf);
    }
    this.tree = MerkleTree.ofLeaves(leaves);
  }

  /** The trace of a canonical run. */
  public static LocalTrace of(Execution execution) {
    return new LocalTrace(execution.trace().steps(), i -> execution.trace().open(i).inputs());
  }

  /**
   * Any claimed trace: {@code steps} in order, and for step i the non-omitted input tensors it
   * claims to have read (as {@link dev.verity.exec.StepOpening#inputs()}).
   */
  public static LocalTrace of(List<TraceStep> steps, IntFunction<List<Tensor>> inputs) {
    return new LocalTrace(steps, inputs);
  }

  public int size() {
    return steps.size();
  }

  public Hash root() {
    return tree.root();
  }

  public TraceStep step(int i) {
    return steps.get(i);
  }

  public List<TraceStep> steps() {
    return steps;
  }

  /** The tensors step {@code i} read (non-omitted inputs, in the node's input order). */
  public List<Tensor> inputs(int i) {
    return inputs.apply(i);
  }

  /** Inclusion proof of step {@code i}'s leaf under {@link #root()}. */
  public MerkleProof prove(int i) {
    return tree.prove(i);
  }

  /** The RFC 6962 hash of the subtree over leaves {@code from..to-1}, as the dispute game splits. */
  public synchronized Hash subtree(int from, int to) {
    if (from < 0 || from >= to || to > steps.size()) {
      throw new IndexOutOfBoundsException("subtree " + from + ".." + to + " of " + steps.size() + " leaves");
    }
    if (to - from == 1) {
      return leafHashes[from];
    }
    long key = ((long) from << 32) | to;
    Hash h = subtrees.get(key);
    if (h == null) {
      int k = Integer.highestOneBit(to - from - 1);
      h = nodeHash(subtree(from, from + k), subtree(from + k, to));
      subtrees.put(key, h);
    }
    return h;
  }

  static Hash nodeHash(Hash left, Hash right) {
    java.security.MessageDigest md = Hash.newDigest();
    md.update((byte) 1);
    left.updateDigest(md);
    right.updateDigest(md);
    return Hash.fromDigest(md);
  }
}
