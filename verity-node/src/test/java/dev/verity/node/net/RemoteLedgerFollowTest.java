package dev.verity.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.crypto.Signer;
import dev.verity.core.io.AtomicFiles;
import dev.verity.ledger.Block;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.StateKey;
import dev.verity.node.LedgerSettings;
import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower that keeps only a few blocks in memory still gives every subscriber every block once,
 * in order (older ones fetched again and checked against the headers it verified), and its view's
 * proofs verify against the sequencer-signed header.
 */
class RemoteLedgerFollowTest {
  static final Duration DEADLINE = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void aSubscriberFromBlockZeroGetsEveryBlockOnceInOrderAndProofsVerify() throws Exception {
    Signer seqKey = VerityNode.loadOrCreateKey(dir.resolve("seq"));
    Signer payer = Signer.generate(); // its own account, so the node's transactions never take its nonces
    GenesisConfig genesis = GenesisConfig.builder("verity-follow-test").sequencer(seqKey.publicKey())
        .authority(seqKey.publicKey()).treasury(seqKey.address()).minFee(0).allocate(seqKey.address(), 10_000)
        .allocate(payer.address(), 10_000).build();
    Path genesisFile = dir.resolve("genesis.cbor");
    AtomicFiles.write(genesisFile, genesis.encode());
    try (VerityNode seq = VerityNode.start(NodeConfig.defaults().withDataDir(dir.resolve("seq")).withPort(0)
        .withLedger(LedgerSettings.embedded(Optional.of(genesisFile))))) {
      dev.verity.ledger.Ledger ledger = seq.ledger().orElseThrow();
      for (int i = 0; i < 12; i++) { // one block each; the node's own registration may make more
        long nonce = ledger.view().account(payer.address()).nonce();
        ledger.submit(new dev.verity.ledger.Transaction(genesis.chainId(), payer.publicKey(), nonce, 0,
            new dev.verity.ledger.Action.Transfer(seqKey.address(), 1)).sign(payer)).get();
      }
      await(() -> headOf(seq) >= 12);
      try (RemoteLedger l = RemoteLedger.open(seq.uri(), genesis, DEADLINE, 4)) {
        long target = l.view().height();
        assertTrue(target >= 12);
        List<Block> seen = new ArrayList<>();
        try (var sub = l.subscribe(0, b -> {
          synchronized (seen) {
            seen.add(b);
          }
        })) {
          await(() -> {
            synchronized (seen) {
              return seen.size() > target;
            }
          });
        }
        synchronized (seen) {
          for (int i = 0; i < seen.size(); i++) {
            assertEquals(i, seen.get(i).height(), "in order, each once");
            seen.get(i).verify(genesis.sequencer());
            if (i > 0) {
              assertEquals(seen.get(i - 1).header().hash(), seen.get(i).header().previous());
            }
          }
        }
        LedgerView v = l.view();
        dev.verity.ledger.LightClient.of(genesis).verifyAccount(v.header(), seqKey.address(),
            v.prove(StateKey.account(seqKey.address())));
        assertEquals(v.header().hash(), l.block(v.height()).orElseThrow().header().hash());
        assertEquals(seen.get(1).header().hash(), l.block(1).orElseThrow().header().hash(), "an old block, fetched again");
      }
    }
  }

  private static long headOf(VerityNode n) {
    try (dev.verity.sdk.VerityClient c = dev.verity.sdk.VerityClient.builder(n.uri()).build()) {
      return c.ledger().info().height();
    } catch (Exception e) {
      return -1;
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("condition not met within " + DEADLINE.toSeconds() + " s");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }
}
