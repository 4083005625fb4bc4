package dev.verity.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Signer;
import dev.verity.hub.ModelRegistry;
import dev.verity.ledger.NodeRole;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import dev.verity.node.net.PeerDirectory;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.YankNotice;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Carries an owner's yank to every node that holds the version, so that the network stops serving
 * it within a bounded time. Two ways, both moving only the owner's signed {@link YankNotice}, which
 * every receiving node verifies against the manifest itself (whoever relays it):
 *
 * <ul>
 *   <li><b>push</b>: the node that accepted a yank from its owner sends the notice, in the
 *       background, to every live peer ({@code POST .../yank}, signed with this node's key as
 *       PROTOCOL.md 7a describes); a peer that does not hold the version answers 404, ignored;
 *   <li><b>pull</b>: every {@code replica.yank_check_seconds} the node asks its live hubs about each
 *       version it holds that is not yanked ({@code GET /v1/models/{owner}/{repo}/{version}}, whose
 *       answer carries the notice in {@code yank_notice}) and records a notice that verifies. This
 *       reaches nodes that were down or unreachable when the push went out.
 * </ul>
 *
 * A recorded yank makes the node answer 410 for the version and leave it out of its next ledger
 * announcement. Thread-safe.
 */
final class YankPropagation implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(YankPropagation.class.getName());
  private static final ObjectMapper JSON = dev.verity.protocol.JsonFactories.mapper();
  /** Largest version document read from a peer. */
  private static final int MAX_DOCUMENT_BYTES = 1 << 20;

  private final ModelRegistry registry;
  private final PeerDirectory peers;
  private final Signer key;
  private final Clock clock;
  private final HttpClient http;
  private final ExecutorService pushes = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService checks;
  private final AtomicLong pushed = new AtomicLong();
  private final AtomicLong learned = new AtomicLong();

  /**
   * @param checkEvery the pull period; zero: no pull
   */
  YankPropagation(ModelRegistry registry, PeerDirectory peers, Signer key, Clock clock, Duration checkEvery) {
    this.registry = registry;
    this.peers = peers;
    this.key = key;
    this.clock = clock;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .build();
    if (checkEvery.isZero()) {
      this.checks = null;
    } else {
      this.checks = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("yank-check")
          .factory());
      long ms = checkEvery.toMillis();
      checks.scheduleWithFixedDelay(this::checkQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** Notices this node sent to peers that took them. */
  long pushed() {
    return pushed.get();
  }

  /** Yanks this node learned by asking its hubs. */
  long learned() {
    return learned.get();
  }

  /** Sends {@code notice} for {@code m} to every live peer but this node, in the background. */
  void push(YankNotice notice, ModelManifest m) {
    String path = NodeApi.versionPath(m) + "/yank";
    byte[] body = notice.encode();
    for (Peer p : peers.live()) {
      if (p.address().equals(key.address())) {
        continue;
      }
      pushes.submit(() -> {
        try {
          HttpRequest req = HttpRequest.newBuilder(p.endpoint().resolve(path)).timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/cbor")
              .header("Authorization", PeerAuth.authorization(key, "POST", path, Hash.of(body), clock.millis()))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
          int status = http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
          if (status == 200) {
            pushed.incrementAndGet();
          } else if (status != 404) {
            LOG.log(System.Logger.Level.WARNING, "peer " + p.endpoint() + " refused the yank of " + m + ": HTTP " + status);
          }
        } catch (IOException e) {
          LOG.log(System.Logger.Level.INFO, "could not tell " + p.endpoint() + " of the yank of " + m + ": " + e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
  }

  /**
   * Asks every live hub but this node about every version held here that is not yanked, and records
   * each yank notice that verifies.
   *
   * @return the versions found yanked
   */
  int checkNow() throws InterruptedException {
    List<Peer> hubs = new ArrayList<>();
    for (Peer p : peers.live()) {
      if (!p.address().equals(key.address()) && p.roles().contains(NodeRole.HUB)) {
        hubs.add(p);
      }
    }
    int found = 0;
    for (ModelRegistry.Repository r : registry.repositories()) {
      for (ModelRegistry.VersionEntry v : r.versions()) {
        if (v.yanked()) {
          continue;
        }
        for (Peer hub : hubs) {
          if (askAndRecord(hub, v.manifest())) {
            found++;
            break;
          }
        }
      }
    }
    learned.addAndGet(found);
    return found;
  }

  private void checkQuietly() {
    try {
      checkNow();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "checking peers for yanks failed: " + e);
    }
  }

  /** Whether {@code hub} holds a verifying yank notice for {@code m}, which is then recorded here. */
  private boolean askAndRecord(Peer hub, ModelManifest m) throws InterruptedException {
    String path = NodeApi.versionPath(m);
    try {
      HttpRequest req = HttpRequest.newBuilder(hub.endpoint().resolve(path)).timeout(Duration.ofSeconds(30))
          .header("Authorization", PeerAuth.authorization(key, "GET", path, clock))
          .GET().build();
      HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      if (resp.statusCode() != 200 || resp.body().length > MAX_DOCUMENT_BYTES) {
        return false;
      }
      JsonNode doc = JSON.readTree(resp.body());
      if (!doc.path("yanked").asBoolean(false) || !doc.path("yank_notice").isTextual()) {
        return false;
      }
      YankNotice notice = YankNotice.decode(Base64.getDecoder().decode(doc.path("yank_notice").asText()));
      if (!notice.manifest().equals(m.cid())) {
        LOG.log(System.Logger.Level.WARNING, "hub " + hub.endpoint() + " answered a yank notice of another version for " + m);
        return false;
      }
      registry.yank(notice); // verifies the owner's (or a delegate's) signature against the manifest
      LOG.log(System.Logger.Level.INFO, m + " was yanked by its owner (learned from " + hub.endpoint() + "): "
          + notice.reason());
      return true;
    } catch (IOException | IllegalArgumentException | VerificationException e) {
      LOG.log(System.Logger.Level.DEBUG, "asking " + hub.endpoint() + " about " + m + ": " + e);
      return false;
    }
  }

  @Override
  public void close() {
    if (checks != null) {
      checks.shutdownNow();
    }
    pushes.shutdownNow();
    http.shutdownNow();
  }
}
