package dev.verity.node.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

/**
 * The HTTP server: the JDK's server with one virtual thread per request. It assigns request ids,
 * routes, turns exceptions into problem documents (input errors are 4xx and logged without their
 * content; a node-side condition such as damaged storage is a 5xx logged as a warning; anything
 * unexpected is a 500 logged with its stack trace), and records metrics.
 */
public final class HttpApiServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.verity.node.http");
  private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  /** Most bytes of a refused request's body read (and dropped) so that its client gets the answer. */
  static final long MAX_DISCARDED_BODY = 16L << 20;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Router router;
  private final Metrics metrics;

  private HttpApiServer(HttpServer server, ExecutorService executor, Router router, Metrics metrics) {
    this.server = server;
    this.executor = executor;
    this.router = router;
    this.metrics = metrics;
  }

  /** Binds {@code host:port} (port 0 picks a free one) and starts serving. */
  public static HttpApiServer start(String host, int port, Router router, Metrics metrics) throws IOException {
    disableNagle();
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 1024);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    HttpApiServer api = new HttpApiServer(server, executor, router, metrics);
    server.createContext("/", api::serve);
    server.start();
    return api;
  }

  /** The JDK property that turns on TCP_NODELAY for every connection the JDK's server accepts. */
  static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

  /**
   * Asks the JDK's server to send without Nagle's algorithm. It writes a response through an 8 KiB
   * buffer, so a larger one leaves as two or more writes; with Nagle on, the last write waits for
   * the client to acknowledge the first, and clients delay that acknowledgement (about 40 ms on
   * Linux), which made every response over 8 KiB some 40 ms slower. The JDK reads the property
   * once, when its server is first used in the process, so it is set here unless the operator
   * chose a value.
   */
  private static void disableNagle() {
    if (System.getProperty(NODELAY_PROPERTY) == null) {
      System.setProperty(NODELAY_PROPERTY, "true");
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void serve(HttpExchange http) {
    long start = System.nanoTime();
    metrics.started();
    String requestId = http.getRequestHeaders().getFirst("X-Request-Id");
    if (requestId == null || !CLIENT_REQUEST_ID.matcher(requestId).matches()) {
      requestId = UUID.randomUUID().toString();
    }
    String route = "unmatched";
    Exchange ex = null;
    boolean cutShort = false;
    try {
      Router.Match match;
      try {
        match = router.match(http.getRequestMethod(), http.getRequestURI().getRawPath());
      } catch (ApiException e) {
        ex = exchange(http, requestId, java.util.Map.of(), route);
        throw e;
      }
      route = match.route().method() + " " + match.route().pattern();
      ex = exchange(http, requestId, match.params(), route);
      match.route().handler().handle(ex);
    } catch (Throwable t) {
      if (ex == null) {
        ex = exchange(http, requestId, java.util.Map.of(), route);
      }
      cutShort = !fail(ex, requestId, route, t);
    } finally {
      if (ex == null || !ex.responded()) {
        metrics.responded(route, 500); // no response could be sent; the client sees the connection end
      }
      metrics.finished(route, System.nanoTime() - start);
      // Drain what the client sent but the handler did not read, so the connection can be reused.
      try {
        http.getRequestBody().skip(Long.MAX_VALUE);
      } catch (IOException | RuntimeException ignored) {
        // the client went away; nothing to keep alive
      }
      http.close();
    }
    if (cutShort) {
      // The status and length were sent before the failure, so the body cannot be completed or
      // replaced: the connection must end, or the client waits for the missing bytes. The JDK
      // server closes a connection whose handler throws before the response was fully written.
      throw new IllegalStateException("response to request " + requestId + " was cut short");
    }
  }

  private Exchange exchange(HttpExchange http, String requestId, java.util.Map<String, String> params, String route) {
    return new Exchange(http, requestId, params, status -> metrics.responded(route, status));
  }

  /** Reports a failure as a problem document; false when the response had already started. */
  private boolean fail(Exchange ex, String requestId, String route, Throwable t) {
    ApiException api = toApiException(t);
    if (api.status() >= 500 && !(t instanceof ApiException)) {
      LOG.log(Level.ERROR, "request " + requestId + " on " + route + " failed", t);
    } else if (api.status() >= 500 && api.status() != 501) {
      LOG.log(Level.WARNING, "request " + requestId + " on " + route + ": " + api.getMessage(), t);
    } else {
      LOG.log(Level.DEBUG, () -> "request " + requestId + " on " + route + ": " + api.status() + " " + api.type());
    }
    if (ex.responded()) {
      return false;
    }
    if (!ex.discardUnreadBody(MAX_DISCARDED_BODY)) {
      // Too much left to take: answer anyway and end the connection, which the client may see
      // as a reset before it reads the problem.
      LOG.log(Level.DEBUG, () -> "request " + requestId + ": refused body larger than " + MAX_DISCARDED_BODY + " bytes");
    }
    try {
      ex.sendProblem(api);
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.DEBUG, () -> "could not send problem for " + requestId + ": " + e);
    }
    return true;
  }

  static ApiException toApiException(Throwable t) {
    return switch (t) {
      case ApiException a -> a;
      case DecodingException d -> ApiException.badRequest(d.getMessage());
      case VerificationException v -> new ApiException(400, "verification-failed", "Verification failed", v.getMessage());
      case com.fasterxml.jackson.core.JsonProcessingException j ->
          ApiException.badRequest("invalid JSON: " + j.getOriginalMessage());
      default -> new ApiException(500, "internal", "Internal error",
          "the node failed to serve this request; it has been logged with the request id");
    };
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
