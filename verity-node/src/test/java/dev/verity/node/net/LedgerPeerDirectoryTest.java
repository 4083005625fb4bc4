package dev.verity.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.Action;
import dev.verity.ledger.GenesisConfig;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.SequencerLedger;
import dev.verity.ledger.Transaction;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Liveness in ledger time: the directory counts a peer as live while its last registration or
 * heartbeat is at most {@code liveness} older than the latest block, by the sequencer's header
 * clock (here a clock the test moves), never by this machine's.
 */
class LedgerPeerDirectoryTest {
  static final Duration LIVENESS = Duration.ofSeconds(10);

  final AtomicLong now = new AtomicLong(1_000_000);
  final Signer sequencer = Signer.generate();
  final Signer a = Signer.generate();
  final Signer b = Signer.generate();
  final Signer self = Signer.generate();
  GenesisConfig genesis;
  SequencerLedger ledger;
  LedgerPeerDirectory directory;

  @BeforeEach
  void start() {
    genesis = GenesisConfig.builder("verity-peers-test").sequencer(sequencer.publicKey())
        .authority(sequencer.publicKey()).treasury(sequencer.address()).minFee(0).minNodeStake(100)
        .allocate(a.address(), 1_000).allocate(b.address(), 1_000).allocate(self.address(), 1_000).build();
    InstantSource clock = () -> Instant.ofEpochMilli(now.get());
    ledger = SequencerLedger.inMemory(genesis, sequencer,
        SequencerLedger.Options.defaults().withMaxBlockDelay(Duration.ZERO).withClock(clock));
    directory = LedgerPeerDirectory.start(ledger, self.address(), LIVENESS);
  }

  @AfterEach
  void stop() {
    directory.close();
    ledger.close();
  }

  private void send(Signer s, Action action) throws Exception {
    long nonce = ledger.view().account(s.address()).nonce();
    ledger.submit(new Transaction(genesis.chainId(), s.publicKey(), nonce, 0, action).sign(s)).get();
  }

  private void register(Signer s, String endpoint, Set<NodeRole> roles, long capacity) throws Exception {
    send(s, new Action.RegisterNode(endpoint, roles, List.of(), capacity, 100));
  }

  /** The live list once the directory has seen the latest block. */
  private List<Address> live() throws InterruptedException {
    long h = ledger.view().height();
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (directory.asOfHeight() < h) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("the directory did not reach block " + h);
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
    return directory.live().stream().map(Peer::address).toList();
  }

  @Test
  void listsRegisteredNodesWithWhatTheyAnnouncedButNeverItself() throws Exception {
    register(a, "http://a.example:8420", Set.of(NodeRole.WORKER, NodeRole.VERIFIER), 4);
    register(self, "http://self.example:8420", Set.of(NodeRole.GATEWAY), 1);
    assertEquals(List.of(a.address()), live());
    Peer p = directory.live().get(0);
    assertEquals(URI.create("http://a.example:8420"), p.endpoint());
    assertEquals(Set.of(NodeRole.WORKER, NodeRole.VERIFIER), p.roles());
    assertEquals(4, p.capacity());
    assertEquals(100, p.stake());
    assertThrows(UnsupportedOperationException.class, () -> directory.live().add(p), "an immutable list");
  }

  @Test
  void aPeerWhoseHeartbeatsStopLeavesOnceLaterBlocksPassItsLivenessAndReturnsWithTheNextOne() throws Exception {
    register(a, "http://a.example:8420", Set.of(NodeRole.WORKER), 1);
    register(b, "http://b.example:8420", Set.of(NodeRole.WORKER), 1);
    assertEquals(Set.of(a.address(), b.address()), Set.copyOf(live()));

    now.addAndGet(LIVENESS.toMillis()); // exactly the liveness later: still live
    send(b, new Action.Heartbeat());
    assertEquals(Set.of(a.address(), b.address()), Set.copyOf(live()));

    now.addAndGet(1); // a's last heartbeat is now older than the liveness
    send(b, new Action.Heartbeat());
    assertEquals(List.of(b.address()), live());

    send(a, new Action.Heartbeat());
    assertEquals(Set.of(a.address(), b.address()), Set.copyOf(live()));
  }

  @Test
  void withoutNewBlocksNothingExpires() throws Exception {
    register(a, "http://a.example:8420", Set.of(NodeRole.WORKER), 1);
    assertEquals(List.of(a.address()), live());
    now.addAndGet(LIVENESS.toMillis() * 100); // time passes, but no block says so
    assertEquals(List.of(a.address()), live());
  }
}
