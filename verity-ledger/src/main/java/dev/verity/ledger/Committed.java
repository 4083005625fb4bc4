package dev.verity.ledger;

import dev.verity.core.Hash;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an accepted transaction landed: block {@code height}, position {@code index} in it, and
 * the id of what it created, if anything (the job id for {@link Action.OpenJob}, the challenge id
 * for {@link Action.Challenge}).
 */
public record Committed(long height, int index, Hash txId, Optional<Hash> created) {
  public Committed {
    Objects.requireNonNull(txId, "txId");
    Objects.requireNonNull(created, "created");
    if (height < 1 || index < 0) {
      throw new IllegalArgumentException("height starts at 1 and index at 0");
    }
  }
}
