package dev.verity.node;

/**
 * How a node takes part in mode {@code optimistic} (the {@code optimistic.*} settings of {@link
 * NodeConfig}).
 *
 * @param threads threads of the canonical executor per model run (1..256); the results never
 *     depend on it, only the speed does
 * @param verifier whether the node also acts as a verifier: it registers the verifier role on the
 *     ledger, re-executes the jobs the ledger samples to it, attests or challenges them, and plays
 *     the disputes it starts (needs a ledger)
 * @param verifierStake stake the node keeps bonded as a verifier; 0: the genesis minimum
 * @param challengeBond bond the node posts with each challenge; 0: the genesis minimum
 */
public record OptimisticSettings(int threads, boolean verifier, long verifierStake, long challengeBond) {
  public static final int MAX_THREADS = 256;

  public OptimisticSettings {
    if (threads < 1 || threads > MAX_THREADS) {
      throw new IllegalArgumentException("optimistic.threads must be in 1.." + MAX_THREADS + ", got " + threads);
    }
    if (verifierStake < 0) {
      throw new IllegalArgumentException("optimistic.verifier_stake must not be negative, got " + verifierStake);
    }
    if (challengeBond < 0) {
      throw new IllegalArgumentException("optimistic.challenge_bond must not be negative, got " + challengeBond);
    }
  }

  /** Defaults: one executor thread, no verifier role. */
  public static OptimisticSettings defaults() {
    return new OptimisticSettings(1, false, 0, 0);
  }

  public OptimisticSettings withThreads(int t) {
    return new OptimisticSettings(t, verifier, verifierStake, challengeBond);
  }

  public OptimisticSettings asVerifier(boolean v) {
    return new OptimisticSettings(threads, v, verifierStake, challengeBond);
  }
}
