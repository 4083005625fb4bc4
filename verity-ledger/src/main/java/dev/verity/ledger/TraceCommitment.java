package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import java.util.Objects;
import java.util.Set;

/**
 * What a worker commits to on the ledger for one optimistic inference: the trace root of its
 * canonical run (the RFC 6962 Merkle root over the steps' leaves, see docs/EXECUTOR.md), the number
 * of steps (graph nodes), and the content identifiers of the request's inputs and of the outputs it
 * returned. A dispute is played over this commitment: bisection over the trace tree, then one step
 * opened and recomputed by the {@link DisputeReferee}.
 *
 * <p>Encoded as canonical CBOR {@code {"root": bytes(32), "steps": uint, "inputs": CID, "outputs":
 * CID}}.
 *
 * @param root the trace root
 * @param steps the number of leaves of the trace tree, 1..{@link #MAX_STEPS}
 * @param inputs CID of the request's inputs (canonical named tensors)
 * @param outputs CID of the outputs returned (canonical named tensors)
 */
public record TraceCommitment(Hash root, int steps, Cid inputs, Cid outputs) {
  /** The most steps a committed trace may have. */
  public static final int MAX_STEPS = 1 << 20;

  public TraceCommitment {
    Objects.requireNonNull(root, "trace root");
    Objects.requireNonNull(inputs, "inputs CID");
    Objects.requireNonNull(outputs, "outputs CID");
    checkSteps(steps);
  }

  static int checkSteps(int steps) {
    if (steps < 1 || steps > MAX_STEPS) {
      throw new DecodingException("a trace has 1.." + MAX_STEPS + " steps, got " + steps);
    }
    return steps;
  }

  /** The canonical encoding. */
  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("root", Fields.bytes(root))
        .put("steps", steps)
        .put("inputs", Fields.bytes(inputs))
        .put("outputs", Fields.bytes(outputs))
        .build();
  }

  /** Decodes the canonical encoding; rejects unknown or missing fields. */
  public static TraceCommitment fromCbor(CborValue v) {
    CborValue.Map m = Fields.map(v, "trace commitment").requireOnly(Set.of("root", "steps", "inputs", "outputs"));
    return new TraceCommitment(
        Fields.hash(m, "root"),
        Fields.smallInt(m, "steps", MAX_STEPS),
        Fields.cid(m, "inputs"),
        Fields.cid(m, "outputs"));
  }
}
