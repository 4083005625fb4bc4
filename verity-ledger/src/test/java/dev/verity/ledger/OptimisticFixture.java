package dev.verity.ledger;

import static dev.verity.ledger.Fixtures.ALICE;
import static dev.verity.ledger.Fixtures.MODEL;
import static dev.verity.ledger.Fixtures.OWNER;
import static dev.verity.ledger.Fixtures.WORKER;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.core.merkle.MerkleTree;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Drives the state machine through optimistic jobs: one transaction per block, a simulated header
 * hash per block (seeds sampling) and a block time the test sets (dispute deadlines), with a
 * referee whose verdicts the test scripts.
 */
final class OptimisticFixture {
  static final Signer V1 = Fixtures.key(11);
  static final Signer V2 = Fixtures.key(12);
  static final Signer V3 = Fixtures.key(13);
  static final Signer CAROL = Fixtures.key(14);
  static final long MOVE_MILLIS = 1_000;
  static final long CHECK_FEE = 10;
  static final int VERIFIERS_PER_SAMPLE = 2;
  static final Cid INPUTS = Cid.raw("inputs".getBytes(StandardCharsets.UTF_8));
  static final Cid OUTPUTS = Cid.raw("outputs".getBytes(StandardCharsets.UTF_8));

  /** A referee whose answers the test sets; counts what it was asked. */
  static final class ScriptedReferee implements DisputeReferee {
    int modelSteps = 8;
    boolean stepHolds = true;
    boolean outputsHold = true;
    boolean unavailable;
    int calls;
    int lastStep = -1;
    byte[] lastOpening;
    /** Openings the referee can read by blob CID. */
    final java.util.Map<Cid, byte[]> openingBlobs = new java.util.HashMap<>();

    @Override
    public byte[] openingBlob(Cid cid) throws Unavailable {
      byte[] b = openingBlobs.get(cid);
      if (b == null) {
        throw new Unavailable("no opening blob " + cid);
      }
      return b;
    }

    @Override
    public int steps(Cid model) throws Unavailable {
      if (unavailable) {
        throw new Unavailable("model blob missing");
      }
      return modelSteps;
    }

    @Override
    public void verifyStep(Cid model, TraceCommitment trace, int step, byte[] opening)
        throws VerificationException, Unavailable {
      if (unavailable) {
        throw new Unavailable("inputs blob missing");
      }
      calls++;
      lastStep = step;
      lastOpening = opening;
      if (!stepHolds) {
        throw new VerificationException("step " + step + " recomputes to another output");
      }
    }

    @Override
    public void verifyOutputs(Cid model, TraceCommitment trace, byte[] opening)
        throws VerificationException, Unavailable {
      if (unavailable) {
        throw new Unavailable("outputs blob missing");
      }
      calls++;
      lastOpening = opening;
      if (!outputsHold) {
        throw new VerificationException("output 'y' differs from the trace");
      }
    }
  }

  /** A claimed trace: its leaves and, for bisection, the hash of any subtree. */
  static final class Leaves {
    final List<byte[]> leaves;

    Leaves(List<byte[]> leaves) {
      this.leaves = List.copyOf(leaves);
    }

    /** {@code n} leaves; from {@code divergeAt} on they carry {@code tag}. */
    static Leaves of(int n, int divergeAt, String tag) {
      List<byte[]> l = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        l.add(((i >= divergeAt ? tag : "honest") + " step " + i).getBytes(StandardCharsets.UTF_8));
      }
      return new Leaves(l);
    }

    Hash root() {
      return MerkleTree.ofLeaves(leaves).root();
    }

    int size() {
      return leaves.size();
    }

    Hash subtree(int from, int to) {
      if (to - from == 1) {
        return MerkleTree.leafHash(leaves.get(from));
      }
      int k = Integer.highestOneBit(to - from - 1);
      return BlockExecution.nodeHash(subtree(from, from + k), subtree(from + k, to));
    }

