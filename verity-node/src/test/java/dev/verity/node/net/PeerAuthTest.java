package dev.verity.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerAuthTest {
  private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(1_800_000_000_000L), ZoneOffset.UTC);
  private static final String PATH = "/v1/blobs/x/blocks/y";
  private static final Hash EMPTY = Hash.of(new byte[0]);

  private final Signer member = Signer.generate();
  private final Signer outsider = Signer.generate();
  private final PeerAuth auth = new PeerAuth(PeerDirectory.of(List.of(peer(member))), CLOCK);

  private static Peer peer(Signer key) {
    return new Peer(key.address(), URI.create("http://127.0.0.1:1"), Set.of(NodeRole.WORKER), Set.of(), 10, 1);
  }

  private static Optional<String> header(Signer key, String method, String path, Hash body, long millis) {
    return Optional.of(PeerAuth.authorization(key, method, path, body, millis));
  }

  @Test
  void acceptsARequestSignedByALiveNode() throws Exception {
    Peer p = auth.verifyPeer(header(member, "GET", PATH, EMPTY, CLOCK.millis()), "GET", PATH, EMPTY);
    assertEquals(member.address(), p.address());
  }

  @Test
  void rejectsAValidSignatureOfAKeyThatIsNoLiveNode() {
    VerificationException e = assertThrows(VerificationException.class,
        () -> auth.verifyPeer(header(outsider, "GET", PATH, EMPTY, CLOCK.millis()), "GET", PATH, EMPTY));
    assertTrue(e.getMessage().contains("not a registered live node"), e.getMessage());
  }

  @Test
  void rejectsASignatureOverAnotherRequest() {
    Optional<String> h = header(member, "GET", PATH, EMPTY, CLOCK.millis());
    assertThrows(VerificationException.class, () -> auth.verifyPeer(h, "GET", PATH + "z", EMPTY));
    assertThrows(VerificationException.class, () -> auth.verifyPeer(h, "POST", PATH, EMPTY));
    assertThrows(VerificationException.class,
        () -> auth.verifyPeer(h, "GET", PATH, Hash.of("x".getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void rejectsAStaleSignature() {
    Optional<String> old = header(member, "GET", PATH, EMPTY, CLOCK.millis() - 10 * 60_000);
    assertThrows(VerificationException.class, () -> auth.verifyPeer(old, "GET", PATH, EMPTY));
  }

  @Test
  void rejectsAMissingOrMalformedHeaderWithAClearMessage() {
    VerificationException missing = assertThrows(VerificationException.class,
        () -> auth.verifyPeer(Optional.empty(), "GET", PATH, EMPTY));
    assertTrue(missing.getMessage().contains("node key"), missing.getMessage());
    for (String bad : List.of("", "Bearer x", "Verity-Ed25519 key=nope", "Verity-Ed25519 " + "a".repeat(600))) {
      assertThrows(VerificationException.class, () -> auth.verifyPeer(Optional.of(bad), "GET", PATH, EMPTY));
    }
    String forged = PeerAuth.authorization(member, "GET", PATH, EMPTY, CLOCK.millis()).replace("sig=", "sig=AA");
    assertThrows(VerificationException.class, () -> auth.verifyPeer(Optional.of(forged), "GET", PATH, EMPTY));
  }

  @Test
  void followsTheDirectoryAsNodesComeAndGo() throws Exception {
    java.util.concurrent.atomic.AtomicReference<List<Peer>> live = new java.util.concurrent.atomic.AtomicReference<>(List.of());
    PeerAuth changing = new PeerAuth(live::get, CLOCK);
    assertThrows(VerificationException.class, () -> changing.requirePeer(member.address()));
    live.set(List.of(peer(member)));
    assertEquals(member.address(), changing.requirePeer(member.address()).address());
  }
}
