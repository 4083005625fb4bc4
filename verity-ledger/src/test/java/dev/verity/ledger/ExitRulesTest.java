package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.BOB;
import static dev.verity.ledger.Fixtures.MODEL;
import static dev.verity.ledger.Fixtures.WORKER;
import static dev.verity.ledger.OptimisticFixture.CAROL;
import static dev.verity.ledger.OptimisticFixture.MOVE_MILLIS;
import static dev.verity.ledger.OptimisticFixture.V1;
import static dev.verity.ledger.OptimisticFixture.V2;
import static dev.verity.ledger.OptimisticFixture.V3;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_STAKE;
import static dev.verity.ledger.TransactionRejected.Reason.STAKE_IN_USE;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_STATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.OptimisticFixture.Leaves;
import dev.verity.ledger.StateRecord.Job.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Rules B and C of optimistic verification: stake cannot leave before the rulings it answers for,
 * an unbonding node takes no new jobs, the value in flight is bounded by stake, and an idle chain
 * keeps producing the blocks that close windows and release stake.
 */
class ExitRulesTest {
  private static final Hash SALT = Hash.of("exit salt".getBytes(StandardCharsets.UTF_8));
  private static final Leaves HONEST = Leaves.of(8, 8, "-");
  /** Royalty 10 plus operator fee 200, as {@link OptimisticFixture#settledJob} settles. */
  private static final long CHARGE = 210;

