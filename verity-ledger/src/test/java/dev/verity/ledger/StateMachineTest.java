package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.AUTHORITY;
import static dev.verity.ledger.Fixtures.BOB;
import static dev.verity.ledger.Fixtures.MODEL;
import static dev.verity.ledger.Fixtures.OWNER;
import static dev.verity.ledger.Fixtures.START;
import static dev.verity.ledger.Fixtures.TREASURY;
import static dev.verity.ledger.Fixtures.VERIFIER;
import static dev.verity.ledger.Fixtures.WORKER;
import static dev.verity.ledger.Fixtures.node;
import static dev.verity.ledger.TransactionRejected.Reason.ALREADY_EXISTS;
import static dev.verity.ledger.TransactionRejected.Reason.AMOUNT_OVERFLOW;
import static dev.verity.ledger.TransactionRejected.Reason.BAD_NONCE;
import static dev.verity.ledger.TransactionRejected.Reason.FAUCET_DISABLED;
import static dev.verity.ledger.TransactionRejected.Reason.FEE_TOO_LOW;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_FUNDS;
import static dev.verity.ledger.TransactionRejected.Reason.INSUFFICIENT_STAKE;
import static dev.verity.ledger.TransactionRejected.Reason.INVALID_ARGUMENT;
import static dev.verity.ledger.TransactionRejected.Reason.NOTHING_TO_WITHDRAW;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_AUTHORIZED;
import static dev.verity.ledger.TransactionRejected.Reason.NOT_FOUND;
import static dev.verity.ledger.TransactionRejected.Reason.STILL_UNBONDING;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_CHAIN;
import static dev.verity.ledger.TransactionRejected.Reason.WRONG_STATE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.StateRecord.Job;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StateMachineTest {
  private final Fixtures.Driver d = new Fixtures.Driver();

  private long balance(Signer s) {
    return d.state.account(s.address()).balance();
  }

  private Hash openJob(Signer client, Optional<dev.verity.core.crypto.Address> worker, int n, long maxFee) {
    return d.ok(client, new Action.OpenJob(MODEL, worker, n, maxFee)).created().orElseThrow();
  }

  private static Cid receipt(int i) {
    return Cid.raw(("receipt " + i).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void transferMovesAmountAndPaysFeeToTreasury() {
    Committed c = d.ok(ALICE, new Action.Transfer(BOB.address(), 250));
    assertEquals(START - 251, balance(ALICE));
    assertEquals(START + 250, balance(BOB));
    assertEquals(1, d.state.account(TREASURY).balance());
    assertEquals(1, d.state.account(ALICE.address()).nonce());
    assertEquals(1, c.height());
    assertEquals(0, c.index());
  }

  @Test
  void rejectsReplayOfCommittedSignedTransaction() throws Exception {
    Fixtures.Driver signed = new Fixtures.Driver(Fixtures.genesis(), true);
    VerifiedTransaction t = signed.tx(ALICE, new Action.Transfer(BOB.address(), 5));
    signed.apply(t);
    TransactionRejected r = signed.rejected(BAD_NONCE, t);
    assertTrue(r.getMessage().contains("already used"), r.getMessage());
  }

  @Test
  void rejectsNonceAheadOfAccount() {
    TransactionRejected r = d.rejected(BAD_NONCE, d.tx(ALICE, 3, 1, new Action.Transfer(BOB.address(), 5)));
    assertTrue(r.getMessage().contains("ahead"), r.getMessage());
  }

  @Test
  void rejectsTransactionForAnotherChain() {
    Transaction t = new Transaction("other-chain", ALICE.publicKey(), 0, 1, new Action.Transfer(BOB.address(), 5));
    d.rejected(WRONG_CHAIN, new VerifiedTransaction(t.sign(ALICE)));
  }

  @Test
  void rejectsFeeBelowMinimum() {
    d.rejected(FEE_TOO_LOW, d.tx(ALICE, 0, 0, new Action.Transfer(BOB.address(), 5)));
  }

  @Test
  void rejectsOverspendWithoutChangingState() {
    d.rejected(INSUFFICIENT_FUNDS, ALICE, new Action.Transfer(BOB.address(), START));
    assertEquals(START, balance(ALICE));
    assertEquals(0, d.state.account(ALICE.address()).nonce());
  }

  @Test
  void rejectsAmountsNearLongMaxValue() {
    d.rejected(INSUFFICIENT_FUNDS, ALICE, new Action.Transfer(BOB.address(), Long.MAX_VALUE));
    d.rejected(INSUFFICIENT_FUNDS, d.tx(ALICE, 0, Long.MAX_VALUE, new Action.Transfer(BOB.address(), 1)));
    d.rejected(INSUFFICIENT_FUNDS, ALICE, new Action.Stake(Long.MAX_VALUE));
    d.ok(OWNER, new Action.RegisterModel(MODEL, 10));
    d.rejected(INSUFFICIENT_FUNDS, ALICE, new Action.OpenJob(MODEL, Optional.empty(), 1, Long.MAX_VALUE));
  }

  @Test
  void rejectsRoyaltyProductOverflow() {
    d.ok(OWNER, new Action.RegisterModel(MODEL, Long.MAX_VALUE / 2));
    d.rejected(AMOUNT_OVERFLOW, ALICE, new Action.OpenJob(MODEL, Optional.empty(), 3, 100));
  }

  @Test
  void rejectsSettlementWhoseChargeOverflows() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    d.rejected(AMOUNT_OVERFLOW, WORKER, new Action.SettleJob(job, 1, Long.MAX_VALUE, List.of()));
    assertEquals(Job.Status.OPEN, d.state.job(job).orElseThrow().status());
  }

  @Test
  void rejectsFaucetMintThatWouldOverflowSupply() {
    Fixtures.Driver rich = new Fixtures.Driver(Fixtures.genesisBuilder().faucetMaxPerTx(Long.MAX_VALUE).build(), false);
    rich.rejected(AMOUNT_OVERFLOW, BOB, new Action.Faucet(Long.MAX_VALUE));
  }

  @Test
  void faucetMintsOnDevNetworkEvenForAnEmptyAccount() {
    Signer fresh = Fixtures.key(40);
    long supply = d.state.supply().total();
    d.ok(fresh, new Action.Faucet(500));
    assertEquals(499, d.state.account(fresh.address()).balance());
    assertEquals(supply + 500, d.state.supply().total());
  }

  @Test
  void rejectsFaucetOffDevNetworkAndAboveLimit() {
    Fixtures.Driver prod = new Fixtures.Driver(Fixtures.genesisBuilder().devNetwork(false).build(), false);
    prod.rejected(FAUCET_DISABLED, ALICE, new Action.Faucet(5));
    d.rejected(FAUCET_DISABLED, ALICE, new Action.Faucet(1_000_001));
  }

  @Test
  void rejectsUnstakingMoreThanStaked() {
    d.ok(ALICE, new Action.Stake(100));
    d.rejected(INSUFFICIENT_STAKE, ALICE, new Action.BeginUnstake(101));
    assertEquals(100, d.state.stake(ALICE.address()).bonded());
  }

  @Test
  void rejectsWithdrawBeforeUnbondingPeriodThenAllowsIt() {
    d.ok(ALICE, new Action.Stake(100));
    d.ok(ALICE, new Action.BeginUnstake(60));
    long release = d.state.stake(ALICE.address()).releaseHeight();
    assertEquals(d.state.height() + 10, release);
    TransactionRejected r = d.rejected(STILL_UNBONDING, ALICE, new Action.Withdraw());
    assertTrue(r.getMessage().contains("block " + release), r.getMessage());
    d.advance((int) (release - d.state.height() - 1));
    long before = balance(ALICE);
    d.ok(ALICE, new Action.Withdraw());
    assertEquals(before + 60 - 1, balance(ALICE));
    assertEquals(new StateRecord.Stake(40, 0, 0), d.state.stake(ALICE.address()));
  }

  @Test
  void rejectsWithdrawWithNothingUnbonding() {
    d.rejected(NOTHING_TO_WITHDRAW, ALICE, new Action.Withdraw());
  }

  @Test
  void nodeRegistrationNeedsMinimumStakeAndRegisteredModels() {
    d.rejected(NOT_FOUND, WORKER, node().build());
    d.ok(OWNER, new Action.RegisterModel(MODEL, 10));
    d.rejected(INSUFFICIENT_STAKE, WORKER, node().stake(999).build());
    d.ok(WORKER, node().build());
    assertEquals(1_000, d.state.stake(WORKER.address()).bonded());
    assertTrue(d.state.node(WORKER.address()).orElseThrow().serves(MODEL));
  }

  @Test
  void onlyTheGenesisSequencerClaimsTheSequencerRole() {
    d.rejected(NOT_AUTHORIZED, WORKER, node().roles(NodeRole.SEQUENCER).models().build());
  }

  @Test
  void heartbeatRecordsHeightAndNeedsANode() {
    d.rejected(NOT_FOUND, WORKER, new Action.Heartbeat());
    d.withMarket();
    d.advance(3);
    d.ok(WORKER, new Action.Heartbeat());
    assertEquals(d.state.height(), d.state.node(WORKER.address()).orElseThrow().lastHeartbeatHeight());
  }

  @Test
  void rejectsRegisteringAModelVersionTwice() {
    d.ok(OWNER, new Action.RegisterModel(MODEL, 10));
    d.rejected(ALREADY_EXISTS, BOB, new Action.RegisterModel(MODEL, 1));
    assertEquals(OWNER.address(), d.state.model(MODEL).orElseThrow().owner());
  }

  @Test
  void settlementPaysRoyaltyVerifierProtocolAndOperatorAndRefundsTheRest() {
    d.withMarket();
    long client = balance(ALICE);
    long owner = balance(OWNER);
    long worker = balance(WORKER);
    long verifier = balance(VERIFIER);
    long treasury = d.state.account(TREASURY).balance();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 3, 1_000);
    assertEquals(Action.OpenJob.jobId(ALICE.address(), 0), job);
    d.ok(WORKER, new Action.SettleJob(job, 2, 500, List.of(VERIFIER.address())));
    // royalty 2 x 10 = 20; operator fee 500: protocol 5% = 25, verifiers 10% = 50, operator 425.
    assertEquals(client - 1 - 1_000 + 480, balance(ALICE));
    assertEquals(owner + 20, balance(OWNER));
    assertEquals(worker - 1 + 425, balance(WORKER));
    assertEquals(verifier + 50, balance(VERIFIER));
    assertEquals(treasury + 2 + 25, d.state.account(TREASURY).balance());
    Job j = d.state.job(job).orElseThrow();
    assertEquals(Job.Status.SETTLED, j.status());
    assertEquals(520, j.charged());
  }

  @Test
  void rejectsSettlingSomeoneElsesJob() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    d.ok(BOB, new Action.RegisterNode("http://bob.example", java.util.Set.of(NodeRole.WORKER), List.of(MODEL), 1, 1_000));
    d.rejected(NOT_AUTHORIZED, BOB, new Action.SettleJob(job, 1, 10, List.of()));
    d.rejected(NOT_AUTHORIZED, ALICE, new Action.SettleJob(job, 1, 10, List.of()));
  }

  @Test
  void rejectsSettlingTwice() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    d.ok(WORKER, new Action.SettleJob(job, 1, 10, List.of()));
    TransactionRejected r = d.rejected(WRONG_STATE, WORKER, new Action.SettleJob(job, 1, 10, List.of()));
    assertTrue(r.getMessage().contains("settled"), r.getMessage());
  }

  @Test
  void rejectsSettlementAboveEscrowOrInferences() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 2, 100);
    d.rejected(INVALID_ARGUMENT, WORKER, new Action.SettleJob(job, 1, 91, List.of()));
    d.rejected(INVALID_ARGUMENT, WORKER, new Action.SettleJob(job, 3, 0, List.of()));
    d.rejected(INVALID_ARGUMENT, WORKER, new Action.SettleJob(job, 1, 5, List.of(BOB.address())));
    d.rejected(NOT_FOUND, WORKER, new Action.SettleJob(Hash.of(new byte[1]), 1, 5, List.of()));
  }

  @Test
  void rejectsJobWhoseEscrowDoesNotCoverRoyaltiesOrWhoseWorkerDoesNotServeTheModel() {
    d.withMarket();
    d.rejected(INVALID_ARGUMENT, ALICE, new Action.OpenJob(MODEL, Optional.empty(), 5, 49));
    d.rejected(INVALID_ARGUMENT, ALICE, new Action.OpenJob(MODEL, Optional.of(VERIFIER.address()), 1, 100));
    d.rejected(NOT_FOUND, ALICE, new Action.OpenJob(MODEL, Optional.of(BOB.address()), 1, 100));
    d.rejected(NOT_FOUND, ALICE, new Action.OpenJob(Cid.raw(new byte[] {9}), Optional.empty(), 1, 100));
  }

  @Test
  void anyRegisteredWorkerMaySettleAnOpenToAnyJob() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.empty(), 1, 100);
    d.rejected(NOT_AUTHORIZED, BOB, new Action.SettleJob(job, 1, 10, List.of()));
    d.ok(WORKER, new Action.SettleJob(job, 1, 10, List.of()));
    assertEquals(Optional.of(WORKER.address()), d.state.job(job).orElseThrow().worker());
  }

  @Test
  void workerFailsJobAndClientReclaimsOnlyAfterExpiry() {
    d.withMarket();
    Hash failed = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    long before = balance(ALICE);
    d.ok(WORKER, new Action.FailJob(failed));
    assertEquals(before + 100, balance(ALICE));
    d.rejected(WRONG_STATE, WORKER, new Action.SettleJob(failed, 1, 1, List.of()));

    Hash stale = openJob(ALICE, Optional.empty(), 1, 100);
    TransactionRejected r = d.rejected(NOT_AUTHORIZED, ALICE, new Action.FailJob(stale));
    assertTrue(r.getMessage().contains("from block"), r.getMessage());
    d.advance(20);
    d.ok(ALICE, new Action.FailJob(stale));
    assertEquals(Job.Status.FAILED, d.state.job(stale).orElseThrow().status());
  }

  @Test
  void workerCommitsReceiptsOncePerReceiptAndAtMostOnePerInference() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 2, 100);
    d.ok(WORKER, new Action.SettleJob(job, 2, 10, List.of()));
    var e1 = new Action.CommitReceipts.Entry(job, receipt(1));
    var e2 = new Action.CommitReceipts.Entry(job, receipt(2));
    var e3 = new Action.CommitReceipts.Entry(job, receipt(3));
    d.rejected(NOT_AUTHORIZED, BOB, new Action.CommitReceipts(List.of(e1)));
    d.ok(WORKER, new Action.CommitReceipts(List.of(e1)));
    d.rejected(ALREADY_EXISTS, WORKER, new Action.CommitReceipts(List.of(e1)));
    d.rejected(INVALID_ARGUMENT, WORKER, new Action.CommitReceipts(List.of(e2, e3)));
    d.ok(WORKER, new Action.CommitReceipts(List.of(e2)));
    assertEquals(2, d.state.job(job).orElseThrow().receipts());
    assertEquals(job, d.state.receipt(receipt(2)).orElseThrow().job());
  }

  @Test
  void guiltyVerdictSlashesRefundsRewardsAndBurns() {
    d.ok(OWNER, new Action.RegisterModel(MODEL, 10));
    d.ok(WORKER, node().stake(10_000).build());
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 3, 1_000);
    d.ok(WORKER, new Action.SettleJob(job, 2, 500, List.of()));
    long supply = d.state.supply().total();
    Hash challenge = d.ok(BOB, new Action.Contest(job, 200, Optional.empty())).created().orElseThrow();
    assertEquals(Job.Status.CHALLENGED, d.state.job(job).orElseThrow().status());
    long client = balance(ALICE);
    long bob = balance(BOB);
    d.rejected(NOT_AUTHORIZED, BOB, new Action.Resolve(challenge, true));
    d.ok(AUTHORITY, new Action.Resolve(challenge, true));
    // slashed 50% of 10_000 = 5_000: client refunded its 520, the other 4_480 split 50/50.
    assertEquals(client + 520, balance(ALICE));
    assertEquals(bob + 200 + 2_240, balance(BOB));
    assertEquals(5_000, d.state.stake(WORKER.address()).bonded());
    assertEquals(supply - 2_240, d.state.supply().total());
    assertEquals(Job.Status.INVALID, d.state.job(job).orElseThrow().status());
    assertEquals(StateRecord.Challenge.Status.UPHELD, d.state.challenge(challenge).orElseThrow().status());
    d.rejected(WRONG_STATE, AUTHORITY, new Action.Resolve(challenge, false));
  }

  @Test
  void innocentVerdictGivesTheBondToTheWorker() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    d.ok(WORKER, new Action.SettleJob(job, 1, 10, List.of()));
    Hash challenge = d.ok(BOB, new Action.Contest(job, 150, Optional.of(receipt(9)))).created().orElseThrow();
    long worker = balance(WORKER);
    d.ok(AUTHORITY, new Action.Resolve(challenge, false));
    assertEquals(worker + 150, balance(WORKER));
    assertEquals(Job.Status.SETTLED, d.state.job(job).orElseThrow().status());
  }

  @Test
  void rejectsChallengesOfUnsettledJobsLateChallengesAndSmallBonds() {
    d.withMarket();
    Hash job = openJob(ALICE, Optional.of(WORKER.address()), 1, 100);
    d.rejected(WRONG_STATE, BOB, new Action.Contest(job, 150, Optional.empty()));
    d.ok(WORKER, new Action.SettleJob(job, 1, 10, List.of()));
    d.rejected(INVALID_ARGUMENT, BOB, new Action.Contest(job, 99, Optional.empty()));
    d.advance(6);
    d.rejected(WRONG_STATE, BOB, new Action.Contest(job, 150, Optional.empty()));
    d.rejected(NOT_FOUND, AUTHORITY, new Action.Resolve(Hash.of(new byte[2]), true));
  }

  @Test
  void rejectedTransactionInsideABlockLeavesEarlierOnesApplied() throws Exception {
    BlockExecution e = d.state.begin(1);
    e.apply(d.tx(ALICE, 0, 1, new Action.Transfer(BOB.address(), 10)));
    assertThrows(TransactionRejected.class, () -> e.apply(d.tx(ALICE, 1, 1, new Action.Transfer(BOB.address(), START))));
    e.apply(d.tx(ALICE, 1, 1, new Action.Transfer(BOB.address(), 20)));
    LedgerState s = e.finish();
    assertEquals(START - 32, s.account(ALICE.address()).balance());
    assertEquals(2, e.included().size());
    assertThrows(IllegalStateException.class, () -> e.apply(d.tx(ALICE, 2, 1, new Action.Transfer(BOB.address(), 1))));
  }

  @Test
  void malformedActionsCannotBeConstructed() {
    assertThrows(IllegalArgumentException.class, () -> new Action.Transfer(BOB.address(), 0));
    assertThrows(IllegalArgumentException.class, () -> new Action.Transfer(BOB.address(), -5));
    assertThrows(IllegalArgumentException.class, () -> new Action.OpenJob(MODEL, Optional.empty(), 0, 10));
    assertThrows(IllegalArgumentException.class, () ->
        new Action.RegisterNode("ftp://x", java.util.Set.of(NodeRole.HUB), List.of(), 1, 0));
    assertThrows(IllegalArgumentException.class, () ->
        new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(Hash.of(new byte[0]), receipt(1)),
            new Action.CommitReceipts.Entry(Hash.of(new byte[1]), receipt(1)))));
    assertThrows(IllegalArgumentException.class, () ->
        new Transaction(Fixtures.CHAIN, ALICE.publicKey(), -1, 1, new Action.Withdraw()));
  }
}
