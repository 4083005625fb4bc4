package dev.verity.exec;

import dev.verity.core.Hash;
import dev.verity.protocol.tensor.NamedTensors;
import java.util.Objects;
import java.util.Optional;

/**
 * What a party commits to for one optimistic job, and what it can answer a dispute from: the
 * trace root and step count it committed (the ledger's {@code TraceCommitment}), the outputs it
 * returned, and the trace it actually holds. A party with no trace (it never computed one, e.g. a
 * worker that returns random outputs) cannot reveal anything when the dispute game asks.
 *
 * @param root the committed trace root
 * @param steps the committed number of steps
 * @param outputs the outputs returned to the client (their CID is committed)
 * @param trace the trace the party answers bisection moves and step openings from, if any
 */
public record WorkerClaim(Hash root, int steps, NamedTensors outputs, Optional<Trace> trace) {
  public WorkerClaim {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(outputs, "outputs");
    Objects.requireNonNull(trace, "trace");
    if (steps < 0) {
      throw new IllegalArgumentException("a trace has a non-negative number of steps, got " + steps);
    }
  }

  /** The claim of a party that ran {@code e} and reports it as it is. */
  public static WorkerClaim of(Execution e) {
    return new WorkerClaim(e.trace().root(), e.trace().size(), e.outputs(), Optional.of(e.trace()));
  }

  /** A claim whose trace is {@code e}'s but whose reported outputs are {@code outputs}. */
  public static WorkerClaim withOutputs(Execution e, NamedTensors outputs) {
    return new WorkerClaim(e.trace().root(), e.trace().size(), outputs, Optional.of(e.trace()));
  }

  /** Whether this claim commits exactly what {@code other} commits (root, steps, outputs CID). */
  public boolean sameCommitment(WorkerClaim other) {
    return root.equals(other.root) && steps == other.steps
        && outputs.cid().equals(other.outputs.cid());
  }
}
