package dev.verity.zk;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.Transcript;
import java.util.Objects;

/**
 * Zero-knowledge proofs of inference for quantized networks: a succinct, transparent proof that
 * the model with a given verifying key, applied to the input hidden in an {@link InputCommitment},
 * produced a given output.
 *
 * <pre>{@code
 * ProvingKey pk = ProvingKey.of(model);                 // once per model
 * ProvedInference p = ZkInference.prove(pk, input, Blinding.random());
 * ZkInference.verify(p.statement(), p.proof());         // throws VerificationException if invalid
 * }</pre>
 *
 * <p>The proof system (zero-knowledge sum-checks over masked polynomials, a committed logUp
 * lookup argument and hiding hash-based polynomial commitments over the Goldilocks field and its
 * quadratic extension, made non-interactive with a SHA-256 Fiat-Shamir transcript), its security
 * level (100 bits) and its privacy argument are described in docs/ZK.md.
 */
public final class ZkInference {
  static final String PROTOCOL = "verity/zk/inference/v1";

  private ZkInference() {}

  /**
   * Runs the model on the input and proves the result. The blinding must be fresh for every proof
   * (it is the input commitment's randomness). Throws {@link ArithmeticException} if the input
   * drives an activation out of the model's range, {@link IllegalArgumentException} for an input of
   * the wrong size or range.
   */
  public static ProvedInference prove(ProvingKey key, long[] input, Blinding blinding) {
    Objects.requireNonNull(key);
    Objects.requireNonNull(input);
    Objects.requireNonNull(blinding);
    return InferenceProver.prove(key, input, blinding);
  }

  /** Convenience for one-off proofs: prepares the proving key first (commits to the weights). */
  public static ProvedInference prove(QuantizedModel model, long[] input, Blinding blinding) {
    return prove(ProvingKey.of(model), input, blinding);
  }

  /**
   * Checks that the proof establishes the statement: returns normally only if the model of the
   * statement's key, applied to the input in the statement's commitment, outputs the statement's
   * output.
   */
  public static void verify(Statement statement, Proof proof) throws VerificationException {
    Objects.requireNonNull(statement);
    Objects.requireNonNull(proof);
    InferenceVerifier.verify(statement, proof);
  }

  /** The transcript both sides start from: bound to the key (model CID, weights), input and output. */
  static Transcript transcript(Statement s) {
    Transcript t = new Transcript(PROTOCOL);
    t.absorbLabel("statement");
    t.absorb(s.key().digest().toBytes());
    t.absorb(s.key().modelCid().toBytes());
    t.absorb(s.input().toBytes());
    long[] y = s.output();
    t.absorbLong(y.length);
    for (long v : y) {
      t.absorbLong(Goldilocks.fromLong(v));
    }
    return t;
  }
}
