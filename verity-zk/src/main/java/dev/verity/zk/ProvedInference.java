package dev.verity.zk;

import java.util.Objects;

/** A statement and the proof that establishes it, as a prover hands them out. */
public record ProvedInference(Statement statement, Proof proof) {
  public ProvedInference {
    Objects.requireNonNull(statement);
    Objects.requireNonNull(proof);
  }
}
