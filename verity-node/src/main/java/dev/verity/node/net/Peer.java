package dev.verity.node.net;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.NodeRole;
import java.net.URI;
import java.util.Objects;
import java.util.Set;

/**
 * Another node of the network as this node sees it: its operator address, where it listens, what it
 * does, which models it serves, how much it has at stake and how much work it takes at once.
 *
 * @param address the operator's address (receipts the peer signs must come from this address's key)
 * @param endpoint base URL of the peer's HTTP API
 * @param roles what the peer does; never empty
 * @param models CIDs of the models the peer serves
 * @param stake bonded stake, in the smallest unit; weights routing
 * @param capacity most requests the peer runs at once; at least 1
 */
public record Peer(
    Address address, URI endpoint, Set<NodeRole> roles, Set<Cid> models, long stake, long capacity) {
  public Peer {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(endpoint, "endpoint");
    roles = Set.copyOf(roles);
    models = Set.copyOf(models);
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("a peer has at least one role");
    }
    if (stake < 0) {
      throw new IllegalArgumentException("stake must not be negative, got " + stake);
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
  }

  public boolean has(NodeRole role) {
    return roles.contains(role);
  }

  public boolean serves(Cid model) {
    return models.contains(model);
  }
}
