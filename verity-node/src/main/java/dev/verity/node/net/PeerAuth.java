package dev.verity.node.net;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.protocol.RequestSignature;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

/**
 * Authentication between nodes. The calling side signs every request to another node with its node
 * key ({@link #authorization}, a {@link RequestSignature} as PROTOCOL.md 7a describes); the called
 * side checks the signature and, where it serves only the network, that the key's address belongs
 * to a registered node that is live now ({@link #verifyPeer}, {@link #requirePeer}).
 *
 * <p>A node's address is its operator address in the ledger's node registry, so the live peers of
 * the {@link PeerDirectory} are exactly the callers accepted. Thread-safe; holds no state of its own.
 */
public final class PeerAuth {
  private final PeerDirectory peers;
  private final Clock clock;

  public PeerAuth(PeerDirectory peers, Clock clock) {
    this.peers = Objects.requireNonNull(peers, "peers");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The {@code Authorization} header value for a request this node sends to another node.
   *
   * @param pathAndQuery the raw path and query exactly as sent
   * @param bodyHash SHA-256 of the request body (of no bytes for a GET)
   */
  public static String authorization(Signer nodeKey, String method, String pathAndQuery, Hash bodyHash,
      long nowMillis) {
    return RequestSignature.sign(nodeKey, method, pathAndQuery, nowMillis, bodyHash).toHeader();
  }

  /** {@link #authorization} for a request without a body, signed now by {@code clock}. */
  public static String authorization(Signer nodeKey, String method, String pathAndQuery, Clock clock) {
    return authorization(nodeKey, method, pathAndQuery, Hash.of(new byte[0]), clock.millis());
  }

  /** The live peer with this operator address, if there is one. */
  public Optional<Peer> peer(Address address) {
    for (Peer p : peers.live()) {
      if (p.address().equals(address)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Checks that an already authenticated caller is a registered node that is live now.
   *
   * @throws VerificationException naming the address when it is not
   */
  public Peer requirePeer(Address caller) throws VerificationException {
    return peer(caller).orElseThrow(() -> new VerificationException(
        caller + " is not a registered live node; only nodes of the network may make this call"
            + " (register the node and keep its heartbeats going)"));
  }

  /**
   * Authenticates a request that only nodes of the network may make: the header must hold a valid
   * request signature over this method, path, body and a time within the allowed skew, and its key's
   * address must be a registered live node.
   *
   * @param authorization the request's {@code Authorization} header, if any
   * @throws VerificationException if the header is missing or malformed, the signature does not
   *     verify, or the signer is no live node
   */
  public Peer verifyPeer(Optional<String> authorization, String method, String pathAndQuery, Hash bodyHash)
      throws VerificationException {
    if (authorization.isEmpty()) {
      throw new VerificationException("this call is for nodes of the network only: sign it with the node key ("
          + RequestSignature.SCHEME + ")");
    }
    RequestSignature sig;
    try {
      sig = RequestSignature.parse(authorization.get());
    } catch (DecodingException e) {
      throw new VerificationException("malformed request signature: " + e.getMessage(), e);
    }
    sig.verify(method, pathAndQuery, bodyHash, clock.millis());
    return requirePeer(sig.key().address());
  }
}
