package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Deterministic keys, a genesis and helpers shared by the ledger tests. */
final class Fixtures {
  static final Signer SEQUENCER = key(1);
  static final Signer AUTHORITY = key(2);
  static final Signer ALICE = key(3);
  static final Signer BOB = key(4);
  static final Signer WORKER = key(5);
  static final Signer VERIFIER = key(6);
  static final Signer OWNER = key(7);
  static final Address TREASURY = key(8).address();
  static final String CHAIN = "verity-test";
  static final Cid MODEL = Cid.raw("model manifest v1".getBytes(StandardCharsets.UTF_8));
  static final long START = 1_000_000;

  private Fixtures() {}

  static Signer key(int n) {
    byte[] seed = new byte[32];
    java.nio.ByteBuffer.wrap(seed).putInt(n);
    seed[31] = 7;
    return Signer.fromSeed(seed);
  }

  static GenesisConfig.Builder genesisBuilder() {
    return GenesisConfig.builder(CHAIN)
        .devNetwork(true)
        .genesisTime(1_700_000_000_000L)
        .sequencer(SEQUENCER.publicKey())
        .authority(AUTHORITY.publicKey())
        .treasury(TREASURY)
        .allocate(ALICE.address(), START)
        .allocate(BOB.address(), START)
        .allocate(WORKER.address(), START)
        .allocate(VERIFIER.address(), START)
        .allocate(OWNER.address(), START)
        .allocate(AUTHORITY.address(), START)
        .minFee(1)
        .unbondingBlocks(10)
        .challengeWindowBlocks(5)
        .minNodeStake(1_000)
        .jobTimeoutBlocks(20)
        .shares(1_000, 500)
        .slashing(5_000, 5_000, 100)
        .faucetMaxPerTx(1_000_000);
  }

  static GenesisConfig genesis() {
    return genesisBuilder().build();
  }

  static RegisterNodeBuilder node() {
    return new RegisterNodeBuilder();
  }

  /** Readable construction of node registrations in tests. */
  static final class RegisterNodeBuilder {
    private Set<NodeRole> roles = Set.of(NodeRole.WORKER);
    private List<Cid> models = List.of(MODEL);
    private long stake = 1_000;

    RegisterNodeBuilder roles(NodeRole... r) {
      roles = Set.of(r);
      return this;
    }

    RegisterNodeBuilder models(Cid... m) {
      models = List.of(m);
      return this;
    }

    RegisterNodeBuilder stake(long s) {
      stake = s;
      return this;
    }

    Action.RegisterNode build() {
      return new Action.RegisterNode("https://node.example:8443/v1", roles, models, 4, stake);
    }
  }

  /**
   * Drives the state machine directly: each {@link #apply} runs one block holding one transaction.
   * Signs for real unless built with {@code signed = false} (then the state machine is fed
   * transactions whose signatures were never made, which it cannot tell: signatures are checked
   * before it).
   */
  static final class Driver {
    LedgerState state;
    final boolean signed;
    final Map<Address, Long> nonces = new HashMap<>();

    Driver(GenesisConfig genesis, boolean signed) {
      this.state = LedgerState.genesis(genesis);
      this.signed = signed;
    }

    Driver() {
      this(genesis(), false);
    }

    long nextNonce(Signer s) {
      return state.account(s.address()).nonce();
    }

    VerifiedTransaction tx(Signer s, long nonce, long fee, Action a) {
      Transaction t = new Transaction(state.config().chainId(), s.publicKey(), nonce, fee, a);
      if (signed) {
        try {
          return t.sign(s).verify();
        } catch (dev.verity.core.VerificationException e) {
          throw new AssertionError(e);
        }
      }
      return new VerifiedTransaction(SignedTransaction.of(t, new byte[64]));
    }

    VerifiedTransaction tx(Signer s, Action a) {
      return tx(s, nextNonce(s), 1, a);
    }

    Committed apply(VerifiedTransaction t) throws TransactionRejected {
      BlockExecution e = state.begin(state.height() + 1);
      Committed c = e.apply(t);
      state = e.finish();
      return c;
    }

    Committed apply(Signer s, Action a) throws TransactionRejected {
      return apply(tx(s, a));
    }

    /** Applies and fails the test on rejection. */
    Committed ok(Signer s, Action a) {
      try {
        return apply(s, a);
      } catch (TransactionRejected e) {
        throw new AssertionError("unexpected rejection: " + e.getMessage(), e);
      }
    }

    /** Applies, expecting a rejection with {@code reason}, and checks the state did not change. */
    TransactionRejected rejected(TransactionRejected.Reason reason, VerifiedTransaction t) {
      LedgerState before = state;
      BlockExecution e = state.begin(state.height() + 1);
      try {
        e.apply(t);
      } catch (TransactionRejected r) {
        LedgerState after = e.finish();
        if (!after.root().equals(before.root())) {
          throw new AssertionError("rejected transaction changed the state: " + r.getMessage());
        }
        if (r.reason() != reason) {
          throw new AssertionError("expected " + reason + " but was " + r.getMessage(), r);
        }
        return r;
      }
      throw new AssertionError("expected rejection " + reason + " for " + t);
    }

    TransactionRejected rejected(TransactionRejected.Reason reason, Signer s, Action a) {
      return rejected(reason, tx(s, a));
    }

    /** Runs {@code n} empty blocks. */
    void advance(int n) {
      for (int i = 0; i < n; i++) {
        state = state.begin(state.height() + 1).finish();
      }
    }

    /** Registers the model and a worker and a verifier node serving it. */
    Driver withMarket() {
      ok(OWNER, new Action.RegisterModel(MODEL, 10));
      ok(WORKER, node().build());
      ok(VERIFIER, node().roles(NodeRole.VERIFIER).build());
      return this;
    }
  }
}
