package dev.verity.ledger;

import dev.verity.core.crypto.Address;
import java.util.HashSet;
import java.util.List;

/**
 * Whether an optimistic job was drawn for re-execution, and by whom. Fixed by the ledger from the
 * hash of the first block header after the block holding the job's trace commitment, which the
 * worker could not know when committing (see {@link LedgerState#sample}).
 *
 * @param sampled whether the job must be re-executed
 * @param verifiers the verifier nodes assigned to re-execute it, in draw order (empty when not
 *     sampled); only they may {@link Action.Attest} it, anyone may challenge it
 */
public record Sample(boolean sampled, List<Address> verifiers) {
  public Sample {
    verifiers = List.copyOf(verifiers);
    if (!sampled && !verifiers.isEmpty()) {
      throw new dev.verity.core.DecodingException("a job not sampled has no verifiers");
    }
    if (new HashSet<>(verifiers).size() != verifiers.size()) {
      throw new dev.verity.core.DecodingException("each verifier is drawn once");
    }
  }

  /** Whether {@code a} is one of the assigned verifiers. */
  public boolean assigned(Address a) {
    return verifiers.contains(a);
  }
}
