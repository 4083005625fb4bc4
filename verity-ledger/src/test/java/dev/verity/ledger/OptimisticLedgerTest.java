package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.BOB;
import static dev.verity.ledger.Fixtures.WORKER;
import static dev.verity.ledger.OptimisticFixture.CAROL;
import static dev.verity.ledger.OptimisticFixture.CHECK_FEE;
import static dev.verity.ledger.OptimisticFixture.MOVE_MILLIS;
import static dev.verity.ledger.OptimisticFixture.V1;
import static dev.verity.ledger.OptimisticFixture.V2;
import static dev.verity.ledger.OptimisticFixture.V3;
import static dev.verity.ledger.TransactionRejected.Reason.ALREADY_EXISTS;
import static dev.verity.ledger.TransactionRejected.Reason.BAD_NONCE;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_FUNDS;
import static dev.verity.ledger.TransactionRejected.Reason.INVALID_ARGUMENT;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_AUTHORIZED;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_FOUND;
import static dev.verity.ledger.TransactionRejected.Reason.REFEREE_UNAVAILABLE;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_STATE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.OptimisticFixture.Leaves;
import dev.verity.ledger.StateRecord.Dispute.Phase;
import dev.verity.ledger.StateRecord.Job.Status;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The optimistic rules: commitment, sampling, attestation, the dispute game, finality, planted jobs. */
class OptimisticLedgerTest {
  private static final Hash SALT = Hash.of("salt".getBytes());

  private OptimisticFixture f;
  private Hash job;
  private Leaves honest;
  private long committed;

  private void setUp(int steps) {
    f = new OptimisticFixture().withMarket();
    job = f.settledJob(Optional.empty());
    honest = Leaves.of(steps, steps, "-");
    f.referee.modelSteps = steps;
    committed = f.commit(job, honest.root(), steps);
  }

  /** Plays the bisection with both parties honest to their own leaves until the worker must prove. */
  private int bisectToTheEnd(Hash d, Leaves worker, Leaves challenger) {
    int rounds = 0;
    while (f.dispute(d).phase() == Phase.WORKER_BISECT) {
      f.ok(WORKER, worker.bisect(d, f.dispute(d)));
      f.ok(BOB, challenger.bisect(d, f.dispute(d)));
      rounds++;
    }
    return rounds;
  }

  /** Depth of leaf i in an RFC 6962 tree of n leaves: the rounds a dispute ending there takes. */
  private static int depth(int i, int n) {
    int d = 0;
    int from = 0;
    int to = n;
    while (to - from > 1) {
      int k = Integer.highestOneBit(to - from - 1);
      if (i < from + k) {
        to = from + k;
      } else {
        from = from + k;
      }
      d++;
    }
    return d;
  }

  @Test
  void commitmentEscrowsTheCheckPoolAndTheSampleIsDrawnFromTheNextHeader() {
    setUp(8);
    StateRecord.Check c = f.state.check(job).orElseThrow();
    assertEquals(OptimisticFixture.VERIFIERS_PER_SAMPLE * CHECK_FEE, c.checkPool());
    assertEquals(Optional.empty(), f.state.sample(job));
    assertTrue(f.state.samplingPending());
    f.advance(1);
    assertEquals(Optional.empty(), f.state.sample(job), "the seed's header did not exist yet");
    f.advance(1);
    Sample s = f.state.sample(job).orElseThrow();
    assertEquals(Optional.of(OptimisticFixture.headerHash(committed + 1)), f.state.check(job).orElseThrow().seed());
    assertTrue(s.sampled(), "rate is 100%");
    assertEquals(2, s.verifiers().size());
    assertTrue(Set.of(V1.address(), V2.address(), V3.address()).containsAll(s.verifiers()));
    assertFalse(f.state.samplingPending());
    f.assertConserved();
  }

  @Test
  void aNodeThatDropsTheVerifierRoleIsNoLongerDrawn() {
    setUp(4);
    assertEquals(3, f.state.get(StateKey.VERIFIERS).map(r -> ((StateRecord.Verifiers) r).operators().size()).orElseThrow());
    f.ok(V1, Fixtures.node().roles(NodeRole.WORKER).stake(0).build());
    f.ok(V2, Fixtures.node().roles(NodeRole.WORKER).stake(0).build());
    assertEquals(List.of(V3.address()),
        f.state.get(StateKey.VERIFIERS).map(r -> ((StateRecord.Verifiers) r).operators()).orElseThrow());
    Hash second = f.settledJob(Optional.empty());
    f.commit(second, honest.root(), 4);
    f.advance(2);
    assertEquals(List.of(V3.address()), f.state.sample(second).orElseThrow().verifiers());
  }

