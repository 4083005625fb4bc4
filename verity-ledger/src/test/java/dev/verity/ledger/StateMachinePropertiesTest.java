package dev.verity.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants of the state machine over random sequences of transactions and blocks. */
class StateMachinePropertiesTest {
  private static final Signer[] ACTORS = {
    Fixtures.ALICE, Fixtures.BOB, Fixtures.WORKER, Fixtures.VERIFIER, Fixtures.OWNER, Fixtures.AUTHORITY,
    Fixtures.key(41)
  };
  private static final Cid[] MODELS = {
    Fixtures.MODEL, Cid.raw("model b".getBytes(StandardCharsets.UTF_8)), Cid.raw("model c".getBytes(StandardCharsets.UTF_8))
  };

  enum Kind {
    TRANSFER, STAKE, UNSTAKE, WITHDRAW, REGISTER_NODE, HEARTBEAT, REGISTER_MODEL, OPEN_JOB, SETTLE_JOB,
    FAIL_JOB, COMMIT_RECEIPTS, CHALLENGE, RESOLVE, FAUCET, ADVANCE
  }

  /** One random step: who does what, with which numbers; {@code newBlock} starts a new block first. */
  record Intent(int actor, Kind kind, long amount, int target, int pick, boolean newBlock) {}

  @Provide
  Arbitrary<List<Intent>> workloads() {
    Arbitrary<Long> amounts = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, 2_000)),
        net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(1, 3_000_000)),
        net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(Long.MAX_VALUE - 10, Long.MAX_VALUE)));
    Arbitrary<Intent> intent = Combinators.combine(
        Arbitraries.integers().between(0, ACTORS.length - 1),
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(3, Arbitraries.of(Kind.class)),
            net.jqwik.api.Tuple.of(4, Arbitraries.of(Kind.OPEN_JOB, Kind.SETTLE_JOB, Kind.COMMIT_RECEIPTS,
                Kind.CHALLENGE, Kind.RESOLVE, Kind.FAIL_JOB))),
        amounts,
        Arbitraries.integers().between(0, 1_000),
        Arbitraries.integers().between(0, 1_000),
        Arbitraries.integers().between(0, 3).map(i -> i == 0))
        .as(Intent::new);
    return intent.list().ofMinSize(5).ofMaxSize(100)
        .withSizeDistribution(net.jqwik.api.RandomDistribution.uniform());
  }

  /** What running a workload produced. */
  record Run(List<Hash> roots, List<VerifiedTransaction> accepted, List<String> outcomes, LedgerState state) {}

  /** Runs the market prelude and then the intents, checking invariants after every block. */
  static Run run(List<Intent> intents, boolean signed) {
    Fixtures.Driver d = new Fixtures.Driver(Fixtures.genesis(), signed);
    d.withMarket();
    List<Hash> roots = new ArrayList<>();
    List<VerifiedTransaction> accepted = new ArrayList<>();
    List<String> outcomes = new ArrayList<>();
    List<Hash> jobs = new ArrayList<>();
    List<Hash> challenges = new ArrayList<>();
    int[] receipts = {0};

    BlockExecution exec = null;
    List<VerifiedTransaction> blockAccepted = new ArrayList<>();
    LedgerState blockStart = d.state;
    long mintedInBlock = 0;
    boolean guiltyInBlock = false;
    for (Intent in : intents) {
      if (exec != null && (in.newBlock() || in.kind() == Kind.ADVANCE)) {
        closeBlock(d, exec, blockStart, blockAccepted, mintedInBlock, guiltyInBlock, roots);
        exec = null;
      }
      if (in.kind() == Kind.ADVANCE) {
        d.advance(1 + in.target() % 12);
        roots.add(d.state.root());
        continue;
      }
      if (exec == null) {
        blockStart = d.state;
        exec = d.state.begin(d.state.height() + 1);
        blockAccepted.clear();
        mintedInBlock = 0;
        guiltyInBlock = false;
      }
      Signer s = actor(in);
      Action action = action(in, d.state, jobs, challenges, receipts);
      long nonce = nonceOf(d, exec, blockAccepted, s);
      if (in.pick() % 13 == 0) {
        nonce = in.pick() % 2 == 0 ? nonce + 1 : Math.max(0, nonce - 1);
      }
      long fee = in.pick() % 17 == 0 ? 0 : in.pick() % 19 == 0 ? in.amount() : 1;
      VerifiedTransaction tx = d.tx(s, nonce, fee, action);
      try {
        Committed c = exec.apply(tx);
        accepted.add(tx);
        blockAccepted.add(tx);
        outcomes.add("ok " + c.index() + " " + c.created());
        if (action instanceof Action.Faucet f) {
          mintedInBlock += f.amount();
        }
        if (action instanceof Action.Resolve r && r.guilty()) {
          guiltyInBlock = true;
        }
        c.created().ifPresent(id -> (action instanceof Action.OpenJob ? jobs : challenges).add(id));
      } catch (TransactionRejected r) {
        outcomes.add(r.reason().name());
      }
    }
    if (exec != null) {
      closeBlock(d, exec, blockStart, blockAccepted, mintedInBlock, guiltyInBlock, roots);
    }
    return new Run(roots, accepted, outcomes, d.state);
  }

  private static long nonceOf(Fixtures.Driver d, BlockExecution exec, List<VerifiedTransaction> inBlock, Signer s) {
    long n = d.state.account(s.address()).nonce();
    for (VerifiedTransaction t : inBlock) {
      if (t.sender().equals(s.address())) {
        n++;
      }
    }
    return n;
  }

  private static void closeBlock(Fixtures.Driver d, BlockExecution exec, LedgerState start,
      List<VerifiedTransaction> blockAccepted, long minted, boolean guilty, List<Hash> roots) {
    LedgerState next = exec.finish();
    // Rejected transactions left no trace: applying only the accepted ones gives the same state.
    BlockExecution again = start.begin(start.height() + 1);
    for (VerifiedTransaction t : blockAccepted) {
      try {
        again.apply(t);
      } catch (TransactionRejected e) {
        fail("an accepted transaction was rejected on re-execution: " + e.getMessage());
      }
    }
    assertEquals(next.root(), again.finish().root(), "rejected transactions changed the state");
    // Supply: minted only by the faucet, burned only by guilty verdicts, and always held somewhere.
    assertEquals(start.supply().minted() + minted, next.supply().minted());
    if (!guilty) {
      assertEquals(start.supply().burned(), next.supply().burned());
    }
    assertEquals(next.supply().total(), next.heldTotal(), "money appeared or vanished");
    next.forEach(r -> {
      switch (r) {
        case StateRecord.Account a -> assertTrue(a.balance() >= 0 && a.nonce() >= 0);
        case StateRecord.Stake st -> assertTrue(st.bonded() >= 0 && st.unbonding() >= 0);
        case StateRecord.Job j -> assertTrue(j.escrow() >= 0 && j.charged() <= j.escrow());
        default -> { }
      }
    });
    d.state = next;
    roots.add(next.root());
  }

  /** Mostly the actor whose role fits the action, sometimes anyone (to exercise authorisation). */
  private static Signer actor(Intent in) {
    if (in.pick() % 5 == 0) {
      return ACTORS[in.actor()];
    }
    return switch (in.kind()) {
      case SETTLE_JOB, COMMIT_RECEIPTS, HEARTBEAT -> Fixtures.WORKER;
      case RESOLVE -> Fixtures.AUTHORITY;
      case OPEN_JOB, CHALLENGE -> in.actor() % 2 == 0 ? Fixtures.ALICE : Fixtures.BOB;
      default -> ACTORS[in.actor()];
    };
  }

  /** A job in the wanted status if there is one (as of the block's start), else any. */
  private static Hash pickJob(List<Hash> jobs, LedgerState state, StateRecord.Job.Status wanted, int pick) {
    if (jobs.isEmpty()) {
      return Hash.of(new byte[] {1});
    }
    for (int i = 0; i < jobs.size(); i++) {
      Hash id = jobs.get((pick + i) % jobs.size());
      if (state.job(id).map(j -> j.status() == wanted).orElse(false)) {
        return id;
      }
    }
    return jobs.get(pick % jobs.size());
  }

  private static Action action(Intent in, LedgerState state, List<Hash> jobs, List<Hash> challenges, int[] receipts) {
    long a = in.amount();
    StateRecord.Job.Status wanted = switch (in.kind()) {
      case CHALLENGE, COMMIT_RECEIPTS -> StateRecord.Job.Status.SETTLED;
      default -> StateRecord.Job.Status.OPEN;
    };
    Hash job = in.target() % 7 == 0 && !jobs.isEmpty()
        ? jobs.get(in.target() % jobs.size()) : pickJob(jobs, state, wanted, in.target());
    Cid model = MODELS[in.pick() % 4 == 0 ? in.pick() % MODELS.length : 0];
    Address other = ACTORS[in.target() % ACTORS.length].address();
    return switch (in.kind()) {
      case TRANSFER -> new Action.Transfer(other, a);
      case STAKE -> new Action.Stake(a);
      case UNSTAKE -> new Action.BeginUnstake(a);
      case WITHDRAW -> new Action.Withdraw();
      case REGISTER_NODE -> new Action.RegisterNode("https://n" + in.target() + ".example",
          in.pick() % 2 == 0 ? Set.of(NodeRole.WORKER) : Set.of(NodeRole.VERIFIER, NodeRole.HUB),
          List.of(model), 1 + in.target(), a % 3_000);
      case HEARTBEAT -> new Action.Heartbeat();
      case REGISTER_MODEL -> new Action.RegisterModel(model, a % 100);
      case OPEN_JOB -> new Action.OpenJob(model,
          in.pick() % 2 == 0 ? Optional.of(Fixtures.WORKER.address()) : Optional.empty(), 1 + in.target() % 4,
          in.pick() % 3 == 0 ? a : 100 + a % 2_000);
      case SETTLE_JOB -> new Action.SettleJob(job, 1 + in.pick() % 2, in.pick() % 3 == 0 ? a : a % 500,
          in.pick() % 3 == 0 ? List.of(Fixtures.VERIFIER.address()) : List.of());
      case FAIL_JOB -> new Action.FailJob(job);
      case COMMIT_RECEIPTS -> new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
          Cid.raw(("receipt " + receipts[0]++).getBytes(StandardCharsets.UTF_8)))));
      case CHALLENGE -> new Action.Contest(job, in.pick() % 3 == 0 ? a : 100 + a % 1_000, Optional.empty());
      case RESOLVE -> new Action.Resolve(
          challenges.isEmpty() ? Hash.of(new byte[] {2}) : challenges.get(in.target() % challenges.size()),
          in.pick() % 2 == 0);
      case FAUCET -> new Action.Faucet(a);
      case ADVANCE -> throw new AssertionError("not a transaction");
    };
  }

  @Property(tries = 250)
  void supplyIsConservedExceptMintAndSlashAndNothingGoesNegative(@ForAll("workloads") List<Intent> intents) {
    Run r = run(intents, false); // the checks run after every block
    for (VerifiedTransaction t : r.accepted()) {
      net.jqwik.api.statistics.Statistics.label("accepted").collect(t.tx().action().type());
    }
    for (String o : r.outcomes()) {
      net.jqwik.api.statistics.Statistics.label("outcome").collect(o.startsWith("ok") ? "ok" : o);
    }
  }

  @Property(tries = 80)
  void sameTransactionsGiveTheSameRootsOnEveryRun(@ForAll("workloads") List<Intent> intents) {
    Run first = run(intents, false);
    Run second = run(intents, false);
    assertEquals(first.roots(), second.roots());
    assertEquals(first.outcomes(), second.outcomes());
  }

  @Property(tries = 15)
  void replayingAnyAcceptedSignedTransactionIsRejected(@ForAll("workloads") List<Intent> intents) throws Exception {
    Run run = run(intents, true);
    LedgerState s = run.state();
    BlockExecution e = s.begin(s.height() + 1);
    for (VerifiedTransaction t : run.accepted()) {
      VerifiedTransaction again = t.signed().verify();
      try {
        e.apply(again);
        fail("replayed transaction " + t + " was accepted");
      } catch (TransactionRejected r) {
        assertEquals(TransactionRejected.Reason.BAD_NONCE, r.reason(), r.getMessage());
      }
    }
    assertEquals(s.root(), e.finish().root());
  }
}
