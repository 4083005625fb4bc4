package dev.verity.node.net;

import dev.verity.ledger.NodeRole;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How a node takes part in the network (settings {@code roles}, {@code endpoint}, {@code capacity},
 * {@code stake}, {@code heartbeat_millis}, {@code liveness_millis}). A node that takes part in a
 * ledger registers on it with these values and sends a heartbeat every {@code heartbeat}; its
 * peers count it as live while its last heartbeat is at most {@code liveness} older (in the
 * sequencer's signed header time) than the latest block.
 *
 * @param roles what this node does; empty: the default for its ledger mode ({@link #rolesFor})
 * @param endpoint the base URL other nodes and clients reach this node at; empty: the address it
 *     binds (right on one host; set it when the node is behind NAT, a proxy, or binds 0.0.0.0)
 * @param capacity most requests this node runs at once, as announced to gateways; 0: the number of
 *     cores
 * @param stake what the node keeps bonded while registered; 0: the genesis minimum
 * @param heartbeat interval between heartbeats; zero: no heartbeats (the node registers only)
 * @param liveness how old a peer's last heartbeat may be before it is not live
 * @param peersOnly whether this node runs inference only for requests forwarded by a live peer
 *     (a gateway), proven by the peer's signature ({@code Verity-Peer-Authorization}); setting
 *     {@code inference_peers_only}
 */
public record NetworkSettings(
    Set<NodeRole> roles,
    Optional<URI> endpoint,
    long capacity,
    long stake,
    Duration heartbeat,
    Duration liveness,
    boolean peersOnly) {

  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(2);
  public static final Duration DEFAULT_LIVENESS = Duration.ofSeconds(10);

  public NetworkSettings {
    roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
    Objects.requireNonNull(endpoint, "endpoint");
    if (endpoint.isPresent()) {
      URI u = endpoint.get();
      if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
        throw new IllegalArgumentException("endpoint must be an http(s) URL with a host, got '" + u + "'");
      }
    }
    if (capacity < 0 || capacity > 1_000_000) {
      throw new IllegalArgumentException("capacity must be in 0..1000000 (0 = number of cores), got " + capacity);
    }
    if (stake < 0) {
      throw new IllegalArgumentException("stake must not be negative, got " + stake);
    }
    if (heartbeat.isNegative() || heartbeat.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("heartbeat_millis must be in 0..3600000, got " + heartbeat.toMillis());
    }
    if (liveness.isNegative() || liveness.isZero()) {
      throw new IllegalArgumentException("liveness_millis must be positive, got " + liveness.toMillis());
    }
    if (!heartbeat.isZero() && liveness.compareTo(heartbeat) < 0) {
      throw new IllegalArgumentException("liveness_millis (" + liveness.toMillis()
          + ") must be at least heartbeat_millis (" + heartbeat.toMillis()
          + "), or every node would drop out between two heartbeats; a few heartbeats is usual");
    }
  }

  /** Settings that accept inference from any caller, as {@link #defaults()} does. */
  public NetworkSettings(Set<NodeRole> roles, Optional<URI> endpoint, long capacity, long stake, Duration heartbeat,
      Duration liveness) {
    this(roles, endpoint, capacity, stake, heartbeat, liveness, false);
  }

  /** Default roles, endpoint from the bind address, default capacity, stake and timings. */
  public static NetworkSettings defaults() {
    return new NetworkSettings(Set.of(), Optional.empty(), 0, 0, DEFAULT_HEARTBEAT, DEFAULT_LIVENESS, false);
  }

  /** These settings, running inference only for requests a live peer forwarded ({@code peersOnly}). */
  public NetworkSettings withPeersOnly(boolean only) {
    return new NetworkSettings(roles, endpoint, capacity, stake, heartbeat, liveness, only);
  }

  /**
   * The roles this node runs given how it takes part in the ledger: the configured ones, or by
   * default every role for a node that sequences its own ledger (or has none), and every role but
   * sequencer for a node that follows a remote ledger.
   *
   * @throws IllegalArgumentException if the configured roles do not fit the ledger mode: the
   *     sequencer role belongs to exactly the node that runs the embedded ledger
   */
  public Set<NodeRole> rolesFor(boolean embeddedLedger, boolean remoteLedger) {
    if (roles.isEmpty()) {
      EnumSet<NodeRole> all = EnumSet.allOf(NodeRole.class);
      if (remoteLedger) {
        all.remove(NodeRole.SEQUENCER);
      }
      return Set.copyOf(all);
    }
    if (roles.contains(NodeRole.SEQUENCER) && !embeddedLedger) {
      throw new IllegalArgumentException("roles include sequencer, which only the node with ledger = embedded runs;"
          + " remove it or set ledger = embedded on this node");
    }
    if (embeddedLedger && !roles.contains(NodeRole.SEQUENCER)) {
      throw new IllegalArgumentException("a node with ledger = embedded is the network's sequencer: add sequencer"
          + " to its roles (got " + labels(roles) + ")");
    }
    return roles;
  }

  /** Parses a comma-separated list of role names; empty text means the default roles. */
  public static Set<NodeRole> parseRoles(String text) {
    EnumSet<NodeRole> out = EnumSet.noneOf(NodeRole.class);
    for (String part : text.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      try {
        out.add(NodeRole.ofLabel(p));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("setting 'roles': " + e.getMessage());
      }
    }
    return out;
  }

  /** The roles as the setting writes them, in canonical order. */
  public static String labels(Set<NodeRole> roles) {
    if (roles.isEmpty()) {
      return "";
    }
    return String.join(",", EnumSet.copyOf(roles).stream().map(NodeRole::label).toList());
  }
}