  @Test
  void theSampleIsAPureFunctionOfTheSeedAndTheRateDecides() {
    OptimisticFixture never = new OptimisticFixture(Fixtures.genesisBuilder()
        .allocate(V1.address(), Fixtures.START).allocate(V2.address(), Fixtures.START)
        .allocate(V3.address(), Fixtures.START).optimistic(0, 2, CHECK_FEE, MOVE_MILLIS).build()).withMarket();
    Hash j = never.settledJob(Optional.empty());
    never.commit(j, Leaves.of(4, 4, "-").root(), 4);
    never.advance(2);
    assertEquals(new Sample(false, List.of()), never.state.sample(j).orElseThrow());
    // A job may raise its own rate.
    long nonce = never.state.account(ALICE.address()).nonce();
    Hash raised = never.ok(ALICE, new Action.OpenJob(Fixtures.MODEL, Optional.of(WORKER.address()), 1, 500,
        1_000_000, Optional.empty())).created().orElseThrow();
    assertEquals(Action.OpenJob.jobId(ALICE.address(), nonce), raised);
    never.ok(WORKER, new Action.SettleJob(raised, 1, 200, List.of()));
    never.commit(raised, Leaves.of(4, 4, "-").root(), 4);
    never.advance(2);
    assertTrue(never.state.sample(raised).orElseThrow().sampled());
  }

  @Test
  void assignedVerifiersAttestAndArePaidAtFinality() {
    setUp(8);
    f.rejected(WRONG_STATE, V1, new Action.Attest(job, honest.root()));
    f.advance(2);
    List<Address> assigned = f.state.sample(job).orElseThrow().verifiers();
    Address unassigned = Set.of(V1.address(), V2.address(), V3.address()).stream()
        .filter(a -> !assigned.contains(a)).findFirst().orElseThrow();
    var byAddress = java.util.Map.of(V1.address(), V1, V2.address(), V2, V3.address(), V3);
    var first = byAddress.get(assigned.get(0));
    f.rejected(NOT_AUTHORIZED, byAddress.get(unassigned), new Action.Attest(job, honest.root()));
    f.rejected(INVALID_ARGUMENT, first, new Action.Attest(job, Hash.of(new byte[1])));
    f.ok(first, new Action.Attest(job, honest.root()));
    f.rejected(ALREADY_EXISTS, first, new Action.Attest(job, honest.root()));
    f.rejected(WRONG_STATE, BOB, new Action.Finalize(job));
    long before = f.state.account(first.address()).balance();
    long workerBefore = f.state.account(WORKER.address()).balance();
    f.advance(5);
    f.rejected(WRONG_STATE, byAddress.get(assigned.get(1)), new Action.Attest(job, honest.root()));
    f.ok(BOB, new Action.Finalize(job));
    assertEquals(Status.FINAL, f.job(job).status());
    assertEquals(before + CHECK_FEE, f.state.account(first.address()).balance());
    assertEquals(workerBefore + CHECK_FEE, f.state.account(WORKER.address()).balance(), "unused pool returns");
    assertEquals(0, f.state.check(job).orElseThrow().checkPool());
    f.rejected(WRONG_STATE, BOB, new Action.Finalize(job));
    f.rejected(WRONG_STATE, BOB, new Action.Challenge(job, 200, Hash.of(new byte[2]), 8));
    f.assertConserved();
  }

