package dev.verity.node.net;

import dev.verity.core.crypto.Address;
import dev.verity.ledger.Action;
import dev.verity.ledger.Block;
import dev.verity.ledger.Ledger;
import dev.verity.ledger.LedgerView;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateRecord;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link PeerDirectory} read from a ledger's node registry. It follows the ledger's blocks from
 * block 0 on (in the background, on the ledger's subscription thread), remembers for every operator
 * the sequencer's signed header time of the last block in which it registered or sent a heartbeat,
 * and after each block rebuilds the list of live peers: registered nodes (other than this one)
 * whose last heartbeat is at most {@code liveness} older than that block's time. {@link #live()}
 * returns the list built last, without blocking.
 *
 * <p>Time is the ledger's, not this machine's: a peer drops out only as blocks later than its last
 * heartbeat by more than {@code liveness} are committed. The sequencer sends heartbeats too, so
 * blocks keep coming while the network is idle, and a node that stops (or cannot reach the
 * sequencer) leaves every directory within {@code liveness} plus one heartbeat interval.
 */
public final class LedgerPeerDirectory implements PeerDirectory, AutoCloseable {
  private final Ledger ledger;
  private final Address self;
  private final long livenessMillis;
  private final Map<Address, Long> lastSeen = new HashMap<>(); // only touched on the subscription thread
  private volatile List<Peer> live = List.of();
  private volatile long asOfHeight = -1;
  private volatile boolean othersKnown;
  private Ledger.Subscription subscription;

  private LedgerPeerDirectory(Ledger ledger, Address self, Duration liveness) {
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    this.self = Objects.requireNonNull(self, "self");
    if (liveness.isNegative() || liveness.isZero()) {
      throw new IllegalArgumentException("liveness must be positive");
    }
    this.livenessMillis = liveness.toMillis();
  }

  /**
   * Starts following {@code ledger}'s registry.
   *
   * @param self this node's operator address, never listed
   * @param liveness how much older than the latest block a peer's last heartbeat may be
   */
  public static LedgerPeerDirectory start(Ledger ledger, Address self, Duration liveness) {
    LedgerPeerDirectory d = new LedgerPeerDirectory(ledger, self, liveness);
    d.subscription = ledger.subscribe(0, d::onBlock);
    return d;
  }

  @Override
  public List<Peer> live() {
    return live;
  }

  /** The height of the block the current list was built at (-1 before the first). */
  public long asOfHeight() {
    return asOfHeight;
  }

  /**
   * Whether any node other than this one ever registered: until then nobody needs this node's
   * heartbeats (a lone node sends none, so its ledger does not grow while idle).
   */
  public boolean othersKnown() {
    return othersKnown;
  }

  private void onBlock(Block b) {
    long time = b.header().timeMillis();
    for (SignedTransaction t : b.transactions()) {
      Action a = t.tx().action();
      if (a instanceof Action.RegisterNode || a instanceof Action.Heartbeat) {
        lastSeen.put(t.tx().senderAddress(), time);
        othersKnown |= !t.tx().senderAddress().equals(self);
      }
    }
    LedgerView v = ledger.view();
    if (b.height() < v.height()) {
      return; // more blocks are coming; build the list once caught up
    }
    List<Peer> out = new ArrayList<>();
    for (Map.Entry<Address, Long> e : lastSeen.entrySet()) {
      if (e.getKey().equals(self) || time - e.getValue() > livenessMillis) {
        continue;
      }
      Optional<StateRecord.Node> n = v.node(e.getKey());
      if (n.isEmpty()) {
        continue;
      }
      peer(n.get(), v.stake(e.getKey()).bonded()).ifPresent(out::add);
    }
    out.sort(Comparator.comparing(p -> p.address().toString()));
    live = List.copyOf(out);
    asOfHeight = b.height();
  }

  private static Optional<Peer> peer(StateRecord.Node n, long stake) {
    try {
      return Optional.of(new Peer(n.operator(), URI.create(n.endpoint()), n.roles(),
          new java.util.HashSet<>(n.models()), stake, Math.max(1, n.capacity())));
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // an endpoint the ledger accepted but URI does not: not reachable anyway
    }
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
