package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.BOB;
import static dev.verity.ledger.Fixtures.WORKER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.OptimisticFixture.Leaves;
import dev.verity.ledger.StateRecord.Dispute.Phase;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Random adversarial play against a responsive honest worker: whatever a lying challenger and
 * third parties send (junk bisections, moves out of turn, early timeouts, proofs in the wrong
 * phase, time jumps), every refusal leaves the state as it was, money is conserved, the game ends
 * at the leftmost differing step within ceil(log2 n) rounds, and the honest worker is never
 * slashed.
 */
class DisputePropertiesTest {

  @Property(tries = 60)
  void anHonestResponsiveWorkerNeverLoses(@ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll @IntRange(min = 0, max = 39) int divergeRaw, @ForAll long seed) {
    int diverge = divergeRaw % n;
    Random rnd = new Random(seed);
    OptimisticFixture f = new OptimisticFixture().withMarket();
    f.referee.modelSteps = n;
    Hash job = f.settledJob(Optional.empty());
    Leaves honest = Leaves.of(n, n, "-");
    Leaves lie = Leaves.of(n, diverge, "lie");
    f.commit(job, honest.root(), n);
    long stake = f.state.stake(WORKER.address()).bonded();
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), n)).created().orElseThrow();
    List<Signer> anyone = List.of(WORKER, BOB, OptimisticFixture.CAROL);
    int guard = 0;
    while (!f.dispute(d).phase().decided() && guard++ < 500) {
      StateRecord.Dispute now = f.dispute(d);
      // The honest worker always answers in time.
      if (now.phase() == Phase.WORKER_BISECT) {
        f.ok(WORKER, honest.bisect(d, now));
        continue;
      }
      if (now.phase() == Phase.WORKER_PROVE) {
        assertEquals(diverge, now.step(), "the game ends at the leftmost differing step");
        f.ok(WORKER, new Action.ProveStep(d, new byte[] {1}));
        continue;
      }
      LedgerState before = f.state;
      Signer who = anyone.get(rnd.nextInt(anyone.size()));
      Action junk = switch (rnd.nextInt(6)) {
        case 0 -> new Action.Bisect(d, Hash.of(new byte[] {(byte) rnd.nextInt()}), honest.subtree(0, 1));
        case 1 -> new Action.ProveStep(d, new byte[] {2});
        case 2 -> new Action.Timeout(d);
        case 3 -> honest.bisect(d, now);
        case 4 -> new Action.Challenge(job, 300, lie.root(), n);
        default -> new Action.Attest(job, honest.root());
      };
      try {
        f.apply(f.tx(who, junk));
      } catch (TransactionRejected expected) {
        assertEquals(before.root(), f.state.root());
      }
      f.assertConserved();
      // The challenger bisects its lie, or stalls and time passes.
      if (f.dispute(d).phase() == Phase.CHALLENGER_BISECT) {
        if (rnd.nextInt(4) == 0) {
          f.time += OptimisticFixture.MOVE_MILLIS + 1;
          f.ok(WORKER, new Action.Timeout(d));
        } else {
          f.ok(BOB, lie.bisect(d, f.dispute(d)));
        }
      }
      f.assertConserved();
    }
    StateRecord.Dispute end = f.dispute(d);
    assertEquals(Phase.WORKER_WON, end.phase());
    assertTrue(end.moves() <= 2 * (32 - Integer.numberOfLeadingZeros(Math.max(1, n - 1))) + 1);
    assertEquals(stake, f.state.stake(WORKER.address()).bonded());
    assertNotEquals(StateRecord.Job.Status.INVALID, f.job(job).status());
    f.assertConserved();
  }

  @Property(tries = 60)
  void aLyingWorkerAgainstAResponsiveChallengerIsSlashedAndMoneyIsConserved(
      @ForAll @IntRange(min = 1, max = 40) int n, @ForAll @IntRange(min = 0, max = 39) int divergeRaw,
      @ForAll long seed) {
    int diverge = divergeRaw % n;
    Random rnd = new Random(seed);
    OptimisticFixture f = new OptimisticFixture().withMarket();
    f.referee.modelSteps = n;
    f.referee.stepHolds = false;
    Hash job = f.settledJob(Optional.empty());
    Leaves honest = Leaves.of(n, n, "-");
    Leaves lie = Leaves.of(n, diverge, "lie");
    f.commit(job, lie.root(), n);
    long stake = f.state.stake(WORKER.address()).bonded();
    long burned = f.state.supply().burned();
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, honest.root(), n)).created().orElseThrow();
    int guard = 0;
    while (!f.dispute(d).phase().decided() && guard++ < 500) {
      StateRecord.Dispute now = f.dispute(d);
      if (now.phase() == Phase.CHALLENGER_BISECT) {
        f.ok(BOB, honest.bisect(d, now));
      } else if (rnd.nextInt(5) == 0) {
        f.time += OptimisticFixture.MOVE_MILLIS + 1;
        f.ok(OptimisticFixture.CAROL, new Action.Timeout(d));
      } else if (now.phase() == Phase.WORKER_BISECT) {
        f.ok(WORKER, lie.bisect(d, now));
      } else {
        assertEquals(diverge, now.step());
        f.ok(WORKER, new Action.ProveStep(d, new byte[] {1}));
      }
      f.assertConserved();
    }
    assertEquals(Phase.CHALLENGER_WON, f.dispute(d).phase());
    assertEquals(stake - stake / 2, f.state.stake(WORKER.address()).bonded());
    assertEquals(StateRecord.Job.Status.INVALID, f.job(job).status());
    assertTrue(f.state.supply().burned() >= burned);
    f.assertConserved();
  }
}