  private static Action.CommitReceipts commitment(Hash job, Hash root) {
    return new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
        Cid.raw(("receipt of " + job).getBytes(StandardCharsets.UTF_8)),
        Optional.of(new TraceCommitment(root, 8, OptimisticFixture.INPUTS, OptimisticFixture.OUTPUTS)))));
  }

  /** Runs empty blocks until the next block is {@code height}. */
  private static void advanceUntilNextIs(OptimisticFixture f, long height) {
    f.advance((int) (height - f.state.height() - 1));
  }

  private static Signer signer(Address a) {
    return List.of(V1, V2, V3).stream().filter(s -> s.address().equals(a)).findFirst().orElseThrow();
  }

  @Test
  void withdrawIsRefusedWhileTheWorkersOptimisticJobIsUnfinalizedAndAllowedAfterFinality() {
    OptimisticFixture f = new OptimisticFixture().withMarket();
    Hash job = f.settledJob(Optional.empty());
    f.commit(job, HONEST.root(), 8);
    assertEquals(new StateRecord.Exposure(1, 0, CHARGE), f.state.exposure(WORKER.address()));
    f.ok(WORKER, new Action.BeginUnstake(1_000));
    advanceUntilNextIs(f, f.state.stake(WORKER.address()).releaseHeight());

    TransactionRejected r = f.rejected(STAKE_IN_USE, WORKER, new Action.Withdraw());
    assertTrue(r.getMessage().contains("1 optimistic job"), r.getMessage());

    f.ok(BOB, new Action.Finalize(job));
    assertEquals(Status.FINAL, f.job(job).status());
    assertEquals(StateRecord.Exposure.NONE, f.state.exposure(WORKER.address()));
    long before = f.state.account(WORKER.address()).balance();
    f.ok(WORKER, new Action.Withdraw());
    assertEquals(before - 1 + 1_000, f.state.account(WORKER.address()).balance());
    assertEquals(0, f.state.stake(WORKER.address()).unbonding());
    f.assertConserved();
  }

  @Test
  void aWorkerUnbondingDuringADisputeIsSlashedBeforeItCanWithdraw() {
    OptimisticFixture f = new OptimisticFixture().withMarket();
    Hash job = f.settledJob(Optional.empty());
    f.commit(job, Leaves.of(8, 3, "lie").root(), 8);
    Hash d = f.ok(BOB, new Action.Challenge(job, 100, HONEST.root(), 8)).created().orElseThrow();
    assertEquals(new StateRecord.Exposure(1, 1, CHARGE), f.state.exposure(WORKER.address()));
    f.ok(WORKER, new Action.BeginUnstake(4_000));
    advanceUntilNextIs(f, f.state.stake(WORKER.address()).releaseHeight() + 3);
    f.rejected(STAKE_IN_USE, WORKER, new Action.Withdraw());

    // The worker does not answer; the dispute is decided against it.
    f.time += MOVE_MILLIS + 1;
    f.ok(CAROL, new Action.Timeout(d));
    assertEquals(Status.INVALID, f.job(job).status());
    assertEquals(2_000, f.state.stake(WORKER.address()).unbonding(), "half of the unbonding stake is slashed");
    assertEquals(500, f.state.stake(WORKER.address()).bonded());
    assertFalse(f.state.exposure(WORKER.address()).locked());
    assertEquals(0, f.state.exposure(WORKER.address()).fees());

    long before = f.state.account(WORKER.address()).balance();
    f.ok(WORKER, new Action.Withdraw());
    assertEquals(before - 1 + 2_000, f.state.account(WORKER.address()).balance());
    f.assertConserved();
  }

  @Test
  void aLazyVerifierCannotWithdrawBeforeThePlantedJobItAttestedIsRevealed() {
    OptimisticFixture f = new OptimisticFixture().withMarket();
    Hash planted = Action.OpenJob.jobId(ALICE.address(), f.state.account(ALICE.address()).nonce());
    Hash job = f.settledJob(Optional.of(Action.OpenJob.auditCommitment(SALT, planted)));
    f.commit(job, Action.OpenJob.plantedRoot(SALT, job), 8);
    f.advance(2);
    List<Address> lazy = f.state.sample(job).orElseThrow().verifiers();
    for (Address a : lazy) {
      f.ok(signer(a), new Action.Attest(job, Action.OpenJob.plantedRoot(SALT, job)));
      assertEquals(new StateRecord.Exposure(1, 0, 0), f.state.exposure(a));
      f.ok(signer(a), new Action.BeginUnstake(f.state.stake(a).bonded()));
    }
    long release = lazy.stream().mapToLong(a -> f.state.stake(a).releaseHeight()).max().orElseThrow();
    advanceUntilNextIs(f, release);
    long[] unbonding = new long[lazy.size()];
    for (int i = 0; i < lazy.size(); i++) {
      f.rejected(STAKE_IN_USE, signer(lazy.get(i)), new Action.Withdraw());
      unbonding[i] = f.state.stake(lazy.get(i)).unbonding();
    }
    f.ok(ALICE, new Action.Reveal(job, SALT));
    for (int i = 0; i < lazy.size(); i++) {
      Address a = lazy.get(i);
      assertEquals(unbonding[i] - unbonding[i] / 2, f.state.stake(a).unbonding());
      assertFalse(f.state.exposure(a).locked());
      f.ok(signer(a), new Action.Withdraw());
    }
    assertEquals(StateRecord.Exposure.NONE, f.state.exposure(WORKER.address()));
    f.assertConserved();
  }

  @Test
  void anUnbondingNodeTakesNoNewJobsUntilItHasWithdrawn() {
    OptimisticFixture f = new OptimisticFixture().withMarket();
    Hash named = f.ok(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 1, 500, 0, Optional.empty()))
        .created().orElseThrow();
    Hash unnamed = f.ok(ALICE, new Action.OpenJob(MODEL, Optional.empty(), 1, 500, 0, Optional.empty()))
        .created().orElseThrow();
    f.ok(WORKER, new Action.BeginUnstake(100));

    TransactionRejected r = f.rejected(WRONG_STATE, ALICE,
        new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 1, 500, 0, Optional.empty()));
    assertTrue(r.getMessage().contains("unbonding"), r.getMessage());
    f.rejected(WRONG_STATE, WORKER, new Action.SettleJob(named, 1, 200, List.of()));
    f.rejected(WRONG_STATE, WORKER, new Action.SettleJob(unnamed, 1, 200, List.of()));
    // It can still hand back the job it holds, refunding the client.
    long alice = f.state.account(ALICE.address()).balance();
    f.ok(WORKER, new Action.FailJob(named));
    assertEquals(alice + 500, f.state.account(ALICE.address()).balance());

    advanceUntilNextIs(f, f.state.stake(WORKER.address()).releaseHeight());
    f.ok(WORKER, new Action.Withdraw());
    f.ok(WORKER, new Action.SettleJob(unnamed, 1, 200, List.of()));
    f.ok(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 1, 500, 0, Optional.empty()));
    f.assertConserved();
  }

  private static OptimisticFixture bounded(int bps) {
    return new OptimisticFixture(Fixtures.genesisBuilder()
        .allocate(V1.address(), Fixtures.START).allocate(V2.address(), Fixtures.START)
        .allocate(V3.address(), Fixtures.START).allocate(CAROL.address(), Fixtures.START)
        .optimistic(1_000_000, OptimisticFixture.VERIFIERS_PER_SAMPLE, OptimisticFixture.CHECK_FEE, MOVE_MILLIS)
        .maxInFlightBps(bps)
        .build()).withMarket();
  }

  @Test
  void commitmentsBeyondTheValueInFlightBoundAreRefusedUntilJobsAreFinal() {
    // Worker stake 5,000; 500 bps bound it to 250 in flight; each job charges 210.
    OptimisticFixture f = bounded(500);
    Hash first = f.settledJob(Optional.empty());
    Hash second = f.settledJob(Optional.empty());
    f.commit(first, HONEST.root(), 8);
    TransactionRejected r = f.rejected(INSUFFICIENT_STAKE, WORKER, commitment(second, HONEST.root()));
    assertTrue(r.getMessage().contains("420") && r.getMessage().contains("250"), r.getMessage());

    f.advance(6);
    f.ok(BOB, new Action.Finalize(first));
    f.ok(WORKER, commitment(second, HONEST.root()));
    assertEquals(new StateRecord.Exposure(1, 0, CHARGE), f.state.exposure(WORKER.address()));

    // More stake raises the bound.
    Hash third = f.settledJob(Optional.empty());
    f.rejected(INSUFFICIENT_STAKE, WORKER, commitment(third, HONEST.root()));
    f.ok(WORKER, new Action.Stake(4_000));
    f.ok(WORKER, commitment(third, HONEST.root()));
    assertEquals(new StateRecord.Exposure(2, 0, 2 * CHARGE), f.state.exposure(WORKER.address()));
    f.assertConserved();
  }

  @Test
  void withoutABoundAWorkerMayCommitManyJobs() {
    OptimisticFixture f = bounded(0);
    for (int i = 0; i < 30; i++) {
      f.commit(f.settledJob(Optional.empty()), HONEST.root(), 8);
    }
    assertEquals(new StateRecord.Exposure(30, 0, 30 * CHARGE), f.state.exposure(WORKER.address()));
  }

  @Test
  void blocksAreNeededUntilTheWindowClosesAndStakeIsReleasedThenTheyAreNot() {
    OptimisticFixture f = new OptimisticFixture().withMarket();
    assertFalse(f.state.deadlinesPending());
    Hash job = f.settledJob(Optional.empty());
    long h = f.commit(job, HONEST.root(), 8);
    while (f.state.deadlinesPending()) {
      f.rejected(WRONG_STATE, BOB, new Action.Finalize(job));
      f.advance(1);
    }
    assertEquals(h + 5, f.state.height(), "the next block is the first after the window");
    f.ok(BOB, new Action.Finalize(job));

    Hash audited = f.settledJob(Optional.of(Hash.of(new byte[] {1})));
    long a = f.commit(audited, HONEST.root(), 8);
    while (f.state.deadlinesPending()) {
      f.advance(1);
    }
    assertEquals(a + 10, f.state.height(), "an audit commitment adds a reveal period");
    f.ok(BOB, new Action.Finalize(audited));

    f.ok(WORKER, new Action.BeginUnstake(10));
    while (f.state.deadlinesPending()) {
      f.rejected(TransactionRejected.Reason.STILL_UNBONDING, WORKER, new Action.Withdraw());
      f.advance(1);
    }
    f.ok(WORKER, new Action.Withdraw());
    assertFalse(f.state.deadlinesPending());
  }

  @Test
  void genesisRequiresTheUnbondingPeriodToOutlastTheChallengeWindowAndBoundsTheInFlightShare() {
    DecodingException e = assertThrows(DecodingException.class,
        () -> Fixtures.genesisBuilder().challengeWindowBlocks(10).build());
    assertTrue(e.getMessage().contains("unbonding >= challenge window + 1"), e.getMessage());
    Fixtures.genesisBuilder().challengeWindowBlocks(9).build();
    assertThrows(DecodingException.class, () -> Fixtures.genesisBuilder().maxInFlightBps(10_001).build());
    assertThrows(DecodingException.class, () -> Fixtures.genesisBuilder().maxInFlightBps(-1).build());

    GenesisConfig off = Fixtures.genesis();
    assertFalse(off.toCbor().has("inFlightBps"), "an unset bound keeps older encodings and hashes");
    GenesisConfig on = Fixtures.genesisBuilder().maxInFlightBps(6_300).build();
    assertEquals(on, GenesisConfig.decode(on.encode()));
    assertEquals(6_300, GenesisConfig.decode(on.encode()).maxInFlightBps());

    CborValue.Map.Builder zero = CborValue.Map.builder();
    off.toCbor().entries().forEach(zero::put);
    zero.put("inFlightBps", 0);
    assertThrows(DecodingException.class, () -> GenesisConfig.fromCbor(zero.build()));
  }

  @Test
  void exposureAndHorizonEntriesRoundTripAndRejectNegativeCounts() {
    StateRecord.Exposure e = new StateRecord.Exposure(3, 1, 630);
    assertEquals(e, StateRecord.decode(e.encode()));
    StateRecord.Horizon h = new StateRecord.Horizon(77);
    assertEquals(h, StateRecord.decode(h.encode()));
    assertThrows(DecodingException.class, () -> new StateRecord.Exposure(-1, 0, 0));
    assertThrows(DecodingException.class, () -> StateRecord.decode(dev.verity.core.cbor.Cbor.encode(
        CborValue.Map.builder().put("type", "exposure").put("jobs", 1).put("disputes", 0).build())));
  }

  // ---- random play ----

  /** The exposure of every address, recomputed from the jobs, checks, disputes and contests. */
  private static Map<Address, StateRecord.Exposure> recompute(LedgerState s) {
    Map<Address, StateRecord.Exposure> out = new HashMap<>();
    s.forEach(r -> {
      switch (r) {
        case StateRecord.Check c -> {
          StateRecord.Job j = s.job(c.job()).orElseThrow();
          if (j.status() == Status.SETTLED || j.status() == Status.CHALLENGED) {
            out.merge(c.worker(), new StateRecord.Exposure(1, 0, j.charged()), (x, y) -> x.plus(y.jobs(), 0, y.fees()));
            for (Address v : c.attesters()) {
              out.merge(v, new StateRecord.Exposure(1, 0, 0), (x, y) -> x.plus(1, 0, 0));
            }
          }
        }
        case StateRecord.Dispute d when !d.phase().decided() ->
            out.merge(d.worker(), new StateRecord.Exposure(0, 1, 0), (x, y) -> x.plus(0, 1, 0));
        case StateRecord.Challenge c when c.status() == StateRecord.Challenge.Status.OPEN ->
            out.merge(s.job(c.job()).orElseThrow().worker().orElseThrow(), new StateRecord.Exposure(0, 1, 0),
                (x, y) -> x.plus(0, 1, 0));
        default -> { }
      }
    });
    return out;
  }

  /**
   * Whatever mix of jobs, honest and lying commitments, attestations, challenges, timeouts,
   * finalizations, contests, unstaking and withdrawals is sent: the recorded exposure of every
   * party equals the one recomputed from the state, no withdrawal succeeds while the stake backs
   * an unfinalized job or an open dispute, no unbonding worker settles a job, the value in flight
   * stays within the bound, and money is conserved.
   */
  @Property(tries = 40)
  void stakeNeverLeavesBeforeTheRulingsItBacks(@ForAll long seed) {
    Random rnd = new Random(seed);
    OptimisticFixture f = bounded(9_000);
    f.referee.modelSteps = 8;
    List<Signer> parties = List.of(WORKER, V1, V2, V3);
    List<Hash> jobs = new ArrayList<>();
    List<Hash> disputes = new ArrayList<>();
    List<Hash> committed = new ArrayList<>();
    for (int step = 0; step < 120; step++) {
      Signer who = parties.get(rnd.nextInt(parties.size()));
      Hash job = jobs.isEmpty() ? Hash.of(new byte[] {0}) : jobs.get(rnd.nextInt(jobs.size()));
      Hash optimistic = committed.isEmpty() ? job : committed.get(rnd.nextInt(committed.size()));
      Action a = switch (rnd.nextInt(11)) {
        case 0, 1 -> new Action.OpenJob(MODEL, rnd.nextBoolean() ? Optional.of(WORKER.address()) : Optional.empty(),
            1, 500, 0, rnd.nextInt(4) == 0 ? Optional.of(Hash.of(new byte[] {(byte) step})) : Optional.empty());
        case 2 -> new Action.SettleJob(job, 1, 100 + rnd.nextInt(300), List.of());
        case 3 -> commitment(job, rnd.nextBoolean() ? HONEST.root() : Leaves.of(8, rnd.nextInt(8), "lie").root());
        case 4 -> new Action.Attest(optimistic, f.state.check(optimistic)
            .map(c -> c.trace().root()).orElse(HONEST.root()));
        case 5 -> new Action.Challenge(optimistic, 100, HONEST.root(), 8);
        case 6 -> new Action.Finalize(optimistic);
        case 7 -> disputes.isEmpty() ? new Action.Contest(job, 100, Optional.empty())
            : new Action.Timeout(disputes.get(rnd.nextInt(disputes.size())));
        case 8 -> new Action.BeginUnstake(1 + rnd.nextInt(300));
        case 9 -> new Action.Withdraw();
        default -> null;
      };
      if (a instanceof Action.OpenJob || a instanceof Action.Challenge || a instanceof Action.Contest) {
        who = a instanceof Action.OpenJob ? ALICE : BOB;
      } else if (a instanceof Action.SettleJob || a instanceof Action.CommitReceipts) {
        who = WORKER;
      }
      if (a == null) {
        f.advance(1 + rnd.nextInt(4));
        f.time += rnd.nextInt(3) * MOVE_MILLIS;
      } else {
        StateRecord.Exposure before = f.state.exposure(who.address());
        StateRecord.Stake stakeBefore = f.state.stake(who.address());
        try {
          Committed c = f.apply(f.tx(who, a));
          if (a instanceof Action.OpenJob) {
            jobs.add(c.created().orElseThrow());
          } else if (a instanceof Action.CommitReceipts) {
            committed.add(job);
          } else if (a instanceof Action.Challenge) {
            disputes.add(c.created().orElseThrow());
          } else if (a instanceof Action.Withdraw) {
            assertFalse(before.locked(), "withdrew while backing " + before);
          } else if (a instanceof Action.SettleJob) {
            assertEquals(0, stakeBefore.unbonding(), "an unbonding worker settled a job");
          }
        } catch (TransactionRejected expected) {
          // refused moves change nothing (checked by the state's invariants below)
        }
      }
      assertEquals(recompute(f.state), exposures(f.state, parties));
      StateRecord.Stake ws = f.state.stake(WORKER.address());
      assertTrue(f.state.exposure(WORKER.address()).fees()
          <= Fields.share(ws.bonded() + ws.unbonding(), 9_000)
          || f.state.supply().burned() > 0, // a slash may cut the stake under what was committed
          "value in flight above the bound");
      f.assertConserved();
    }
  }

  private static Map<Address, StateRecord.Exposure> exposures(LedgerState s, List<Signer> parties) {
    Map<Address, StateRecord.Exposure> out = new HashMap<>();
    for (Signer p : parties) {
      StateRecord.Exposure e = s.exposure(p.address());
      if (!e.equals(StateRecord.Exposure.NONE)) {
        out.put(p.address(), e);
      }
    }
    return out;
  }
}
