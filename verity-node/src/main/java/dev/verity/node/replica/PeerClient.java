package dev.verity.node.replica;

import dev.verity.core.crypto.Signer;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerAuth;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * GETs from other nodes, each signed with this node's key (PeerAuth), each bounded in size and in
 * time: a response body longer than the caller's limit is cut off as soon as the limit is passed and
 * reported as hostile, and a peer that does not answer in full within the timeout is given up on.
 * Thread-safe.
 */
final class PeerClient implements AutoCloseable {
  /** Most bytes of an error answer read (to quote in logs). */
  private static final int MAX_ERROR_BYTES = 4096;

  private final HttpClient http;
  private final Signer nodeKey;
  private final Duration timeout;
  private final Clock clock;

  PeerClient(Signer nodeKey, Duration timeout, Clock clock) {
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .build();
    this.nodeKey = nodeKey;
    this.timeout = timeout;
    this.clock = clock;
  }

  /**
   * A peer did not give what was asked; {@link #hostile} when what it sent cannot be honest, {@link
   * #unreachable} when it did not answer at all (no connection, or not within the timeout).
   */
  static final class PeerFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean hostile;
    final int status;
    final boolean unreachable;

    PeerFailure(String message, boolean hostile, int status, Throwable cause) {
      super(message, cause);
      this.hostile = hostile;
      this.status = status;
      this.unreachable = !hostile && status == 0;
    }
  }

  /**
   * The body of a 200 answer to {@code GET path} from {@code peer}, at most {@code maxBytes} long.
   *
   * @throws PeerFailure when the peer answers otherwise, too much, too late or not at all
   */
  byte[] get(Peer peer, String path, int maxBytes) throws PeerFailure {
    URI uri = peer.endpoint().resolve(path);
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Authorization", PeerAuth.authorization(nodeKey, "GET",
            uri.getRawQuery() == null ? uri.getRawPath() : uri.getRawPath() + "?" + uri.getRawQuery(), clock))
        .GET()
        .build();
    CompletableFuture<HttpResponse<byte[]>> future = http.sendAsync(request, info -> {
      int limit = info.statusCode() == 200 ? maxBytes : MAX_ERROR_BYTES;
      long declared = info.headers().firstValueAsLong("Content-Length").orElse(-1);
      return new LimitedBody(limit, declared);
    });
    HttpResponse<byte[]> response;
    try {
      response = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new PeerFailure(peer.endpoint() + " did not answer GET " + path + " within " + timeout.toMillis()
          + " ms", false, 0, e);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new PeerFailure("interrupted while fetching " + path, false, 0, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Oversized o) {
        throw new PeerFailure(peer.endpoint() + " answered GET " + path + " with " + o.getMessage(), true, 200, o);
      }
      throw new PeerFailure(peer.endpoint() + " failed GET " + path + ": " + cause, false, 0, cause);
    }
    if (response.statusCode() != 200) {
      String text = new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
      throw new PeerFailure(peer.endpoint() + " answered GET " + path + " with " + response.statusCode() + ": "
          + text.strip(), false, response.statusCode(), null);
    }
    return response.body();
  }

  /** Stops at once, abandoning requests in flight. */
  @Override
  public void close() {
    http.shutdownNow();
  }

  /** More bytes than the caller accepts. */
  private static final class Oversized extends IOException {
    private static final long serialVersionUID = 1L;

    Oversized(String message) {
      super(message);
    }
  }

  /** Collects a body up to a limit and cancels the transfer as soon as the limit is passed. */
  private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int limit;
    private final long declared;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;
    private byte[] buf;
    private int length;

    LimitedBody(int limit, long declared) {
      this.limit = limit;
      this.declared = declared;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (declared > limit) {
        result.completeExceptionally(new Oversized("a body of " + declared + " bytes where at most " + limit
            + " are valid"));
        s.cancel();
        return;
      }
      buf = new byte[(int) Math.max(0, Math.min(declared < 0 ? 64 * 1024 : declared, limit))];
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        int n = b.remaining();
        if ((long) length + n > limit) {
          result.completeExceptionally(new Oversized("more than " + limit + " bytes where at most " + limit
              + " are valid"));
          subscription.cancel();
          return;
        }
        if (length + n > buf.length) {
          buf = Arrays.copyOf(buf, (int) Math.min(limit, Math.max((long) buf.length * 2, length + n)));
        }
        b.get(buf, length, n);
        length += n;
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(length == buf.length ? buf : Arrays.copyOf(buf, length));
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }
  }
}
