package dev.verity.node.net;

import java.util.List;

/**
 * The peers this node may work with right now. Implementations read the ledger's node registry and
 * leave out nodes that missed their heartbeats; tests may use a fixed list.
 *
 * <p>Contract: {@link #live()} never blocks on the network for long (it answers from the latest view
 * it has), never returns this node itself, and returns an immutable list.
 */
public interface PeerDirectory {
  /** Peers registered and live at the latest ledger view this node has. */
  List<Peer> live();

  /** A directory with a fixed list of peers. */
  static PeerDirectory of(List<Peer> peers) {
    List<Peer> copy = List.copyOf(peers);
    return () -> copy;
  }
}
