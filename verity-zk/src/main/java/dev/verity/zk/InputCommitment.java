package dev.verity.zk;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.pcs.Prg;
import dev.verity.zk.pcs.TensorCommitment;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A hiding, binding commitment to a model input: the Merkle root of a hiding {@link
 * TensorCommitment} to the input (padded channel-major layout) and its zero-knowledge mask, all of
 * whose randomness is derived from a {@link Blinding}. Proofs of inference show that the committed input produced the claimed
 * output; the input itself is never revealed. Opening is by recomputation: given the input and the
 * blinding, anyone can check the commitment.
 */
public final class InputCommitment {
  public static final int LENGTH = 32;
  private final byte[] root;

  private InputCommitment(byte[] root) {
    this.root = root;
  }

  /** Wraps 32 commitment bytes. */
  public static InputCommitment fromBytes(byte[] bytes) {
    if (bytes == null || bytes.length != LENGTH) {
      throw new DecodingException("an input commitment has " + LENGTH + " bytes");
    }
    return new InputCommitment(bytes.clone());
  }

  /** Commits to an input of the architecture's input shape. */
  public static InputCommitment of(Architecture arch, long[] input, Blinding blinding) {
    return new InputCommitment(commit(arch, input, blinding).root());
  }

  static TensorCommitment.Committed commit(Architecture arch, long[] input, Blinding blinding) {
    Circuit c = new Circuit(arch);
    Prg prg = new Prg(blinding.reveal(), "input-commitment");
    return TensorCommitment.commit(vector(c, input, prg), c.inputVars, true, prg);
  }

  /**
   * The committed vector: the input in the padded layout, then its zero-knowledge mask drawn from
   * prg (which then supplies the commitment's own randomness).
   */
  static long[] vector(Circuit c, long[] input, Prg prg) {
    Shape s = c.arch.inputShape();
    if (input.length != s.size()) {
      throw new IllegalArgumentException("input needs " + s.size() + " values (" + s + "), got " + input.length);
    }
    long[] v = new long[c.inputLength];
    for (int i = 0; i < input.length; i++) {
      v[c.inputColumn.offset() + s.physicalIndexOfFlat(i)] = Goldilocks.fromLong(input[i]);
    }
    int masks = 2 * dev.verity.zk.iop.Masking.coefficients(c.inputColumn.vars());
    for (int j = 0; j < masks; j++) {
      v[c.inputColumn.maskOffset() + j] = prg.nextElement();
    }
    // fresh masks for pooling windows that read the input
    for (int i = 0; i < c.windowMasks.length; i++) {
      if (c.windowMasks[i] != null && c.arch.layers().get(i).inputs()[0] == 0) {
        int count = 2 * dev.verity.zk.iop.Masking.coefficients(c.arch.shape(i + 1).vars());
        for (int[] perWindow : c.windowMasks[i]) {
          for (int offset : perWindow) {
            for (int j = 0; j < count; j++) {
              v[offset + j] = prg.nextElement();
            }
          }
        }
      }
    }
    return v;
  }

  /** Checks that this commitment is to {@code input} under {@code blinding}. */
  public void verifyOpening(Architecture arch, long[] input, Blinding blinding) throws VerificationException {
    byte[] recomputed = commit(arch, input, blinding).root();
    if (!MessageDigest.isEqual(recomputed, root)) {
      throw new VerificationException("input commitment does not open to this input and blinding");
    }
  }

  public byte[] toBytes() {
    return root.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InputCommitment c && MessageDigest.isEqual(root, c.root);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(root);
  }

  @Override
  public String toString() {
    return "InputCommitment[" + HexFormat.of().formatHex(root) + "]";
  }
}
