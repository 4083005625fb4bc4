package dev.verity.node.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import dev.verity.node.net.PeerDirectory;
import dev.verity.protocol.RequestSignature;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The bounded, signed GET every replication request goes through, against a scripted peer. */
class PeerClientTest {
  private static final int LIMIT = 64 * 1024;
  private static final Signer NODE = Signer.generate();
  /** What the scripted peer answers: status, body, and whether it declares the length. */
  private static final AtomicReference<Answer> ANSWER = new AtomicReference<>();
  private static final AtomicReference<String> LAST_AUTHORIZATION = new AtomicReference<>();
  private static final HttpServer server;

  record Answer(int status, byte[] body, boolean declared) {}

  static {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (java.io.IOException e) {
      throw new ExceptionInInitializerError(e);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", ex -> {
      try (ex) {
        LAST_AUTHORIZATION.set(ex.getRequestHeaders().getFirst("Authorization"));
        Answer a = ANSWER.get();
        ex.sendResponseHeaders(a.status(), a.declared() ? (a.body().length == 0 ? -1 : a.body().length) : 0);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(a.body());
        } catch (java.io.IOException e) {
          // the client hung up on an oversized body: what it should do
        }
      }
    });
    server.start(); // stopped with the test JVM
  }

  private static Peer peer() {
    return new Peer(Signer.generate().address(), URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
        Set.of(NodeRole.HUB), Set.of(), 1, 1);
  }

  private static final PeerClient CLIENT = new PeerClient(NODE, Duration.ofSeconds(30), Clock.systemUTC());

  @Property(tries = 40)
  void returnsABodyWithinTheLimitWholeAndRefusesAnyLongerOneAsHostile(
      @ForAll @IntRange(min = 0, max = 2 * LIMIT) int length, @ForAll boolean declared) {
    byte[] body = new byte[length];
    new Random(length).nextBytes(body);
    ANSWER.set(new Answer(200, body, declared));
    if (length <= LIMIT) {
      try {
        assertArrayEquals(body, CLIENT.get(peer(), "/v1/blobs/a/blocks/b", LIMIT));
      } catch (PeerClient.PeerFailure f) {
        throw new AssertionError("an honest answer was refused: " + f.getMessage(), f);
      }
    } else {
      PeerClient.PeerFailure f =
          assertThrows(PeerClient.PeerFailure.class, () -> CLIENT.get(peer(), "/v1/blobs/a/blocks/b", LIMIT));
      assertTrue(f.hostile, f.getMessage());
    }
  }

  @Test
  void anErrorAnswerIsAFailureButNoLie() {
    for (int status : new int[] {401, 403, 404, 500, 503}) {
      ANSWER.set(new Answer(status, ("{\"detail\":\"no\"}").getBytes(), true));
      PeerClient.PeerFailure f =
          assertThrows(PeerClient.PeerFailure.class, () -> CLIENT.get(peer(), "/v1/manifests/x", LIMIT));
      assertFalse(f.hostile);
      assertFalse(f.unreachable);
      assertEquals(status, f.status);
    }
  }

  @Test
  void aHugeErrorAnswerIsCutOff() {
    ANSWER.set(new Answer(404, new byte[1 << 20], false));
    assertThrows(PeerClient.PeerFailure.class, () -> CLIENT.get(peer(), "/v1/manifests/x", LIMIT));
  }

  @Test
  void everyRequestIsSignedByTheNodeKeyOverItsPath() throws Exception {
    ANSWER.set(new Answer(200, new byte[] {1, 2, 3}, true));
    Peer p = peer();
    CLIENT.get(p, "/v1/blobs/a/blocks/b", LIMIT);
    RequestSignature sig = RequestSignature.parse(LAST_AUTHORIZATION.get());
    assertEquals(NODE.publicKey(), sig.key());
    sig.verify("GET", "/v1/blobs/a/blocks/b", Hash.of(new byte[0]), System.currentTimeMillis());
    PeerAuth auth = new PeerAuth(PeerDirectory.of(List.of(new Peer(NODE.address(), p.endpoint(),
        Set.of(NodeRole.WORKER), Set.of(), 1, 1))), Clock.systemUTC());
    assertEquals(NODE.address(), auth.verifyPeer(java.util.Optional.of(LAST_AUTHORIZATION.get()), "GET",
        "/v1/blobs/a/blocks/b", Hash.of(new byte[0])).address());
  }

  @Test
  void aPeerThatIsNotListeningIsUnreachable() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Peer gone = new Peer(Signer.generate().address(), URI.create("http://127.0.0.1:" + port), Set.of(NodeRole.HUB),
        Set.of(), 1, 1);
    PeerClient.PeerFailure f = assertThrows(PeerClient.PeerFailure.class, () -> CLIENT.get(gone, "/x", LIMIT));
    assertTrue(f.unreachable);
    assertFalse(f.hostile);
  }
}
