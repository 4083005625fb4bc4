package dev.verity.protocol;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import dev.verity.protocol.tensor.NamedTensors;
import java.util.Objects;
import java.util.Set;

/**
 * The evidence of a receipt in mode {@code optimistic}: the root of the worker's trace commitment
 * over every step of the canonical execution (docs/EXECUTOR.md) and the number of steps. Encoded
 * as the canonical CBOR map {@code {"trace": 32-byte root, "steps": n}}.
 *
 * <p>The evidence does not prove the outputs by itself: it binds the worker to one trace, which a
 * sampled verifier (or anyone) recomputes from the model and the inputs; a wrong trace or output is
 * settled by the ledger's dispute game and slashes the worker (docs/OPTIMISTIC.md).
 *
 * @param trace the Merkle root of the trace's step leaves
 * @param steps the number of steps (graph nodes), at least 1
 */
public record OptimisticEvidence(Hash trace, int steps) {
  /** Most steps a trace may have: more graph nodes than any model a node accepts. */
  public static final int MAX_STEPS = 1 << 20;

  public OptimisticEvidence {
    Objects.requireNonNull(trace, "trace root");
    if (steps < 1 || steps > MAX_STEPS) {
      throw new DecodingException("a trace has 1.." + MAX_STEPS + " steps, got " + steps);
    }
  }

  /** Canonical CBOR of the evidence. */
  public CborValue.Map toCbor() {
    return CborValue.Map.builder().put("trace", trace.toBytes()).put("steps", steps).build();
  }

  /**
   * Decodes evidence: exactly the fields {@code trace} (32 bytes) and {@code steps}.
   *
   * @throws DecodingException naming what is missing, extra or malformed
   */
  public static OptimisticEvidence fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("trace", "steps"));
    if (!m.has("trace") || !m.has("steps")) {
      throw new DecodingException("optimistic evidence needs the fields 'trace' and 'steps', got " + m.entries().keySet());
    }
    return new OptimisticEvidence(Hash.wrap(m.getBytes("trace")), m.getInt("steps"));
  }

  /**
   * The evidence of an optimistic receipt.
   *
   * @throws VerificationException if the receipt is of another mode or its evidence is malformed
   */
  public static OptimisticEvidence of(InferenceReceipt receipt) throws VerificationException {
    if (receipt.mode() != VerificationMode.OPTIMISTIC) {
      throw new VerificationException("the receipt is in mode '" + receipt.mode().wireName() + "', not 'optimistic'");
    }
    try {
      return fromCbor(receipt.evidence());
    } catch (DecodingException e) {
      throw new VerificationException("the receipt's optimistic evidence is malformed: " + e.getMessage(), e);
    }
  }

  /**
   * The default verifier of mode {@code optimistic}: checks the structure of the evidence (a 32-byte
   * trace root and a step count, nothing else). It does not recompute; what makes the result
   * trustworthy is the ledger (sampling, challenge window, slashing), which a client checks with
   * {@code verity verify --ledger}, or a local recomputation (the SDK's option).
   */
  public static final EvidenceVerifier STRUCTURE = new EvidenceVerifier() {
    @Override
    public VerificationMode mode() {
      return VerificationMode.OPTIMISTIC;
    }

    @Override
    public void verify(InferenceReceipt receipt, ModelManifest manifest, NamedTensors outputs)
        throws VerificationException {
      of(receipt);
    }
  };
}