    Action.Bisect bisect(Hash dispute, StateRecord.Dispute d) {
      int k = Integer.highestOneBit(d.to() - d.from() - 1);
      return new Action.Bisect(dispute, subtree(d.from(), d.from() + k), subtree(d.from() + k, d.to()));
    }
  }

  LedgerState state;
  long time = 1_700_000_000_000L;
  final ScriptedReferee referee = new ScriptedReferee();

  OptimisticFixture() {
    this(Fixtures.genesisBuilder()
        .allocate(V1.address(), Fixtures.START)
        .allocate(V2.address(), Fixtures.START)
        .allocate(V3.address(), Fixtures.START)
        .allocate(CAROL.address(), Fixtures.START)
        .optimistic(1_000_000, VERIFIERS_PER_SAMPLE, CHECK_FEE, MOVE_MILLIS)
        .build());
  }

  OptimisticFixture(GenesisConfig genesis) {
    state = LedgerState.genesis(genesis);
  }

  /** The simulated hash of the header of block {@code height}. */
  static Hash headerHash(long height) {
    return Hash.tagged("test/header", ByteBuffer.allocate(8).putLong(height).array());
  }

  VerifiedTransaction tx(Signer s, long nonce, Action a) {
    Transaction t = new Transaction(state.config().chainId(), s.publicKey(), nonce, 1, a);
    return new VerifiedTransaction(SignedTransaction.of(t, new byte[64]));
  }

  VerifiedTransaction tx(Signer s, Action a) {
    return tx(s, state.account(s.address()).nonce(), a);
  }

  private BlockExecution begin() {
    return state.begin(state.height() + 1, headerHash(state.height()), time, referee);
  }

  Committed apply(VerifiedTransaction t) throws TransactionRejected {
    BlockExecution e = begin();
    Committed c = e.apply(t);
    state = e.finish();
    return c;
  }

  Committed ok(Signer s, Action a) {
    try {
      return apply(tx(s, a));
    } catch (TransactionRejected e) {
      throw new AssertionError("unexpected rejection: " + e.getMessage(), e);
    }
  }

  /**
   * Applies, expecting a rejection with {@code reason}; checks the block's state equals that of the
   * same block without the transaction.
   */
  TransactionRejected rejected(TransactionRejected.Reason reason, VerifiedTransaction t) {
    LedgerState empty = begin().finish();
    BlockExecution e = begin();
    try {
      e.apply(t);
    } catch (TransactionRejected r) {
      if (!e.finish().root().equals(empty.root())) {
        throw new AssertionError("rejected transaction changed the state: " + r.getMessage());
      }
      if (r.reason() != reason) {
        throw new AssertionError("expected " + reason + " but was " + r.getMessage(), r);
      }
      return r;
    }
    throw new AssertionError("expected rejection " + reason + " for " + t.tx().action());
  }

  TransactionRejected rejected(TransactionRejected.Reason reason, Signer s, Action a) {
    return rejected(reason, tx(s, a));
  }

  void advance(int blocks) {
    for (int i = 0; i < blocks; i++) {
      state = begin().finish();
    }
  }

  /** Model, worker, three verifiers (stakes 1000, 2000, 3000). */
  OptimisticFixture withMarket() {
    ok(OWNER, new Action.RegisterModel(MODEL, 10));
    ok(WORKER, Fixtures.node().stake(5_000).build());
    ok(V1, Fixtures.node().roles(NodeRole.VERIFIER).stake(1_000).build());
    ok(V2, Fixtures.node().roles(NodeRole.VERIFIER).stake(2_000).build());
    ok(V3, Fixtures.node().roles(NodeRole.VERIFIER).stake(3_000).build());
    return this;
  }

  /** Opens and settles a job of ALICE served by WORKER; returns its id. */
  Hash settledJob(Optional<Hash> audit) {
    long nonce = state.account(ALICE.address()).nonce();
    Hash job = ok(ALICE, new Action.OpenJob(MODEL, Optional.of(WORKER.address()), 1, 500, 0, audit))
        .created().orElseThrow();
    if (!job.equals(Action.OpenJob.jobId(ALICE.address(), nonce))) {
      throw new AssertionError("job id");
    }
    ok(WORKER, new Action.SettleJob(job, 1, 200, List.of()));
    return job;
  }

  /** Commits {@code root} with {@code steps} for {@code job}; returns the commitment's height. */
  long commit(Hash job, Hash root, int steps) {
    ok(WORKER, new Action.CommitReceipts(List.of(new Action.CommitReceipts.Entry(job,
        Cid.raw(("receipt of " + job).getBytes(StandardCharsets.UTF_8)),
        Optional.of(new TraceCommitment(root, steps, INPUTS, OUTPUTS))))));
    return state.height();
  }

  StateRecord.Dispute dispute(Hash id) {
    return state.dispute(id).orElseThrow();
  }

  StateRecord.Job job(Hash id) {
    return state.job(id).orElseThrow();
  }

  /** Money is conserved: minted - burned equals everything held. */
  void assertConserved() {
    if (state.supply().total() != state.heldTotal()) {
      throw new AssertionError("supply " + state.supply().total() + " but " + state.heldTotal() + " held");
    }
  }
}