  @Test
  void anHonestWorkerWinsTheBisectionAgainstALyingChallenger() {
    for (int n : new int[] {1, 2, 3, 5, 8, 13}) {
      for (int diverge = 0; diverge < n; diverge++) {
        setUp(n);
        Leaves lie = Leaves.of(n, diverge, "lie");
        long bobBefore = f.state.account(BOB.address()).balance();
        long workerBefore = f.state.account(WORKER.address()).balance();
        Hash d = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), n)).created().orElseThrow();
        assertEquals(Action.Challenge.disputeId(job, BOB.address()), d);
        assertEquals(Status.CHALLENGED, f.job(job).status());
        int rounds = bisectToTheEnd(d, honest, lie);
        StateRecord.Dispute at = f.dispute(d);
        assertEquals(Phase.WORKER_PROVE, at.phase());
        assertEquals(diverge, at.step(), "the leftmost differing step of " + n);
        assertEquals(depth(diverge, n), rounds);
        assertTrue(rounds <= 32 - Integer.numberOfLeadingZeros(Math.max(1, n - 1)), "rounds <= ceil(log2 n)");
        f.ok(WORKER, new Action.ProveStep(d, new byte[] {1}));
        assertEquals(diverge, f.referee.lastStep);
        StateRecord.Dispute done = f.dispute(d);
        assertEquals(Phase.WORKER_WON, done.phase());
        assertEquals(2 * rounds + 1, done.moves());
        assertEquals(Status.SETTLED, f.job(job).status());
        assertEquals(bobBefore - 300 - 1 - rounds, f.state.account(BOB.address()).balance());
        assertEquals(workerBefore + 300 - rounds - 1, f.state.account(WORKER.address()).balance());
        assertEquals(5_000, f.state.stake(WORKER.address()).bonded(), "an honest worker is never slashed");
        f.assertConserved();
      }
    }
  }

  @Test
  void aWorkerWhoseStepFailsIsSlashedAndTheJobInvalid() {
    setUp(13);
    Leaves lie = Leaves.of(13, 6, "lie");
    // The worker committed the lie; the challenger has the honest trace.
    f = new OptimisticFixture().withMarket();
    job = f.settledJob(Optional.empty());
    f.referee.modelSteps = 13;
    f.commit(job, lie.root(), 13);
    f.advance(2);
    Address attester = f.state.sample(job).orElseThrow().verifiers().get(0);
    var signer = List.of(V1, V2, V3).stream().filter(s -> s.address().equals(attester)).findFirst().orElseThrow();
    f.ok(signer, new Action.Attest(job, lie.root()));
    long attesterStake = f.state.stake(attester).bonded();
    long aliceBefore = f.state.account(ALICE.address()).balance();
    long bobBefore = f.state.account(BOB.address()).balance();
    long burnedBefore = f.state.supply().burned();
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, honest.root(), 13)).created().orElseThrow();
    int rounds = bisectToTheEnd(d, lie, honest);
    assertEquals(6, f.dispute(d).step());
    f.referee.stepHolds = false;
    f.ok(WORKER, new Action.ProveStep(d, new byte[] {1}));
    StateRecord.Dispute done = f.dispute(d);
    assertEquals(Phase.CHALLENGER_WON, done.phase());
    assertTrue(done.verdict().contains("recomputes to another output"), done.verdict());
    assertEquals(Status.INVALID, f.job(job).status());
    assertEquals(2_500, f.state.stake(WORKER.address()).bonded(), "slashBps 50%");
    assertEquals(attesterStake / 2, f.state.stake(attester).bonded(), "the attester of the wrong root is slashed");
    long charged = f.job(job).charged();
    assertEquals(aliceBefore + charged + OptimisticFixture.VERIFIERS_PER_SAMPLE * CHECK_FEE,
        f.state.account(ALICE.address()).balance(), "client refunded its charge and the check pool");
    long workerReward = (2_500 - charged) / 2;
    long attesterReward = (attesterStake / 2) / 2;
    assertEquals(bobBefore - (1 + rounds) + workerReward + attesterReward, f.state.account(BOB.address()).balance(),
        "the challenger gets its bond back and its rewards, having paid its fees");
    assertTrue(f.state.supply().burned() > burnedBefore);
    assertEquals(2_500 + attesterStake / 2, done.slashed());
    f.assertConserved();
    // Every further move is refused; the job stays invalid.
    f.rejected(WRONG_STATE, WORKER, new Action.ProveStep(d, new byte[] {1}));
    f.rejected(WRONG_STATE, BOB, new Action.Timeout(d));
    f.rejected(WRONG_STATE, BOB, new Action.Finalize(job));
  }

  @Test
  void eachBadMoveIsRefusedWithAReasonAndNoStateChange() throws TransactionRejected {
    setUp(8);
    Leaves lie = Leaves.of(8, 3, "lie");
    f.rejected(NOT_AUTHORIZED, WORKER, new Action.Challenge(job, 300, lie.root(), 8));
    f.rejected(INVALID_ARGUMENT, BOB, new Action.Challenge(job, 99, lie.root(), 8));
    f.rejected(INSUFFICIENT_FUNDS, BOB, new Action.Challenge(job, Long.MAX_VALUE, lie.root(), 8));
    assertThrows(DecodingException.class, () -> new Action.Challenge(job, 0, lie.root(), 8));
    assertThrows(DecodingException.class, () -> new Action.Challenge(job, -5, lie.root(), 8));
    assertThrows(DecodingException.class, () -> new Action.Challenge(job, 300, lie.root(), 0));
    f.rejected(INVALID_ARGUMENT, BOB, new Action.Challenge(job, 300, honest.root(), 7));
    f.rejected(NOT_FOUND, BOB, new Action.Challenge(Hash.of(new byte[3]), 300, lie.root(), 8));
    VerifiedTransaction challenge = f.tx(BOB, new Action.Challenge(job, 300, lie.root(), 8));
    Hash d = f.apply(challenge).created().orElseThrow();
    f.rejected(BAD_NONCE, challenge);
    f.rejected(ALREADY_EXISTS, BOB, new Action.Challenge(job, 300, lie.root(), 8));
    // Wrong turn, non-party, wrong phase, wrong hashes.
    f.rejected(NOT_AUTHORIZED, BOB, lie.bisect(d, f.dispute(d)));
    f.rejected(NOT_AUTHORIZED, CAROL, honest.bisect(d, f.dispute(d)));
    f.rejected(WRONG_STATE, WORKER, new Action.ProveStep(d, new byte[] {1}));
    f.rejected(INVALID_ARGUMENT, WORKER, lie.bisect(d, f.dispute(d)));
    f.rejected(INVALID_ARGUMENT, WORKER, new Action.Bisect(d, honest.subtree(0, 4), honest.subtree(0, 4)));
    f.rejected(NOT_FOUND, WORKER, new Action.Bisect(Hash.of(new byte[4]), honest.subtree(0, 4), honest.subtree(4, 8)));
    f.rejected(WRONG_STATE, BOB, new Action.Timeout(d));
    assertThrows(DecodingException.class, () -> new Action.ProveStep(d, new byte[0]));
    assertThrows(DecodingException.class,
        () -> new Action.ProveStep(d, new byte[Action.ProveStep.MAX_OPENING_BYTES + 1]));
    f.ok(WORKER, honest.bisect(d, f.dispute(d)));
    f.rejected(NOT_AUTHORIZED, WORKER, honest.bisect(d, f.dispute(d)));
    f.rejected(INVALID_ARGUMENT, BOB, honest.bisect(d, f.dispute(d)));
    // Late moves.
    f.time += MOVE_MILLIS + 1;
    f.rejected(WRONG_STATE, BOB, lie.bisect(d, f.dispute(d)));
    f.assertConserved();
  }

  @Test
  void aPartyThatStallsLosesByTimeout() {
    setUp(8);
    Leaves lie = Leaves.of(8, 2, "lie");
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), 8)).created().orElseThrow();
    f.time += MOVE_MILLIS;
    f.rejected(WRONG_STATE, CAROL, new Action.Timeout(d));
    f.time += 1;
    f.ok(CAROL, new Action.Timeout(d));
    assertEquals(Phase.CHALLENGER_WON, f.dispute(d).phase(), "the worker did not bisect");
    assertTrue(f.dispute(d).verdict().startsWith("timeout"), f.dispute(d).verdict());
    assertEquals(Status.INVALID, f.job(job).status());
    f.assertConserved();

    setUp(8);
    d = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), 8)).created().orElseThrow();
    f.ok(WORKER, honest.bisect(d, f.dispute(d)));
    long workerBefore = f.state.account(WORKER.address()).balance();
    f.time += MOVE_MILLIS + 1;
    f.ok(WORKER, new Action.Timeout(d));
    assertEquals(Phase.WORKER_WON, f.dispute(d).phase(), "the challenger did not bisect");
    assertEquals(workerBefore - 1 + 300, f.state.account(WORKER.address()).balance());
    assertEquals(Status.SETTLED, f.job(job).status());
    f.assertConserved();
  }

  @Test
  void aWrongStepCountIsRuledAtOnceFromTheModel() {
    setUp(8);
    f.referee.modelSteps = 9;
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, Leaves.of(9, 9, "-").root(), 9)).created().orElseThrow();
    assertEquals(Phase.CHALLENGER_WON, f.dispute(d).phase());
    assertEquals(Status.INVALID, f.job(job).status());
    f.assertConserved();

    setUp(8);
    d = f.ok(BOB, new Action.Challenge(job, 300, Leaves.of(9, 9, "-").root(), 9)).created().orElseThrow();
    assertEquals(Phase.WORKER_WON, f.dispute(d).phase());
    assertEquals(Status.SETTLED, f.job(job).status());
    assertEquals(0, f.state.check(job).orElseThrow().openDisputes());
    f.referee.unavailable = true;
    f.rejected(REFEREE_UNAVAILABLE, CAROL, new Action.Challenge(job, 300, Leaves.of(9, 9, "-").root(), 9));
    f.assertConserved();
  }

  @Test
  void outputsThatDifferFromTheTraceAreProvenByOpeningTheOutputSteps() {
    setUp(8);
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, honest.root(), 8)).created().orElseThrow();
    assertEquals(StateRecord.Dispute.Claim.OUTPUTS, f.dispute(d).claim());
    assertEquals(Phase.WORKER_PROVE, f.dispute(d).phase());
    f.referee.unavailable = true;
    f.rejected(REFEREE_UNAVAILABLE, WORKER, new Action.ProveStep(d, new byte[] {1}));
    f.referee.unavailable = false;
    f.referee.outputsHold = false;
    f.ok(WORKER, new Action.ProveStep(d, new byte[] {1}));
    assertEquals(Phase.CHALLENGER_WON, f.dispute(d).phase());
    assertEquals(Status.INVALID, f.job(job).status());
    f.assertConserved();
  }

  @Test
  void anOpeningTooLargeForATransactionIsProvenByBlobAndRefusedUntilTheRefereeHoldsIt() {
    setUp(13);
    Leaves lie = Leaves.of(13, 6, "lie");
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), 13)).created().orElseThrow();
    bisectToTheEnd(d, honest, lie);
    assertEquals(Phase.WORKER_PROVE, f.dispute(d).phase());
    byte[] opening = new byte[Action.ProveStep.MAX_OPENING_BYTES + 1];
    opening[opening.length - 1] = 7;
    assertThrows(DecodingException.class, () -> new Action.ProveStep(d, opening), "too large to send inline");
    Cid blob = Cid.raw(opening);
    long movesBefore = f.dispute(d).moves();
    f.rejected(REFEREE_UNAVAILABLE, WORKER, new Action.ProveStepByBlob(d, blob));
    assertEquals(Phase.WORKER_PROVE, f.dispute(d).phase(), "a refused move decides nothing");
    assertEquals(movesBefore, f.dispute(d).moves());
    f.referee.openingBlobs.put(blob, opening);
    f.ok(WORKER, new Action.ProveStepByBlob(d, blob));
    assertArrayEquals(opening, f.referee.lastOpening, "the referee rules on the blob's bytes");
    assertEquals(6, f.referee.lastStep);
    assertEquals(Phase.WORKER_WON, f.dispute(d).phase());
    assertEquals(5_000, f.state.stake(WORKER.address()).bonded(), "an honest worker is never slashed");
    f.assertConserved();

    setUp(13);
    Hash d3 = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), 13)).created().orElseThrow();
    bisectToTheEnd(d3, honest, lie);
    f.referee.openingBlobs.put(blob, opening);
    f.referee.stepHolds = false;
    f.ok(WORKER, new Action.ProveStepByBlob(d3, blob));
    assertEquals(Phase.CHALLENGER_WON, f.dispute(d3).phase(), "a wrong step loses by blob as inline");
    f.assertConserved();
  }

  @Test
  void aSecondDisputeIsVoidedOnceTheJobIsInvalid() {
    setUp(8);
    Leaves lie = Leaves.of(8, 2, "lie");
    Hash first = f.ok(BOB, new Action.Challenge(job, 300, lie.root(), 8)).created().orElseThrow();
    Hash second = f.ok(CAROL, new Action.Challenge(job, 300, lie.root(), 8)).created().orElseThrow();
    assertEquals(2, f.state.check(job).orElseThrow().openDisputes());
    f.time += MOVE_MILLIS + 1;
    f.ok(BOB, new Action.Timeout(first));
    assertEquals(Status.INVALID, f.job(job).status());
    long carolBefore = f.state.account(CAROL.address()).balance();
    f.ok(CAROL, new Action.Timeout(second));
    assertEquals(Phase.VOID, f.dispute(second).phase());
    assertEquals(carolBefore - 1 + 300, f.state.account(CAROL.address()).balance());
    assertEquals(0, f.state.check(job).orElseThrow().openDisputes());
    f.assertConserved();
  }

  @Test
  void aRevealedPlantedJobSlashesItsAttesters() {
    f = new OptimisticFixture().withMarket();
    long nonce = f.state.account(ALICE.address()).nonce();
    Hash planted = Action.OpenJob.jobId(ALICE.address(), nonce);
    job = f.settledJob(Optional.of(Action.OpenJob.auditCommitment(SALT, planted)));
    assertEquals(planted, job);
    f.commit(job, Action.OpenJob.plantedRoot(SALT, job), 8);
    f.advance(2);
    List<Address> lazy = f.state.sample(job).orElseThrow().verifiers();
    for (Address a : lazy) {
      f.ok(List.of(V1, V2, V3).stream().filter(s -> s.address().equals(a)).findFirst().orElseThrow(),
          new Action.Attest(job, Action.OpenJob.plantedRoot(SALT, job)));
    }
    long[] stakes = lazy.stream().mapToLong(a -> f.state.stake(a).bonded()).toArray();
    f.rejected(WRONG_STATE, ALICE, new Action.Reveal(job, SALT));
    f.advance(5);
    f.rejected(NOT_AUTHORIZED, BOB, new Action.Reveal(job, SALT));
    f.rejected(INVALID_ARGUMENT, ALICE, new Action.Reveal(job, Hash.of(new byte[5])));
    f.rejected(WRONG_STATE, BOB, new Action.Finalize(job));
    long aliceBefore = f.state.account(ALICE.address()).balance();
    f.ok(ALICE, new Action.Reveal(job, SALT));
    assertEquals(Status.INVALID, f.job(job).status());
    long slashed = 0;
    for (int i = 0; i < lazy.size(); i++) {
      assertEquals(stakes[i] - stakes[i] / 2, f.state.stake(lazy.get(i)).bonded());
      slashed += stakes[i] / 2;
    }
    assertEquals(aliceBefore - 1 + slashed / 2, f.state.account(ALICE.address()).balance());
    f.rejected(WRONG_STATE, ALICE, new Action.Reveal(job, SALT));
    f.assertConserved();
  }

  @Test
  void aJobWithoutATraceCannotBeChallengedAndAnOptimisticOneCannotBeContested() {
    setUp(8);
    f.rejected(WRONG_STATE, BOB, new Action.Contest(job, 300, Optional.empty()));
    Hash plain = f.settledJob(Optional.empty());
    f.rejected(WRONG_STATE, BOB, new Action.Challenge(plain, 300, honest.root(), 8));
    f.rejected(WRONG_STATE, BOB, new Action.Finalize(plain));
    f.rejected(INVALID_ARGUMENT, WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
        dev.verity.core.Cid.raw(new byte[] {9}), Optional.of(new TraceCommitment(honest.root(), 8,
            OptimisticFixture.INPUTS, OptimisticFixture.OUTPUTS))))));
  }

  @Test
  void aChainWithoutOptimisticParametersRefusesTraceCommitments() {
    OptimisticFixture plain = new OptimisticFixture(Fixtures.genesisBuilder().optimistic(0, 0, 0, 0).build());
    plain.ok(Fixtures.OWNER, new Action.RegisterModel(Fixtures.MODEL, 10));
    plain.ok(WORKER, Fixtures.node().build());
    Hash j = plain.settledJob(Optional.empty());
    plain.rejected(INVALID_ARGUMENT, WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(j,
        dev.verity.core.Cid.raw(new byte[] {9}), Optional.of(new TraceCommitment(Hash.of(new byte[1]), 3,
            OptimisticFixture.INPUTS, OptimisticFixture.OUTPUTS))))));
    assertEquals(Fixtures.genesis().hash(), Fixtures.genesisBuilder().build().hash());
    assertNotEquals(plain.state.config().hash(), new OptimisticFixture().state.config().hash());
  }

  @Test
  void anInvalidJobIsProvableToALightClient() throws VerificationException {
    setUp(8);
    Hash d = f.ok(BOB, new Action.Challenge(job, 300, Leaves.of(8, 0, "x").root(), 8)).created().orElseThrow();
    f.time += MOVE_MILLIS + 1;
    f.ok(BOB, new Action.Timeout(d));
    StateProof p = f.state.prove(StateKey.job(job));
    p.verify(f.state.root());
    assertEquals(Status.INVALID, p.valueAs(StateRecord.Job.class).orElseThrow().status());
    StateProof dp = f.state.prove(StateKey.dispute(d));
    dp.verify(f.state.root());
    assertEquals(Phase.CHALLENGER_WON, dp.valueAs(StateRecord.Dispute.class).orElseThrow().phase());
  }
}
