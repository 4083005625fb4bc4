package dev.verity.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.verity.core.Cid;
import dev.verity.core.crypto.Address;
import dev.verity.ledger.NodeRole;
import dev.verity.node.gateway.GatewaySettings;
import dev.verity.node.net.NetworkSettings;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** Starting workers and gateways in this JVM for the gateway's tests, and workers that misbehave. */
final class GatewayHarness {
  private GatewayHarness() {}

  /** Quick to give up on a silent worker, so tests of failover stay short. */
  static final GatewaySettings FAST = GatewaySettings.defaults()
      .withAttemptTimeout(Duration.ofSeconds(3))
      .withDeadline(Duration.ofSeconds(20))
      .withQueueWait(Duration.ofMillis(500));

  static NetworkSettings network(Set<NodeRole> roles, long capacity) {
    return new NetworkSettings(roles, Optional.empty(), capacity, 0, Duration.ofMillis(150), Duration.ofMillis(1500));
  }

  /** A worker without a ledger (free inference). */
  static VerityNode worker(Path dir, long capacity) throws IOException {
    return VerityNode.start(NodeConfig.defaults().withDataDir(dir).withPort(0)
        .withNetwork(network(Set.of(NodeRole.WORKER, NodeRole.HUB), capacity)));
  }

  /** A gateway without a ledger that forwards to the workers {@code peers} lists. */
  static VerityNode gateway(Path dir, PeerDirectory peers, GatewaySettings settings) throws IOException {
    return gateway(NodeConfig.defaults(), dir, peers, settings);
  }

  /** As above, with the other settings of {@code base}. */
  static VerityNode gateway(NodeConfig base, Path dir, PeerDirectory peers, GatewaySettings settings)
      throws IOException {
    return VerityNode.start(base.withDataDir(dir).withPort(0)
        .withNetwork(network(Set.of(NodeRole.GATEWAY), 0)).withGateway(settings), Optional.of(peers));
  }

  static Peer peer(VerityNode node, long stake, long capacity, Cid manifest) {
    return peer(node.address(), node.uri(), stake, capacity, manifest);
  }

  static Peer peer(Address address, URI endpoint, long stake, long capacity, Cid manifest) {
    return new Peer(address, endpoint, Set.of(NodeRole.WORKER), Set.of(manifest), stake, capacity);
  }

  /** A peer directory whose list a test changes. */
  static final class MutableDirectory implements PeerDirectory {
    private volatile List<Peer> peers;

    MutableDirectory(List<Peer> peers) {
      this.peers = List.copyOf(peers);
    }

    void set(List<Peer> p) {
      peers = List.copyOf(p);
    }

    @Override
    public List<Peer> live() {
      return peers;
    }
  }

  /**
   * A worker that takes inference requests and answers none until {@link #release} (then 500): it holds
   * capacity as a slow or hung worker would, or stands for one that died before journalling.
   */
  static final class SilentWorker implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final CountDownLatch released = new CountDownLatch(1);
    final AtomicInteger received = new AtomicInteger();

    SilentWorker() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(executor);
      server.createContext("/", this::hold);
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void hold(HttpExchange ex) throws IOException {
      try (ex; InputStream in = ex.getRequestBody()) {
        in.readAllBytes();
        if (!ex.getRequestMethod().equals("POST")) {
          ex.sendResponseHeaders(404, -1); // it serves no manifests or blobs
          return;
        }
        received.incrementAndGet();
        released.await();
        ex.sendResponseHeaders(500, -1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void release() {
      released.countDown();
    }

    @Override
    public void close() {
      release();
      server.stop(0);
      executor.shutdownNow();
    }
  }
}
